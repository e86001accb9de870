// Combine of split-KV partials. Hand-written, shared by all variants.
//
// For a request b cut into n = num_splits[b+1] - num_splits[b] > 1 pieces, each output row
// r = s * h_q + h merges the pieces' partials:
//   lse    = log(sum_i exp(lse_i))                 (natural log, like the final lse)
//   out    = sum_i exp(lse_i - lse) * o_i          (o_i: piece i's already-normalised output)
// lse_i = -inf (the piece saw no key) weighs 0; when every piece is -inf, out = 0 and lse = +inf.
// Requests with one piece were written by the split kernel directly; their CTAs return at once.
//
// Launch (mlagen_launch_combine): grid (batch, blocks of warp tasks), 256 threads. One warp per row, unless
// batch * s_q*h_q is small: then one warp per 128 columns of a row (STEPS = 1), so a few long requests cut
// into many pieces still spread their reads over many warps (for large batches more, smaller CTAs only cost
// scheduling: measured, docs/perf/kernel-versions.md); and when each request is expected in 8 or more pieces,
// a whole CTA per 128 columns of a row, its 8 warps sharing the pieces. 4 KB of static shared memory in that
// last form, none otherwise; programmatic dependent launch after the split kernel.
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

constexpr int kWarpsPerCta = 8;
constexpr int kThreads = kWarpsPerCta * 32;
constexpr int kColsPerStep = 32 * 4;  // a float4 per lane
/** 128-column steps of a row. */
__host__ __device__ constexpr int steps_per_row(int dv) { return (dv + kColsPerStep - 1) / kColsPerStep; }
/** Up to this many output rows in the whole batch, each row is split over steps_per_row warps. */
constexpr int64_t kSplitColumnsUpToRows = 512;
/** With split columns, at least this many pieces per request expected (num_sm_parts / batch) and at most
 *  kPieceCtasMax tasks in all, every warp of a CTA takes the same (row, columns) task and a share of its pieces:
 *  a request cut into ~132 pieces is walked in ~17 loads per warp instead of 132. More CTAs than that cost more
 *  to schedule than they save (measured, docs/perf/kernel-versions.md, session 7). */
constexpr int32_t kPieceWarpsFromPieces = 8;
constexpr int64_t kPieceCtasMax = 1024;
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

// Task t of request b: row t / kChunks, its (t % kChunks)-th share of the row's 128-column steps (STEPS of
// them); lane l owns columns 4l.. of each step (16-byte loads, 512 contiguous bytes per step). PIECE_WARPS = 1:
// each warp of the CTA does a task of its own. PIECE_WARPS = kWarpsPerCta: the CTA does one task, warp w takes
// pieces w, w + PIECE_WARPS, ..., and the warps' sums meet in shared memory.
template <typename OutT, int DV, int STEPS, int PIECE_WARPS>
__global__ void __launch_bounds__(mlagen_combine::kThreads)
mlagen_combine_kernel(const __grid_constant__ mlagen_combine::Args a) {
  using namespace mlagen_combine;
  static_assert(DV > 0 && DV % 4 == 0, "DV must be a positive multiple of 4 (float4 columns)");
  static_assert(STEPS >= 1 && steps_per_row(DV) % STEPS == 0, "STEPS must divide the row's 128-column steps");
  static_assert(PIECE_WARPS == 1 || PIECE_WARPS == kWarpsPerCta, "pieces are shared by no warps or by the whole CTA");
  constexpr int kChunks = steps_per_row(DV) / STEPS;
  // Pieces in flight per lane: fewer columns per warp leave room for more pieces.
  constexpr int kPieceUnroll = STEPS == 1 ? 8 : 4;

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t b = blockIdx.x;
  const int64_t rows = static_cast<int64_t>(a.s_q) * a.h_q;
  const int64_t task = PIECE_WARPS == 1 ? static_cast<int64_t>(blockIdx.y) * kWarpsPerCta + warp : blockIdx.y;
  const int64_t r = task / kChunks;
  const int first_col = static_cast<int>(task % kChunks) * STEPS * kColsPerStep + lane * 4;
  if (r >= rows) return;  // with PIECE_WARPS > 1 the whole CTA returns: the barrier below stays uniform

  // num_splits is the metadata kernel's, complete before the split kernel began (that one is launched
  // without PDL, so it waits for all earlier work): a request that was not split returns at once,
  // while the split kernel may still run, and costs the call nothing at its end.
  const int32_t first = a.num_splits[b];
  const int32_t count = a.num_splits[b + 1] - first;
  if (count <= 1) return;
  // The split kernel's partials are visible from here (a no-op without PDL).
  mlagen::pdl_wait_primary();

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

  // Pass 2: weighted sum of this warp's pieces (piece_of(k) for k < my_count), 32 per round (lane i holds the
  // weight of the round's i-th). With PIECE_WARPS > 1 each warp has computed the row's lse above by itself (a few
  // loads), so no barrier is needed before this pass.
  const int32_t offset = PIECE_WARPS == 1 ? 0 : warp;
  const int32_t my_count = count > offset ? (count - offset + PIECE_WARPS - 1) / PIECE_WARPS : 0;
  const auto piece_of = [&](int32_t k) { return first + offset + static_cast<int64_t>(k) * PIECE_WARPS; };
  float4 acc[STEPS];
#pragma unroll
  for (int j = 0; j < STEPS; ++j) acc[j] = make_float4(0.f, 0.f, 0.f, 0.f);
  if (saw_key) {
    for (int32_t round = 0; round < my_count; round += 32) {
      const int32_t mine = round + lane;
      float weight = 0.f;
      if (mine < my_count) {
        const float l = a.lse_accum[piece_of(mine) * rows + r];
        weight = l == -INFINITY ? 0.f : expf(l - row_lse);
      }
      const int in_round = min(32, my_count - round);
#pragma unroll kPieceUnroll
      for (int k = 0; k < in_round; ++k) {
        const float w = __shfl_sync(kFullMask, weight, k);
        if (w == 0.f) continue;  // warp-uniform: skip the loads of pieces that saw no key
        const float* src = a.o_accum + (piece_of(round + k) * rows + r) * DV;
#pragma unroll
        for (int j = 0; j < STEPS; ++j) {
          const int col = first_col + j * kColsPerStep;
          if (col < DV) {
            const float4 v = __ldcs(reinterpret_cast<const float4*>(src + col));  // read once: stream
            acc[j].x += w * v.x, acc[j].y += w * v.y, acc[j].z += w * v.z, acc[j].w += w * v.w;
          }
        }
      }
    }
  }
  if constexpr (PIECE_WARPS > 1) {
    // The warps' sums meet in shared memory; warp 0 adds them (in warp order: the result does not depend on timing).
    __shared__ float4 sums[PIECE_WARPS][STEPS][32];
#pragma unroll
    for (int j = 0; j < STEPS; ++j) sums[warp][j][lane] = acc[j];
    __syncthreads();
    if (warp != 0) return;
#pragma unroll
    for (int j = 0; j < STEPS; ++j)
      for (int w = 1; w < PIECE_WARPS; ++w) {
        const float4 v = sums[w][j][lane];
        acc[j].x += v.x, acc[j].y += v.y, acc[j].z += v.z, acc[j].w += v.w;
      }
  }

  const int64_t s = r / a.h_q, h = r % a.h_q;
  OutT* dst = static_cast<OutT*>(a.out) + b * a.out_stride[0] + s * a.out_stride[1] + h * a.out_stride[2];
  const bool vectorised = (reinterpret_cast<uintptr_t>(dst) % (4 * sizeof(OutT))) == 0;
#pragma unroll
  for (int j = 0; j < STEPS; ++j) {
    const int col = first_col + j * kColsPerStep;
    if (col < DV) store4<OutT>(dst + col, acc[j], vectorised);
  }
  if (first_col == 0) a.lse[(b * a.h_q + h) * a.s_q + s] = row_lse;
}

