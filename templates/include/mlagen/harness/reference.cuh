// mlagen harness: the two references.
//
// GPU reference (float32): one block per output row (request b, query token s, head h), 8 warps.
// Each warp walks every 8th key of the row, a key at a time: the 32 lanes load the 576-element
// cache row through the block table (lane l holds columns l, l+32, ...), reduce q.k across the
// warp, and fold the key into a running (max, sum, output) triple (online softmax). The eight
// partial triples are merged at the end. No tiling, no tensor cores, nothing clever.
//
// CPU reference (float64): the textbook two-pass softmax, run on small problems, to validate the
// GPU reference itself.
#ifndef MLAGEN_HARNESS_REFERENCE_CUH
#define MLAGEN_HARNESS_REFERENCE_CUH

#ifdef __USE_FAST_MATH__
#error "the mlagen harness must be compiled without --use_fast_math: its reference needs accurate expf/logf"
#endif

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "mlagen/harness/problem.cuh"
#include "mlagen/harness/timing.cuh"

namespace mlagen_harness {

struct RefParams {
  const uint16_t* q;
  const uint8_t* kv;  // 16-bit elements in q's dtype, or e4m3 (kv_fp8) worth kv_scale each
  int kv_fp8;
  float kv_scale;
  const int32_t* block_table;
  const int32_t* seqlens;
  int64_t q_stride[3], kv_stride[3], bt_stride;
  int b, s_q, h_q, h_kv, page_size, causal;
  float scale;
  float* out;  // [b][s_q][h_q][dv] contiguous
  float* lse;  // [b][h_q][s_q] contiguous
  int* saw_nan;  // set if a key the row owns holds NaN (a harness bug: it would mean a wrong page)
};

constexpr int kRefWarps = 8;
constexpr int kRefQPerLane = kHeadDim / 32;   // 18
constexpr int kRefVPerLane = kValueDim / 32;  // 16
static_assert(kHeadDim % 32 == 0 && kValueDim % 32 == 0, "reference assumes d, dv multiples of 32");

template <int DT>
__global__ void __launch_bounds__(kRefWarps * 32) reference_attention_kernel(RefParams p) {
  const int64_t row = blockIdx.x;  // (bi * s_q + s) * h_q + h
  const int h = static_cast<int>(row % p.h_q);
  const int s = static_cast<int>((row / p.h_q) % p.s_q);
  const int bi = static_cast<int>(row / (static_cast<int64_t>(p.h_q) * p.s_q));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int kv_head = h / (p.h_q / p.h_kv);

  const int seqlen = p.seqlens[bi];
  int n_keys = seqlen;
  if (p.causal) n_keys = min(seqlen, seqlen - p.s_q + s + 1);
  n_keys = max(n_keys, 0);

  float q[kRefQPerLane];
  const uint16_t* q_row = p.q + bi * p.q_stride[0] + s * p.q_stride[1] + h * p.q_stride[2];
#pragma unroll
  for (int i = 0; i < kRefQPerLane; ++i) q[i] = raw_to_float<DT>(q_row[lane + 32 * i]);

  float m = -INFINITY, l = 0.f, acc[kRefVPerLane];
#pragma unroll
  for (int i = 0; i < kRefVPerLane; ++i) acc[i] = 0.f;

  for (int j = warp; j < n_keys; j += kRefWarps) {
    const int64_t page = p.block_table[bi * p.bt_stride + j / p.page_size];
    const int64_t k_row = page * p.kv_stride[0] + static_cast<int64_t>(j % p.page_size) * p.kv_stride[1] +
                          static_cast<int64_t>(kv_head) * p.kv_stride[2];  // in elements
    float k[kRefQPerLane];
#pragma unroll
    for (int i = 0; i < kRefQPerLane; ++i)
      k[i] = p.kv_fp8 ? p.kv_scale * e4m3_to_float(p.kv[k_row + lane + 32 * i])
                      : raw_to_float<DT>(reinterpret_cast<const uint16_t*>(p.kv)[k_row + lane + 32 * i]);
    float dot = 0.f;
#pragma unroll
    for (int i = 0; i < kRefQPerLane; ++i) dot = fmaf(q[i], k[i], dot);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
    const float score = dot * p.scale;
    if (isnan(score) && lane == 0) atomicExch(p.saw_nan, 1);
    const float m_new = fmaxf(m, score);
    const float alpha = expf(m - m_new);  // 0 while m is -inf
    const float w = expf(score - m_new);
    l = l * alpha + w;
#pragma unroll
    for (int i = 0; i < kRefVPerLane; ++i) acc[i] = acc[i] * alpha + w * k[i];  // V = first dv columns
    m = m_new;
  }

  __shared__ float s_m[kRefWarps], s_l[kRefWarps];
  __shared__ float s_acc[kRefWarps][kValueDim];
  if (lane == 0) {
    s_m[warp] = m;
    s_l[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < kRefVPerLane; ++i) s_acc[warp][lane + 32 * i] = acc[i];
  __syncthreads();

  float* out_row = p.out + row * kValueDim;
  float* lse_out = p.lse + (static_cast<int64_t>(bi) * p.h_q + h) * p.s_q + s;
  if (n_keys == 0) {
    for (int c = threadIdx.x; c < kValueDim; c += blockDim.x) out_row[c] = 0.f;
    if (threadIdx.x == 0) *lse_out = INFINITY;
    return;
  }
  float big = -INFINITY;
  for (int w = 0; w < kRefWarps; ++w) big = fmaxf(big, s_m[w]);
  float sum = 0.f;
  float scale_w[kRefWarps];
  for (int w = 0; w < kRefWarps; ++w) {
    scale_w[w] = expf(s_m[w] - big);  // 0 for a warp that saw no key
    sum += s_l[w] * scale_w[w];
  }
  for (int c = threadIdx.x; c < kValueDim; c += blockDim.x) {
    float o = 0.f;
    for (int w = 0; w < kRefWarps; ++w) o += s_acc[w][c] * scale_w[w];
    out_row[c] = o / sum;
  }
  if (threadIdx.x == 0) *lse_out = big + logf(sum);
}

/** The GPU reference's results: float out [rows][dv] and lse [b][h_q][s_q]. */
struct GpuReference {
  DeviceArray<float> out, lse;
  DeviceArray<int> saw_nan;
  double ms = 0;
  bool nan_seen = false;
};

inline void run_gpu_reference(const Problem& p, const DeviceTables& t, const InputSet& in, GpuReference& ref,
                              cudaStream_t stream) {
  ref.out.alloc(static_cast<size_t>(p.out_elems()));
  ref.lse.alloc(static_cast<size_t>(p.lse_elems()));
  ref.saw_nan.alloc(1);
  MLAGEN_CUDA_CHECK(cudaMemsetAsync(ref.saw_nan.ptr, 0, sizeof(int), stream));
  if (p.rows() == 0) return;
  RefParams rp{};
  rp.q = in.q.ptr;
  rp.kv = in.kv.ptr;
  rp.kv_fp8 = p.kv_dtype == MLAGEN_FP8_E4M3;
  rp.kv_scale = p.kv_scale;
  rp.block_table = t.block_table.ptr;
  rp.seqlens = t.seqlens.ptr;
  for (int i = 0; i < 3; ++i) {
    rp.q_stride[i] = p.q_stride[i];
    rp.kv_stride[i] = p.kv_stride[i];
  }
  rp.bt_stride = p.max_pages;
  rp.b = p.b;
  rp.s_q = p.s_q;
  rp.h_q = p.h_q;
  rp.h_kv = p.h_kv;
  rp.page_size = p.page_size;
  rp.causal = p.causal;
  rp.scale = p.softmax_scale;
  rp.out = ref.out.ptr;
  rp.lse = ref.lse.ptr;
  rp.saw_nan = ref.saw_nan.ptr;
  const unsigned grid = static_cast<unsigned>(p.rows());
  ref.ms = median_us(stream, 1, [&] {
             if (p.dtype == MLAGEN_BF16) reference_attention_kernel<MLAGEN_BF16><<<grid, kRefWarps * 32, 0, stream>>>(rp);
             else reference_attention_kernel<MLAGEN_FP16><<<grid, kRefWarps * 32, 0, stream>>>(rp);
             MLAGEN_LAUNCH_CHECK("reference_attention_kernel");
           }) / 1000.0;
  int flag = 0;
  MLAGEN_CUDA_CHECK(cudaMemcpy(&flag, ref.saw_nan.ptr, sizeof(int), cudaMemcpyDeviceToHost));
  ref.nan_seen = flag != 0;
}

// ---- CPU reference --------------------------------------------------------------------------------

/** Rows x keys under which the CPU reference runs by default (about a second on a few cores). */
constexpr double kCpuRefAutoLimit = 8.0e6;

inline double cpu_ref_work(const Problem& p) {
  double work = 0;
  for (int bi = 0; bi < p.b; ++bi)
    for (int s = 0; s < p.s_q; ++s) work += static_cast<double>(p.h_q) * p.keys_seen(bi, s);
  return work;
}

/** Host copies of q and of the live cache pages only (the cache itself may be many GB). */
struct HostInputs {
  std::vector<uint16_t> q;
  std::vector<uint8_t> pages;         // live pages (kv_elem_bytes() per element), in order of first use
  std::vector<int64_t> local_of_phys;  // physical page -> index into `pages`, -1 if not copied
};

inline HostInputs download_inputs(const Problem& p, const InputSet& in) {
  HostInputs h;
  h.q = in.q.download(static_cast<size_t>(p.q_elems()));
  const size_t page_bytes = static_cast<size_t>(p.kv_stride[0]) * p.kv_elem_bytes();
  h.local_of_phys.assign(static_cast<size_t>(p.num_pages), -1);
  h.pages.resize(static_cast<size_t>(p.live_pages) * page_bytes);
  int64_t next = 0;
  for (int bi = 0; bi < p.b; ++bi) {
    for (int32_t i = 0; i < p.live_pages_of[bi]; ++i) {
      const int32_t phys = p.block_table[static_cast<size_t>(bi) * p.max_pages + i];
      if (h.local_of_phys[phys] >= 0) continue;
      h.local_of_phys[phys] = next;
      MLAGEN_CUDA_CHECK(cudaMemcpy(h.pages.data() + next * page_bytes, in.kv.ptr + int64_t{phys} * page_bytes, page_bytes,
                                   cudaMemcpyDeviceToHost));
      ++next;
    }
  }
  return h;
}

/** float64 out [rows][dv] and lse [b][h_q][s_q]. */
inline void run_cpu_reference(const Problem& p, const HostInputs& host, std::vector<double>& out,
                              std::vector<double>& lse) {
  out.assign(static_cast<size_t>(p.out_elems()), 0.0);
  lse.assign(static_cast<size_t>(p.lse_elems()), 0.0);
  std::vector<double> decode(65536), decode_kv(65536);
  for (uint32_t u = 0; u < 65536; ++u) decode[u] = host_raw_to_float(p.dtype, static_cast<uint16_t>(u));
  const bool kv_fp8 = p.kv_dtype == MLAGEN_FP8_E4M3;
  if (kv_fp8) for (uint32_t u = 0; u < 256; ++u) decode_kv[u] = static_cast<double>(p.kv_scale) * e4m3_to_float(static_cast<uint8_t>(u));
  else decode_kv = decode;
  // Element c of a cache row (an element pointer into host.pages).
  auto kv_at = [&](int64_t elem) {
    return kv_fp8 ? decode_kv[host.pages[elem]] : decode_kv[reinterpret_cast<const uint16_t*>(host.pages.data())[elem]];
  };
  const double scale = static_cast<double>(p.softmax_scale);
  const int64_t rows = p.rows();
  auto work = [&](int64_t first, int64_t last) {
    std::vector<double> scores;
    std::vector<double> acc(static_cast<size_t>(p.dv));
    for (int64_t row = first; row < last; ++row) {
      const int h = static_cast<int>(row % p.h_q);
      const int s = static_cast<int>((row / p.h_q) % p.s_q);
      const int bi = static_cast<int>(row / (static_cast<int64_t>(p.h_q) * p.s_q));
      const int kv_head = h / (p.h_q / p.h_kv);
      const int n = p.keys_seen(bi, s);
      double* o = out.data() + row * p.dv;
      double& l_out = lse[(static_cast<size_t>(bi) * p.h_q + h) * p.s_q + s];
      if (n == 0) {
        l_out = std::numeric_limits<double>::infinity();
        continue;
      }
      const uint16_t* q = host.q.data() + bi * p.q_stride[0] + s * p.q_stride[1] + h * p.q_stride[2];
      auto key_row = [&](int j) {  // the row's first element, as an element index into host.pages
        const int32_t phys = p.block_table[static_cast<size_t>(bi) * p.max_pages + j / p.page_size];
        return host.local_of_phys[phys] * p.kv_stride[0] + static_cast<int64_t>(j % p.page_size) * p.kv_stride[1] +
               static_cast<int64_t>(kv_head) * p.kv_stride[2];
      };
      scores.resize(static_cast<size_t>(n));
      double big = -std::numeric_limits<double>::infinity();
      for (int j = 0; j < n; ++j) {
        const int64_t k = key_row(j);
        double dot = 0;
        for (int c = 0; c < p.d; ++c) dot += decode[q[c]] * kv_at(k + c);
        scores[j] = dot * scale;
        big = std::max(big, scores[j]);
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      double sum = 0;
      for (int j = 0; j < n; ++j) {
        const double w = std::exp(scores[j] - big);
        sum += w;
        const int64_t v = key_row(j);
        for (int c = 0; c < p.dv; ++c) acc[c] += w * kv_at(v + c);
      }
      for (int c = 0; c < p.dv; ++c) o[c] = acc[c] / sum;
      l_out = big + std::log(sum);
    }
  };
  unsigned threads = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  threads = static_cast<unsigned>(std::min<int64_t>(threads, std::max<int64_t>(1, rows)));
  std::vector<std::thread> pool;
  const int64_t chunk = (rows + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t) {
    const int64_t first = t * chunk, last = std::min(rows, first + chunk);
    if (first < last) pool.emplace_back(work, first, last);
  }
  for (auto& th : pool) th.join();
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_REFERENCE_CUH
