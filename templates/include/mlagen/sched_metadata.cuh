// Split-KV schedule metadata, computed on the device (no host sync, so it can be graph-captured).
// Hand-written; bit-identical to the reference planner dsl/schedule/splitKv.ts (FlashMLA semantics):
//
//   units(b)   = ceil(seqlens[b] / BLOCK_N) + FIXED_OVERHEAD
//   even       = ceil(sum_b units(b) / num_sm_parts)
//   payload    = max(even + FIXED_OVERHEAD, 2 * FIXED_OVERHEAD), or max_b units(b) when that exceeds it by at
//                most one more overhead (not FlashMLA's: the longest request is then not cut for a tiny piece)
//   Requests are walked in order, filling each SM part with at most `payload` units; a request that
//   does not fit is cut at a block boundary when the piece would hold at least one block.
//
// One CTA; shared memory does not grow with the batch. Seqlens go through a fixed tile:
//   1. all threads load the tile and scan the units into prefix sums;
//   2. warp 0 walks the SM parts: the prefix sums give, with one or two ballots, how many whole
//      requests still fit in a part, and the parts a long request fills entirely are written in
//      closed form, so the walk costs O(parts) warp steps, not O(batch) dependent loads;
//   3. all threads turn the pieces per request into num_splits (another scan).
// Every sum is 64-bit: a large batch of long requests overflows int32.
//
// Negative seqlens are invalid; the kernel cannot report them and reads them as 0.
#ifndef MLAGEN_SCHED_METADATA_CUH
#define MLAGEN_SCHED_METADATA_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "mlagen/abi.h"

namespace mlagen_sched {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kItemsPerThread = 4;
// Requests per tile; shared memory: 8 B prefix + 4 B seqlen + 4 B extra pieces each = 32 KB.
constexpr int kTile = kThreads * kItemsPerThread;
constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ int32_t load_seqlen(const int32_t* seqlens, int64_t i) {
  return max(seqlens[i], 0);
}

// ceil(len / BLOCK_N) without the int32 overflow of (len + BLOCK_N - 1).
template <int BLOCK_N>
__device__ __forceinline__ int64_t blocks_of(int32_t len) {
  return len / BLOCK_N + (len % BLOCK_N != 0);
}

__device__ __forceinline__ int64_t warp_inclusive_scan(int64_t v, int lane) {
#pragma unroll
  for (int offset = 1; offset < 32; offset *= 2) {
    const int64_t up = __shfl_up_sync(kFullMask, v, offset);
    if (lane >= offset) v += up;
  }
  return v;
}

// Inclusive scan of one value per thread, in thread order; `total` gets the sum over the CTA.
// Every thread must call it (it synchronises the CTA).
__device__ __forceinline__ int64_t block_inclusive_scan(int64_t v, int64_t* warp_sums, int64_t& total) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t incl = warp_inclusive_scan(v, lane);
  if (lane == 31) warp_sums[warp] = incl;
  __syncthreads();
  int64_t offset = 0;
  total = 0;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) {
    const int64_t s = warp_sums[w];
    offset += w < warp ? s : 0;
    total += s;
  }
  __syncthreads();  // warp_sums is reused by the next scan
  return incl + offset;
}

// Maximum of one value per thread over the CTA (values >= 0). Every thread must call it (it synchronises the CTA).
__device__ __forceinline__ int64_t block_max(int64_t v, int64_t* warp_vals) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int offset = 16; offset >= 1; offset /= 2) v = max(v, static_cast<int64_t>(__shfl_xor_sync(kFullMask, v, offset)));
  if (lane == 0) warp_vals[warp] = v;
  __syncthreads();
  int64_t m = 0;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) m = max(m, warp_vals[w]);
  __syncthreads();  // warp_vals is reused
  return m;
}

// The units each SM part receives at most (dsl/schedule/splitKv.ts, payloadFromUnits): FlashMLA's payload, or
// the longest request's units when they exceed it by at most one more overhead.
template <int FIXED_OVERHEAD>
__device__ __forceinline__ int64_t payload_of(int64_t total, int64_t longest, int32_t num_sm_parts) {
  const int64_t even = (total + num_sm_parts - 1) / num_sm_parts;
  const int64_t flash_mla = max(even + FIXED_OVERHEAD, static_cast<int64_t>(2 * FIXED_OVERHEAD));
  return longest > flash_mla && longest <= even + 2 * FIXED_OVERHEAD ? longest : flash_mla;
}

