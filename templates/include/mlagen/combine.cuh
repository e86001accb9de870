// Combine of split-KV partials. Hand-written, shared by all variants.
//
// For a request b cut into n = num_splits[b+1] - num_splits[b] > 1 pieces, each output row
// r = s * h_q + h merges the pieces' partials:
//   lse    = log(sum_i exp(lse_i))                 (natural log, like the final lse)
//   out    = sum_i exp(lse_i - lse) * o_i          (o_i: piece i's already-normalised output)
// lse_i = -inf (the piece saw no key) weighs 0; when every piece is -inf, out = 0 and lse = +inf.
// Requests with one piece were written by the split kernel directly; their CTAs return at once.
//
// Launch (mlagen_launch_combine): grid (batch, ceil(s_q*h_q / 8)), 256 threads, one warp per row,
// no dynamic shared memory, programmatic dependent launch after the split kernel.
#ifndef MLAGEN_COMBINE_CUH
#define MLAGEN_COMBINE_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "mlagen/abi.h"
#include "mlagen/ptx.cuh"
#include "mlagen/tile.cuh"

// Where the split partials live in the workspace (docs/CONTRACTS.md):
//   o_accum   float[batch + num_sm_parts][s_q*h_q][dv]
//   lse_accum float[batch + num_sm_parts][s_q*h_q]        (natural log)
struct mlagen_split_partials {
  float* o_accum;
  float* lse_accum;
};

__host__ __device__ inline int64_t mlagen_split_partials_bytes(int32_t batch, int32_t num_sm_parts, int64_t rows,
                                                               int32_t dv) {
  return (static_cast<int64_t>(batch) + num_sm_parts) * rows * (static_cast<int64_t>(dv) + 1) *
         static_cast<int64_t>(sizeof(float));
}

__host__ __device__ inline mlagen_split_partials mlagen_split_partials_in(void* workspace, int32_t batch,
                                                                          int32_t num_sm_parts, int64_t rows,
                                                                          int32_t dv) {
  float* o_accum = static_cast<float*>(workspace);
  return {o_accum, o_accum + (static_cast<int64_t>(batch) + num_sm_parts) * rows * dv};
}

namespace mlagen_combine {

constexpr int kRowsPerCta = 8;  // one warp per output row
constexpr int kThreads = kRowsPerCta * 32;
constexpr unsigned kFullMask = 0xffffffffu;

// What the kernel reads, resolved on the host from mlagen_decode_params.
struct Args {
  const int32_t* num_splits;  // [batch + 1]
  const float* o_accum;
  const float* lse_accum;
  void* out;
  int64_t out_stride[3];  // batch, seq, head (elements)
  float* lse;             // [batch, h_q, s_q]
  int32_t batch, s_q, h_q;
};

// Running log-sum-exp: max m and sum s of exp(x - m). An empty state is (-inf, 0).
struct LogSumExp {
  float m = -INFINITY;
  float s = 0.f;
  __device__ void add(float x) {
    if (x == -INFINITY) return;  // a piece that saw no key
    if (x > m) {
      s = s * expf(m - x) + 1.f;  // expf(-inf) = 0 covers the empty state
      m = x;
    } else {
      s += expf(x - m);
    }
  }
  __device__ void merge(float om, float os) {
    const float nm = fmaxf(m, om);
    if (nm == -INFINITY) return;
    s = (m == -INFINITY ? 0.f : s * expf(m - nm)) + (om == -INFINITY ? 0.f : os * expf(om - nm));
    m = nm;
  }
};

// Four results as 16-bit values: one 8-byte store when the row is 8-byte aligned, else four 2-byte stores.
template <typename OutT>
__device__ __forceinline__ void store4(OutT* dst, float4 v, bool vectorised) {
  const uint32_t lo = mlagen::pack2<OutT>(v.x, v.y), hi = mlagen::pack2<OutT>(v.z, v.w);
  if (vectorised) {
    *reinterpret_cast<uint2*>(dst) = make_uint2(lo, hi);
  } else {
    const OutT* l = reinterpret_cast<const OutT*>(&lo);
    const OutT* h = reinterpret_cast<const OutT*>(&hi);
    dst[0] = l[0], dst[1] = l[1], dst[2] = h[0], dst[3] = h[1];
  }
}

template <typename OutT> struct DtypeOf;
template <> struct DtypeOf<__nv_bfloat16> { static constexpr mlagen_dtype value = MLAGEN_BF16; };
template <> struct DtypeOf<__half> { static constexpr mlagen_dtype value = MLAGEN_FP16; };

}  // namespace mlagen_combine

