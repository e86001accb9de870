// mlagen harness: exit codes, the library table, and the fatal-error path.
// Every CUDA call goes through MLAGEN_CUDA_CHECK: on failure the harness prints one JSON object
// (status "cuda_error", the call, file:line and the case being run) and exits with code 4.
#ifndef MLAGEN_HARNESS_COMMON_H
#define MLAGEN_HARNESS_COMMON_H

#include <cuda_runtime.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mlagen/abi.h"
#include "mlagen/harness/json.h"

namespace mlagen_harness {

enum ExitCode : int {
  kExitRan = 0,      // the JSON says pass or fail
  kExitBadArgs = 2,  // a flag or value the harness does not accept
  kExitNoGpu = 3,    // no CUDA device, or device 0 is not compute capability 9.0
  kExitCuda = 4,     // a CUDA call failed (the JSON holds the message)
};

/** The entry points of one generated library (declared by its mlagen.h). */
struct Library {
  const char* (*variant_id)(void);
  const char* (*last_error)(void);
  int32_t (*num_sm_parts)(int32_t num_sms, int32_t s_q, int32_t h_q, int32_t h_kv);
  size_t (*workspace_bytes)(int32_t batch, int32_t s_q, int32_t h_q, int32_t h_kv, int32_t num_sm_parts);
  mlagen_status (*get_metadata)(const mlagen_sched_params*);
  mlagen_status (*decode)(const mlagen_decode_params*);
};

/** What a fatal error echoes so that the failing case can be reproduced from the JSON alone. */
struct RunContext {
  std::string mode = "unknown";
  std::string variant;
  JsonObject case_info;  // shapes and seed, filled in once known
  JsonObject device;     // filled in once the device is queried
};

inline RunContext& context() {
  static RunContext c;
  return c;
}

inline const char* status_name(mlagen_status s) {
  switch (s) {
    case MLAGEN_OK: return "ok";
    case MLAGEN_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case MLAGEN_ERR_UNSUPPORTED: return "unsupported";
    case MLAGEN_ERR_CUDA: return "cuda_error";
  }
  return "library_error";
}

/** Prints the one JSON object of a run that could not finish, then exits with `code`. */
[[noreturn]] inline void fatal(int code, const std::string& status, const std::string& message,
                               const std::string& where = std::string()) {
  RunContext& c = context();
  JsonObject o;
  o.str("harness", "mlagen").str("mode", c.mode).str("variant", c.variant);
  o.str("status", status).boolean("pass", false).str("error", message);
  if (!where.empty()) o.str("where", where);
  if (!c.device.empty()) o.obj("device", c.device);
  if (!c.case_info.empty()) o.obj("case", c.case_info);
  std::fflush(stderr);
  std::printf("%s\n", o.text().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "mlagen harness: %s: %s%s%s\n", status.c_str(), message.c_str(),
               where.empty() ? "" : " at ", where.c_str());
  std::exit(code);
}

[[noreturn]] inline void cuda_fail(cudaError_t err, const char* call, const char* file, int line) {
  std::string msg = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err) + " in " + call;
  fatal(kExitCuda, "cuda_error", msg, std::string(file) + ":" + std::to_string(line));
}

inline void log_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline void log_line(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("[harness] ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

}  // namespace mlagen_harness

#define MLAGEN_CUDA_CHECK(expr)                                                    \
  do {                                                                             \
    cudaError_t mlagen_err_ = (expr);                                              \
    if (mlagen_err_ != cudaSuccess)                                                \
      ::mlagen_harness::cuda_fail(mlagen_err_, #expr, __FILE__, __LINE__);         \
  } while (0)

/** After every launch of the harness's own kernels: `what` names the kernel (a string literal). */
#define MLAGEN_LAUNCH_CHECK(what)                                                  \
  do {                                                                             \
    cudaError_t mlagen_err_ = cudaGetLastError();                                  \
    if (mlagen_err_ != cudaSuccess)                                                \
      ::mlagen_harness::cuda_fail(mlagen_err_, "launch of " what, __FILE__, __LINE__); \
  } while (0)

#endif  // MLAGEN_HARNESS_COMMON_H