// First index in [from, n) whose prefix exceeds `target`, or n. prefix is non-decreasing.
__device__ __forceinline__ int first_above(const int64_t* prefix, int from, int n, int64_t target, int lane) {
  // Usually the part ends within the next 32 requests.
  unsigned above = __ballot_sync(kFullMask, from + lane >= n || prefix[from + lane] > target);
  if (above) return from + __ffs(above) - 1;
  // Otherwise probe the last request of each of the next 32 groups of 32, then search that group.
  for (int lo = from + 32;; lo += 32 * 32) {
    const int probe = lo + 32 * lane + 31;
    above = __ballot_sync(kFullMask, probe >= n || prefix[probe] > target);
    if (above) {
      const int group = lo + 32 * (__ffs(above) - 1);
      above = __ballot_sync(kFullMask, group + lane >= n || prefix[group + lane] > target);
      return group + __ffs(above) - 1;
    }
  }
}

// The walk of warp 0. Every field holds the same value in all 32 lanes.
template <int BLOCK_N, int FIXED_OVERHEAD>
struct Walker {
  int32_t* metadata;
  int32_t num_sm_parts;
  int64_t payload;

  int64_t now_block = 0;         // block the current request resumes at
  int32_t split_idx = 0;         // index of its next piece
  int32_t last_done_seqlen = 0;  // seqlen of the last request completed

  int32_t part = 0;
  int64_t remain = 0;
  int32_t begin_idx = 0, begin_seqlen = 0, begin_split = 0;

  __device__ void write_row(int64_t row, int32_t b_idx, int32_t b_seqlen, int32_t e_idx, int32_t e_seqlen,
                            int32_t b_split) const {
    // The guard never fires (the payload leaves room for every cut); it keeps a bad launch in bounds.
    if (row >= num_sm_parts) return;
    int32_t* r = metadata + row * MLAGEN_SCHED_METADATA_SIZE;
    r[MLAGEN_SCHED_BEGIN_IDX] = b_idx;
    r[MLAGEN_SCHED_BEGIN_SEQLEN] = b_seqlen;
    r[MLAGEN_SCHED_END_IDX] = e_idx;
    r[MLAGEN_SCHED_END_SEQLEN] = e_seqlen;
    r[MLAGEN_SCHED_BEGIN_SPLIT] = b_split;
    for (int s = MLAGEN_SCHED_BEGIN_SPLIT + 1; s < MLAGEN_SCHED_METADATA_SIZE; ++s) r[s] = 0;
  }

  __device__ void open_part(int32_t idx) {
    begin_idx = idx;
    begin_seqlen = static_cast<int32_t>(now_block * BLOCK_N);
    begin_split = split_idx;
    remain = payload;
  }

  // Closes the current part, which stops before request idx, or inside it when now_block > 0.
  __device__ void close_part(int32_t idx, int lane) {
    const bool ends_inside = now_block > 0;
    if (lane == 0)
      write_row(part, begin_idx, begin_seqlen, ends_inside ? idx : idx - 1,
                ends_inside ? static_cast<int32_t>(now_block * BLOCK_N) : last_done_seqlen, begin_split);
    ++part;
  }

