// mlagen harness: the two ceilings every timing is read against, measured on the device at hand.
//   copy:   device-to-device cudaMemcpyAsync of a large buffer; GB/s counts bytes read + written.
//   matmul: cuBLAS bf16 GEMM 8192^3 (fp32 accumulate) on random data; TFLOPS = 2 m n k / t.
// cuBLAS is loaded at run time with dlopen (no cuBLAS headers or libraries are needed to build):
// the few entry points are declared here with their enum constants written out.
#ifndef MLAGEN_HARNESS_CEILINGS_CUH
#define MLAGEN_HARNESS_CEILINGS_CUH

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <glob.h>

#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "mlagen/harness/common.h"
#include "mlagen/harness/problem.cuh"
#include "mlagen/harness/timing.cuh"

namespace mlagen_harness {

// ---- cuBLAS, by hand ---------------------------------------------------------------------------
namespace cublas {
using Handle = void*;  // cublasHandle_t
using Status = int;    // cublasStatus_t; 0 = CUBLAS_STATUS_SUCCESS
constexpr int kOpN = 0;              // CUBLAS_OP_N
constexpr int kR16BF = 14;           // CUDA_R_16BF (cudaDataType)
constexpr int kComputeF32 = 68;      // CUBLAS_COMPUTE_32F (cublasComputeType_t)
constexpr int kGemmDefault = -1;     // CUBLAS_GEMM_DEFAULT (cublasGemmAlgo_t)
using CreateFn = Status (*)(Handle*);                 // cublasCreate_v2
using DestroyFn = Status (*)(Handle);                 // cublasDestroy_v2
using SetStreamFn = Status (*)(Handle, cudaStream_t);  // cublasSetStream_v2
using GetVersionFn = Status (*)(Handle, int*);        // cublasGetVersion_v2
using GemmExFn = Status (*)(Handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* A,
                            int a_type, int lda, const void* B, int b_type, int ldb, const void* beta, void* C,
                            int c_type, int ldc, int compute_type, int algo);  // cublasGemmEx

struct Api {
  void* lib = nullptr;
  std::string path, error;
  CreateFn create = nullptr;
  DestroyFn destroy = nullptr;
  SetStreamFn set_stream = nullptr;
  GetVersionFn get_version = nullptr;
  GemmExFn gemm_ex = nullptr;
};

inline std::vector<std::string> candidates() {
  constexpr const char* kNames[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  std::vector<std::string> c(std::begin(kNames), std::end(kNames));
  std::vector<std::string> dirs;
  for (const char* var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* v = std::getenv(var)) dirs.push_back(std::string(v) + "/lib64");
  dirs.push_back("/usr/local/cuda/lib64");
  for (const std::string& d : dirs)
    for (const char* n : kNames) c.push_back(d + "/" + n);
  // PyTorch's pip wheels: nvidia/cublas/lib (CUDA 12) or nvidia/cu13/lib (CUDA 13), both under nvidia/*/lib.
  glob_t g{};
  if (glob("/opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib/libcublas.so.*", 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) c.push_back(g.gl_pathv[i]);
  globfree(&g);
  return c;
}

inline Api load() {
  Api api;
  std::string tried;
  for (const std::string& path : candidates()) {
    // A copy in a plain directory needs its libcublasLt loaded first (its RUNPATH may not say where).
    size_t slash = path.rfind('/');
    if (slash != std::string::npos) {
      std::string lt = path.substr(0, slash + 1) + "libcublasLt" + path.substr(path.find(".so", slash));
      dlopen(lt.c_str(), RTLD_NOW | RTLD_GLOBAL);
    }
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* err = dlerror();
      if (tried.size() < 1500) tried += (tried.empty() ? "" : "; ") + path + ": " + (err ? err : "?");
      continue;
    }
    api.lib = h;
    api.path = path;
    api.create = reinterpret_cast<CreateFn>(dlsym(h, "cublasCreate_v2"));
    api.destroy = reinterpret_cast<DestroyFn>(dlsym(h, "cublasDestroy_v2"));
    api.set_stream = reinterpret_cast<SetStreamFn>(dlsym(h, "cublasSetStream_v2"));
    api.get_version = reinterpret_cast<GetVersionFn>(dlsym(h, "cublasGetVersion_v2"));
    api.gemm_ex = reinterpret_cast<GemmExFn>(dlsym(h, "cublasGemmEx"));
    if (!api.create || !api.destroy || !api.set_stream || !api.gemm_ex) {
      if (tried.size() < 1500) tried += (tried.empty() ? "" : "; ") + path + ": lacks cublasCreate_v2/cublasDestroy_v2/cublasSetStream_v2/cublasGemmEx";
      dlclose(h);
      api.lib = nullptr;
      continue;
    }
    return api;
  }
  api.error = "no cuBLAS could be loaded (" + tried + ")";
  return api;
}
}  // namespace cublas

struct Ceilings {
  double copy_gbps = 0;
  size_t copy_bytes = 0;
  double matmul_tflops = NAN;  // NAN: not measured (see matmul_error)
  double matmul_us = NAN;
  int matmul_n = 8192;
  std::string matmul_error, cublas_path;
  int cublas_version = 0;

