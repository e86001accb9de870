// mlagen harness: timing with CUDA events over CUDA-graph replays, L2 cold.
//
// One replay = [flush L2] -> event -> graph of k decode calls -> event; time per call = elapsed / k.
// The flush (a memset of 2x the L2 size, outside the two events) leaves no input in L2; inside the
// graph the k calls rotate among n input sets whose bytes together exceed 2x L2, so every call
// starts cold as well (n = 1 once one set alone is that large). The median over replays is the
// figure; min and p90 show the spread. A graph of one call (the FlashMLA anchor's way: one timed
// call per flush) is reported beside it as us_single.
#ifndef MLAGEN_HARNESS_TIMING_CUH
#define MLAGEN_HARNESS_TIMING_CUH

#include <cuda_runtime.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "mlagen/harness/common.h"
#include "mlagen/harness/json.h"
#include "mlagen/harness/problem.cuh"

namespace mlagen_harness {

struct Stats {
  double median = 0, min = 0, p90 = 0, mean = 0;
};

inline Stats summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.min = v.front();
  s.p90 = v[std::min(n - 1, static_cast<size_t>(0.9 * static_cast<double>(n - 1) + 0.5))];
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(n);
  return s;
}

/** Evicts L2 by writing a buffer twice its size. */
class L2Flusher {
 public:
  void init(size_t l2_bytes) {
    bytes_ = std::max<size_t>(2 * l2_bytes, size_t{64} << 20);
    buf_.alloc(bytes_);
  }
  void flush(cudaStream_t stream, int iteration) {
    MLAGEN_CUDA_CHECK(cudaMemsetAsync(buf_.ptr, iteration & 0xFF, bytes_, stream));
  }
  size_t bytes() const { return bytes_; }

 private:
  DeviceArray<uint8_t> buf_;
  size_t bytes_ = 0;
};

/** Calls `enqueue(i)` for i in [0, calls) under stream capture. On success *exec holds the graph. */
struct GraphCapture {
  cudaGraphExec_t exec = nullptr;
  std::string error;            // why no graph could be made (then time plain launches)
  mlagen_status status = MLAGEN_OK;  // first non-OK status the library returned while captured
};

inline GraphCapture capture_graph(cudaStream_t stream, int calls, const std::function<mlagen_status(int)>& enqueue) {
  GraphCapture g;
  cudaError_t e = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  if (e != cudaSuccess) {
    g.error = std::string("cudaStreamBeginCapture: ") + cudaGetErrorString(e);
    (void)cudaGetLastError();
    return g;
  }
  for (int i = 0; i < calls && g.status == MLAGEN_OK; ++i) g.status = enqueue(i);
  cudaGraph_t graph = nullptr;
  e = cudaStreamEndCapture(stream, &graph);
  if (g.status != MLAGEN_OK) {
    if (graph) cudaGraphDestroy(graph);
    (void)cudaGetLastError();
    g.error = std::string("the library returned ") + status_name(g.status) + " while captured";
    return g;
  }
  if (e != cudaSuccess || graph == nullptr) {
    g.error = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(e);
    (void)cudaGetLastError();
    return g;
  }
  e = cudaGraphInstantiate(&g.exec, graph, 0);
  cudaGraphDestroy(graph);
  if (e != cudaSuccess) {
    g.exec = nullptr;
    g.error = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(e);
    (void)cudaGetLastError();
  }
  return g;
}

/**
 * `iters` timed replays (after `warmup` untimed ones) of `launch`, each after an L2 flush.
 * Returns microseconds per replay divided by `calls_per_replay`.
 */
inline std::vector<double> time_replays(cudaStream_t stream, L2Flusher& flusher, int warmup, int iters,
                                        int calls_per_replay, const std::function<void()>& launch) {
  for (int i = 0; i < warmup; ++i) {
    flusher.flush(stream, i);
    launch();
  }
  MLAGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<cudaEvent_t> start(static_cast<size_t>(iters)), stop(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    MLAGEN_CUDA_CHECK(cudaEventCreate(&start[i]));
    MLAGEN_CUDA_CHECK(cudaEventCreate(&stop[i]));
  }
  for (int i = 0; i < iters; ++i) {
    flusher.flush(stream, warmup + i);
    MLAGEN_CUDA_CHECK(cudaEventRecord(start[i], stream));
    launch();
    MLAGEN_CUDA_CHECK(cudaEventRecord(stop[i], stream));
  }
  MLAGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> us(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    float ms = 0;
    MLAGEN_CUDA_CHECK(cudaEventElapsedTime(&ms, start[i], stop[i]));
    us[i] = 1000.0 * ms / calls_per_replay;
    MLAGEN_CUDA_CHECK(cudaEventDestroy(start[i]));
    MLAGEN_CUDA_CHECK(cudaEventDestroy(stop[i]));
  }
  return us;
}

/** Median time of `fn` (one enqueue) in microseconds, no flush: for short side measurements. */
inline double median_us(cudaStream_t stream, int reps, const std::function<void()>& fn) {
  cudaEvent_t e0, e1;
  MLAGEN_CUDA_CHECK(cudaEventCreate(&e0));
  MLAGEN_CUDA_CHECK(cudaEventCreate(&e1));
  std::vector<double> us;
  for (int i = 0; i < reps; ++i) {
    MLAGEN_CUDA_CHECK(cudaEventRecord(e0, stream));
    fn();
    MLAGEN_CUDA_CHECK(cudaEventRecord(e1, stream));
    MLAGEN_CUDA_CHECK(cudaEventSynchronize(e1));
    float ms = 0;
    MLAGEN_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
    us.push_back(1000.0 * ms);
  }
  MLAGEN_CUDA_CHECK(cudaEventDestroy(e0));
  MLAGEN_CUDA_CHECK(cudaEventDestroy(e1));
  return summarize(us).median;
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_TIMING_CUH