  // Requests [tile_base, tile_base + n). prefix[i]: units of requests tile_base..tile_base+i.
  // extra[i] receives the number of cuts of request tile_base + i (its pieces minus one).
  // One iteration per SM part: the loop-carried chain is two rounds of shared-memory loads.
  __device__ void walk_tile(const int64_t* prefix, const int32_t* lens, int32_t* extra, int32_t tile_base, int n,
                            int lane) {
    int j = 0;             // next request, relative to the tile
    int64_t before_j = 0;  // prefix[j - 1]
    while (true) {
      // Requests j..m-1 fit in what is left of this part iff prefix[m-1] <= target.
      const int64_t target = before_j + now_block + remain;
      const int m = first_above(prefix, j, n, target, lane);
      const int64_t through_m = m < n ? prefix[m] : 0;
      if (m > j) {
        const int64_t done = prefix[m - 1];
        if (lane == 0) extra[j] = split_idx;
        remain = target - done;
        last_done_seqlen = lens[m - 1];
        now_block = 0;
        split_idx = 0;
        j = m;
        before_j = done;
      }
      if (j == n) return;  // the part stays open for the next tile
      // Request j does not fit: cut it if the piece would hold a block, and close the part.
      if (remain - FIXED_OVERHEAD > 0) {
        now_block += remain - FIXED_OVERHEAD;
        ++split_idx;
      }
      close_part(tile_base + j, lane);
      // Fresh parts that the rest of request j fills entirely take payload - overhead blocks each.
      const int64_t rest = through_m - before_j - now_block;
      if (rest > payload) {
        // rest <= blocks of one request + overhead < 2^31, so 32-bit division (fast) is exact here.
        const uint32_t step = static_cast<uint32_t>(payload - FIXED_OVERHEAD);  // >= 1: some work exists
        const int64_t full = (static_cast<uint32_t>(rest - payload) + step - 1) / step;
        for (int64_t i = lane; i < full; i += 32) {
          const int64_t first_block = now_block + i * step;
          write_row(part + i, tile_base + j, static_cast<int32_t>(first_block * BLOCK_N), tile_base + j,
                    static_cast<int32_t>((first_block + step) * BLOCK_N), split_idx + static_cast<int32_t>(i));
        }
        now_block += full * step;
        split_idx += static_cast<int32_t>(full);
        part += static_cast<int32_t>(min(full, static_cast<int64_t>(num_sm_parts)));
      }
      open_part(tile_base + j);
    }
  }

  // Closes the part that took the last request; the parts left get empty rows
  // (begin_idx = batch > end_idx = batch - 1).
  __device__ void finish(int32_t batch, int lane) {
    close_part(batch, lane);
    for (int64_t row = part + lane; row < num_sm_parts; row += 32)
      write_row(row, batch, 0, batch - 1, last_done_seqlen, 0);
  }
};

}  // namespace mlagen_sched