  JsonObject json() const {
    JsonObject o;
    o.num("copy_gbps", copy_gbps).integer("copy_bytes", static_cast<long long>(copy_bytes));
    o.num("matmul_tflops", matmul_tflops).num("matmul_us", matmul_us).integer("matmul_n", matmul_n);
    if (matmul_error.empty()) o.null("matmul_error");
    else o.str("matmul_error", matmul_error);
    if (cublas_path.empty()) o.null("cublas_path");
    else o.str("cublas_path", cublas_path);
    o.integer("cublas_version", cublas_version);
    return o;
  }
};

inline double measure_copy_gbps(cudaStream_t stream, size_t* bytes_out) {
  size_t free_b = 0, total_b = 0;
  MLAGEN_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  size_t bytes = std::min<size_t>(size_t{2} << 30, free_b / 4) & ~size_t{0xFFFF};
  *bytes_out = bytes;
  DeviceArray<uint16_t> src, dst;
  src.alloc(bytes / 2);
  dst.alloc(bytes / 2);
  fill_normal(MLAGEN_BF16, src.ptr, static_cast<int64_t>(bytes / 2), stream_key(7, 7), 1.0f, stream);
  MLAGEN_CUDA_CHECK(cudaMemsetAsync(dst.ptr, 0x3C, bytes, stream));
  auto copy = [&]() { MLAGEN_CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, bytes, cudaMemcpyDeviceToDevice, stream)); };
  for (int i = 0; i < 3; ++i) copy();
  const double us = median_us(stream, 20, copy);
  return 2.0 * static_cast<double>(bytes) / (us * 1e-6) / 1e9;
}

inline void measure_matmul(cudaStream_t stream, Ceilings& c) {
  cublas::Api api = cublas::load();
  if (!api.lib) {
    c.matmul_error = api.error;
    return;
  }
  c.cublas_path = api.path;
  cublas::Handle handle = nullptr;
  if (api.create(&handle) != 0 || !handle) {
    c.matmul_error = "cublasCreate_v2 failed";
    return;
  }
  if (api.get_version) api.get_version(handle, &c.cublas_version);
  api.set_stream(handle, stream);
  const int n = c.matmul_n;
  const int64_t elems = static_cast<int64_t>(n) * n;
  DeviceArray<uint16_t> a, b, out;
  a.alloc(static_cast<size_t>(elems));
  b.alloc(static_cast<size_t>(elems));
  out.alloc(static_cast<size_t>(elems));
  fill_normal(MLAGEN_BF16, a.ptr, elems, stream_key(11, 1), 1.0f, stream);
  fill_normal(MLAGEN_BF16, b.ptr, elems, stream_key(11, 2), 1.0f, stream);
  const float alpha = 1.0f, beta = 0.0f;
  int status = 0;
  auto gemm = [&]() {
    int st = api.gemm_ex(handle, cublas::kOpN, cublas::kOpN, n, n, n, &alpha, a.ptr, cublas::kR16BF, n, b.ptr,
                         cublas::kR16BF, n, &beta, out.ptr, cublas::kR16BF, n, cublas::kComputeF32,
                         cublas::kGemmDefault);
    if (st != 0 && status == 0) status = st;
  };
  for (int i = 0; i < 3; ++i) gemm();
  MLAGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (status == 0) {
    c.matmul_us = median_us(stream, 20, gemm);
    c.matmul_tflops = 2.0 * n * static_cast<double>(n) * n / (c.matmul_us * 1e-6) / 1e12;
  }
  if (status != 0) {
    c.matmul_error = "cublasGemmEx returned status " + std::to_string(status);
    c.matmul_tflops = NAN;
    c.matmul_us = NAN;
  }
  MLAGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  api.destroy(handle);
}

inline Ceilings measure_ceilings(cudaStream_t stream) {
  Ceilings c;
  c.copy_gbps = measure_copy_gbps(stream, &c.copy_bytes);
  measure_matmul(stream, c);
  return c;
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_CEILINGS_CUH