// Lane l owns columns [4l + 128j, 4l + 128j + 4): 16-byte loads, a warp reads 512 contiguous bytes.
template <typename OutT, int DV>
__global__ void __launch_bounds__(mlagen_combine::kThreads)
mlagen_combine_kernel(const __grid_constant__ mlagen_combine::Args a) {
  using namespace mlagen_combine;
  static_assert(DV > 0 && DV % 4 == 0, "DV must be a positive multiple of 4 (float4 columns)");
  constexpr int kColsPerStep = 32 * 4;
  constexpr int kSteps = (DV + kColsPerStep - 1) / kColsPerStep;

  const int lane = threadIdx.x % 32;
  const int64_t b = blockIdx.x;
  const int64_t rows = static_cast<int64_t>(a.s_q) * a.h_q;
  const int64_t r = static_cast<int64_t>(blockIdx.y) * kRowsPerCta + threadIdx.x / 32;
  if (r >= rows) return;

  // The split kernel's writes are visible from here (a no-op without PDL); num_splits too: the
  // metadata kernel may be PDL-chained as well.
  mlagen::pdl_wait_primary();
  const int32_t first = a.num_splits[b];
  const int32_t count = a.num_splits[b + 1] - first;
  if (count <= 1) return;

  // Pass 1: lse of the row over all pieces, any number of them (lanes stride, then merge).
  LogSumExp acc_lse;
  for (int32_t i = lane; i < count; i += 32) acc_lse.add(a.lse_accum[(first + static_cast<int64_t>(i)) * rows + r]);
#pragma unroll
  for (int offset = 16; offset >= 1; offset /= 2) {
    const float om = __shfl_xor_sync(kFullMask, acc_lse.m, offset);
    const float os = __shfl_xor_sync(kFullMask, acc_lse.s, offset);
    acc_lse.merge(om, os);
  }
  const bool saw_key = acc_lse.m != -INFINITY;
  const float row_lse = saw_key ? acc_lse.m + logf(acc_lse.s) : INFINITY;

  // Pass 2: weighted sum of the partial rows, 32 pieces per round (lane i holds piece i's weight).
  float4 acc[kSteps];
#pragma unroll
  for (int j = 0; j < kSteps; ++j) acc[j] = make_float4(0.f, 0.f, 0.f, 0.f);
  if (saw_key) {
    for (int32_t round = 0; round < count; round += 32) {
      const int32_t mine = round + lane;
      float weight = 0.f;
      if (mine < count) {
        const float l = a.lse_accum[(first + static_cast<int64_t>(mine)) * rows + r];
        weight = l == -INFINITY ? 0.f : expf(l - row_lse);
      }
      const int in_round = min(32, count - round);
#pragma unroll 4
      for (int k = 0; k < in_round; ++k) {
        const float w = __shfl_sync(kFullMask, weight, k);
        if (w == 0.f) continue;  // warp-uniform: skip the loads of pieces that saw no key
        const float* src = a.o_accum + ((first + static_cast<int64_t>(round + k)) * rows + r) * DV;
#pragma unroll
        for (int j = 0; j < kSteps; ++j) {
          const int col = lane * 4 + j * kColsPerStep;
          if (col < DV) {
            const float4 v = __ldcs(reinterpret_cast<const float4*>(src + col));  // read once: stream
            acc[j].x += w * v.x, acc[j].y += w * v.y, acc[j].z += w * v.z, acc[j].w += w * v.w;
          }
        }
      }
    }
  }

  const int64_t s = r / a.h_q, h = r % a.h_q;
  OutT* dst = static_cast<OutT*>(a.out) + b * a.out_stride[0] + s * a.out_stride[1] + h * a.out_stride[2];
  const bool vectorised = (reinterpret_cast<uintptr_t>(dst) % (4 * sizeof(OutT))) == 0;
#pragma unroll
  for (int j = 0; j < kSteps; ++j) {
    const int col = lane * 4 + j * kColsPerStep;
    if (col < DV) store4<OutT>(dst + col, acc[j], vectorised);
  }
  if (lane == 0) a.lse[(b * a.h_q + h) * a.s_q + s] = row_lse;
}

// Launches the combine on `stream` as a programmatic dependent of the kernel before it (the split
// kernel). Returns cudaErrorInvalidValue for parameters this instantiation cannot serve.
template <typename OutT, int DV>
inline cudaError_t mlagen_launch_combine(const mlagen_decode_params& p, cudaStream_t stream) {
  using namespace mlagen_combine;
  const int64_t rows = static_cast<int64_t>(p.s_q) * p.h_q;
  const int64_t row_blocks = (rows + kRowsPerCta - 1) / kRowsPerCta;
  if (p.dv != DV || p.out_dtype != DtypeOf<OutT>::value || p.batch < 1 || rows < 1 || row_blocks > 65535 ||
      p.num_sm_parts < 1 || p.num_splits == nullptr || p.num_splits_len != p.batch + 1 || p.out == nullptr ||
      p.lse == nullptr || p.workspace == nullptr || reinterpret_cast<uintptr_t>(p.workspace) % 16 != 0 ||
      static_cast<int64_t>(p.workspace_bytes) < mlagen_split_partials_bytes(p.batch, p.num_sm_parts, rows, DV))
    return cudaErrorInvalidValue;

  const mlagen_split_partials partials = mlagen_split_partials_in(p.workspace, p.batch, p.num_sm_parts, rows, DV);
  Args args{};
  args.num_splits = p.num_splits;
  args.o_accum = partials.o_accum;
  args.lse_accum = partials.lse_accum;
  args.out = p.out;
  for (int i = 0; i < 3; ++i) args.out_stride[i] = p.out_stride[i];
  args.lse = p.lse;
  args.batch = p.batch;
  args.s_q = p.s_q;
  args.h_q = p.h_q;

  // The batch goes on x (up to 2^31 - 1 CTAs); y holds the row blocks.
  cudaLaunchAttribute pdl[1];
  pdl[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  pdl[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(static_cast<unsigned>(p.batch), static_cast<unsigned>(row_blocks), 1);
  config.blockDim = dim3(kThreads, 1, 1);
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  config.attrs = pdl;
  config.numAttrs = 1;
  return cudaLaunchKernelEx(&config, mlagen_combine_kernel<OutT, DV>, args);
}

#endif  // MLAGEN_COMBINE_CUH