template <int BLOCK_N, int FIXED_OVERHEAD>
__global__ void __launch_bounds__(mlagen_sched::kThreads, 1)
mlagen_sched_metadata_kernel(const int32_t* seqlens, int32_t batch, int32_t num_sm_parts,
                             int32_t* metadata, int32_t* num_splits) {
  static_assert(BLOCK_N > 0 && FIXED_OVERHEAD >= 0, "BLOCK_N must be positive, FIXED_OVERHEAD non-negative");
  using namespace mlagen_sched;
  __shared__ int64_t prefix[kTile];
  __shared__ int32_t lens[kTile];
  __shared__ int32_t extra[kTile];
  __shared__ int64_t warp_sums[kWarps];

  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  const int first_item = threadIdx.x * kItemsPerThread;  // this thread's items within a tile

  // Total and longest units. A batch of one tile gets them from the tile below; a larger one reads twice.
  int64_t total = 0, longest = 0;
  if (batch > kTile) {
    int64_t units = 0, most = 0;
#pragma unroll 8
    for (int32_t i = threadIdx.x; i < batch; i += kThreads) {
      const int64_t u = blocks_of<BLOCK_N>(load_seqlen(seqlens, i)) + FIXED_OVERHEAD;
      units += u;
      most = max(most, u);
    }
    block_inclusive_scan(units, warp_sums, total);
    longest = block_max(most, warp_sums);
  }

  Walker<BLOCK_N, FIXED_OVERHEAD> walker;
  walker.metadata = metadata;
  walker.num_sm_parts = num_sm_parts;
  if (threadIdx.x == 0) num_splits[0] = 0;

  // Each thread keeps the next tile's seqlens in registers (coalesced: item threadIdx.x + k * kThreads),
  // loaded while the current tile is scanned and walked.
  int32_t next_lens[kItemsPerThread];
#pragma unroll
  for (int k = 0; k < kItemsPerThread; ++k) {
    const int32_t i = threadIdx.x + k * kThreads;
    next_lens[k] = i < batch ? load_seqlen(seqlens, i) : 0;
  }

  int64_t pieces_before = 0;  // pieces of the requests before the tile
  for (int32_t tile_base = 0; tile_base < batch; tile_base += kTile) {
    const int n = min(kTile, batch - tile_base);
    // 1. Stage the tile, prefetch the next, then scan this thread's consecutive items.
#pragma unroll
    for (int k = 0; k < kItemsPerThread; ++k) lens[threadIdx.x + k * kThreads] = next_lens[k];
    if (tile_base + kTile < batch) {
#pragma unroll
      for (int k = 0; k < kItemsPerThread; ++k) {
        const int64_t i = static_cast<int64_t>(tile_base) + kTile + threadIdx.x + k * kThreads;
        next_lens[k] = i < batch ? load_seqlen(seqlens, i) : 0;
      }
    }
    __syncthreads();
    int64_t local[kItemsPerThread];
    int64_t run = 0, most = 0;
#pragma unroll
    for (int k = 0; k < kItemsPerThread; ++k) {
      const int i = first_item + k;
      const int64_t u = i < n ? blocks_of<BLOCK_N>(lens[i]) + FIXED_OVERHEAD : 0;
      run += u;
      most = max(most, u);
      local[k] = run;
    }
    int64_t tile_units;
    const int64_t before = block_inclusive_scan(run, warp_sums, tile_units) - run;
    if (tile_base == 0 && batch <= kTile) longest = block_max(most, warp_sums);  // uniform: every thread calls it
#pragma unroll
    for (int k = 0; k < kItemsPerThread; ++k) {
      const int i = first_item + k;
      if (i < n) {
        prefix[i] = before + local[k];
        extra[i] = 0;
      }
    }
    if (tile_base == 0 && batch <= kTile) total = tile_units;
    __syncthreads();

    // 2. Walk.
    if (warp == 0) {
      if (tile_base == 0) {
        walker.payload = payload_of<FIXED_OVERHEAD>(total, longest, num_sm_parts);
        walker.open_part(0);
      }
      walker.walk_tile(prefix, lens, extra, tile_base, n, lane);
    }
    __syncthreads();

    // 3. num_splits[b + 1] = pieces of requests 0..b = (b + 1) + their cuts.
    int64_t cuts = 0;
#pragma unroll
    for (int k = 0; k < kItemsPerThread; ++k) {
      const int i = first_item + k;
      cuts += i < n ? extra[i] : 0;
      local[k] = cuts;
    }
    int64_t tile_cuts;
    const int64_t cuts_before = block_inclusive_scan(cuts, warp_sums, tile_cuts) - cuts;
#pragma unroll
    for (int k = 0; k < kItemsPerThread; ++k) {
      const int i = first_item + k;
      if (i < n)
        num_splits[static_cast<int64_t>(tile_base) + i + 1] =
            static_cast<int32_t>(pieces_before + i + 1 + cuts_before + local[k]);
    }
    pieces_before += n + tile_cuts;
    // The next tile's loads overwrite lens only after this tile's scans (block_inclusive_scan syncs).
  }
  if (warp == 0) walker.finish(batch, lane);
}

// Launches the metadata kernel on p.stream; returns the launch error (cudaErrorInvalidValue for bad params).
template <int BLOCK_N, int FIXED_OVERHEAD>
inline cudaError_t mlagen_launch_sched_metadata(const mlagen_sched_params& p) {
  if (p.batch < 1 || p.num_sm_parts < 1 || p.seqlens == nullptr || p.tile_scheduler_metadata == nullptr ||
      p.num_splits == nullptr)
    return cudaErrorInvalidValue;
  mlagen_sched_metadata_kernel<BLOCK_N, FIXED_OVERHEAD>
      <<<1, mlagen_sched::kThreads, 0, static_cast<cudaStream_t>(p.stream)>>>(
          p.seqlens, p.batch, p.num_sm_parts, p.tile_scheduler_metadata, p.num_splits);
  return cudaGetLastError();
}

#endif  // MLAGEN_SCHED_METADATA_CUH