namespace mlagen_combine {

// How the combine spreads its work (see the launch notes at the top): a warp per row, a warp per 128 columns
// of a row, or a CTA per 128 columns whose warps share the pieces.
enum class Form { kWarpPerRow, kWarpPerColumns, kCtaPerColumns };

constexpr Form form_for(int64_t batch, int64_t rows, int64_t num_sm_parts, int dv) {
  // Few requests cut into many pieces each: the schedule spreads a request over ~num_sm_parts / batch parts.
  return batch * rows > kSplitColumnsUpToRows ? Form::kWarpPerRow
         : num_sm_parts >= kPieceWarpsFromPieces * batch && rows * steps_per_row(dv) * batch <= kPieceCtasMax
             ? Form::kCtaPerColumns
             : Form::kWarpPerColumns;
}

}  // namespace mlagen_combine

// Launches the combine on `stream` as a programmatic dependent of the kernel before it (the split
// kernel). Returns cudaErrorInvalidValue for parameters this instantiation cannot serve.
template <typename OutT, int DV>
inline cudaError_t mlagen_launch_combine(const mlagen_decode_params& p, cudaStream_t stream) {
  using namespace mlagen_combine;
  const int64_t rows = static_cast<int64_t>(p.s_q) * p.h_q;
  const Form form = form_for(p.batch, rows, p.num_sm_parts, DV);
  const int64_t tasks = rows * (form == Form::kWarpPerRow ? 1 : steps_per_row(DV));
  const int64_t task_blocks = form == Form::kCtaPerColumns ? tasks : (tasks + kWarpsPerCta - 1) / kWarpsPerCta;
  if (p.dv != DV || p.out_dtype != DtypeOf<OutT>::value || p.batch < 1 || rows < 1 || task_blocks > 65535 ||
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

  // The batch goes on x (up to 2^31 - 1 CTAs); y holds the blocks of (row, column chunk) warp tasks.
  cudaLaunchAttribute pdl[1];
  pdl[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  pdl[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(static_cast<unsigned>(p.batch), static_cast<unsigned>(task_blocks), 1);
  config.blockDim = dim3(kThreads, 1, 1);
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  config.attrs = pdl;
  config.numAttrs = 1;
  switch (form) {
    case Form::kCtaPerColumns: return cudaLaunchKernelEx(&config, mlagen_combine_kernel<OutT, DV, 1, kWarpsPerCta>, args);
    case Form::kWarpPerColumns: return cudaLaunchKernelEx(&config, mlagen_combine_kernel<OutT, DV, 1, 1>, args);
    case Form::kWarpPerRow: break;
  }
  return cudaLaunchKernelEx(&config, mlagen_combine_kernel<OutT, DV, steps_per_row(DV), 1>, args);
}

#endif  // MLAGEN_COMBINE_CUH
