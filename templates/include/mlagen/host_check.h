// Host-side launch validation: every bad input gets a status and a message naming the field,
// the value and the limit, and nothing is launched.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "mlagen/abi.h"

namespace mlagen {
namespace host {

inline std::string& last_error_slot() {
  thread_local std::string message;
  return message;
}

inline const char* last_error() { return last_error_slot().c_str(); }

inline mlagen_status fail(mlagen_status status, const std::string& message) {
  last_error_slot() = message;
  return status;
}

inline mlagen_status cuda_fail(const std::string& what, cudaError_t e) {
  return fail(MLAGEN_ERR_CUDA, what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

inline const char* dtype_name(mlagen_dtype t) {
  switch (t) {
    case MLAGEN_BF16: return "bf16";
    case MLAGEN_FP16: return "fp16";
    case MLAGEN_FP32: return "fp32";
    case MLAGEN_FP8_E4M3: return "fp8_e4m3";
  }
  return "unknown";
}

/** Collects every problem of one call; status() is the first failure's kind, the message lists them all. */
class Validator {
 public:
  explicit Validator(const char* fn) : fn_(fn) {}

  mlagen_status fail(const std::string& field, const std::string& detail,
                     mlagen_status kind = MLAGEN_ERR_INVALID_ARGUMENT) {
    message_ += (message_.empty() ? std::string(fn_) + ": " : std::string("; ")) + field + ": " + detail;
    if (status_ == MLAGEN_OK) status_ = kind;
    return host::fail(status_, message_);
  }

  void range(const char* field, int64_t value, int64_t lo, int64_t hi) {
    if (value < lo || value > hi)
      fail(field, std::to_string(value) + " outside " + std::to_string(lo) + ".." + std::to_string(hi),
           lo == hi ? MLAGEN_ERR_UNSUPPORTED : MLAGEN_ERR_INVALID_ARGUMENT);
  }

  /** A value this library was generated for: anything else is unsupported here, not invalid in general. */
  void equal(const char* field, int64_t value, int64_t expected) {
    if (value != expected)
      fail(field, std::to_string(value) + " != " + std::to_string(expected) + " (this library's variant)",
           MLAGEN_ERR_UNSUPPORTED);
  }

  void dtype(const char* field, mlagen_dtype value, mlagen_dtype expected) {
    if (value != expected)
      fail(field, std::string(dtype_name(value)) + " != " + dtype_name(expected) + " (this library's variant)",
           MLAGEN_ERR_UNSUPPORTED);
  }

  void not_null(const char* field, const void* p) {
    if (!p) fail(field, "is NULL");
  }

  void aligned(const char* field, const void* p, uintptr_t bytes) {
    if (p && reinterpret_cast<uintptr_t>(p) % bytes != 0) fail(field, "address is not " + std::to_string(bytes) + "-byte aligned");
  }

  void stride_multiple(const char* field, int index, int64_t stride, int64_t multiple) {
    if (stride <= 0 || stride % multiple != 0)
      fail(std::string(field) + "[" + std::to_string(index) + "]",
           std::to_string(stride) + " must be a positive multiple of " + std::to_string(multiple) + " elements");
  }

  void at_least64(const char* field, int64_t value, int64_t minimum) {
    if (value < minimum) fail(field, std::to_string(value) + " < " + std::to_string(minimum));
  }

  mlagen_status status() const { return status_; }

 private:
  const char* fn_;
  std::string message_;
  mlagen_status status_ = MLAGEN_OK;
};

}  // namespace host
}  // namespace mlagen
