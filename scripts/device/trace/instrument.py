#!/usr/bin/env python3
"""Instruments a generated decode.cu with %globaltimer stamps, for a device run (measurement only).

Per CTA of the last decode call: its start and SM, and its end; for split-n also the producer's first TMA, the
consumers' first landed tile and the end of the last step (-1 for the seesaw); for the combine, its first CTA's
start and last warp's end. A
process-exit hook prints them to stderr as `TRACE` lines (summarize.py reads them). The stamps cost a little
(a global load per step in thread 0): time with the plain harness, read only the shape of the timeline here.

Usage: instrument.py GENERATED_VARIANT_DIR OUT_DIR   (then build.sh, or the nvcc lines it prints)
"""
import pathlib
import sys

TRACE_H = r'''#pragma once
// %globaltimer stamps of one decode call (scripts/device/trace/instrument.py). Measurement only.
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
namespace trace {
constexpr int kMaxCtas = 1024;
__device__ unsigned long long g_t[kMaxCtas][6];  // start, first TMA, first tile landed, last step done, CTA end; SM id
constexpr int kCombSlots = 64;                   // spread the combine's atomics over slots (one address serialises them)
__device__ unsigned long long g_comb[2][kCombSlots];  // combine: first CTA start, last warp end
__device__ __forceinline__ unsigned long long now() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
__device__ __forceinline__ int cta() { return blockIdx.y * gridDim.x + blockIdx.x; }
__device__ __forceinline__ unsigned long long smid() {
  unsigned int id;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
  return id;
}
__global__ void reset() {
  for (int i = threadIdx.x; i < kMaxCtas * 6; i += blockDim.x) (&g_t[0][0])[i] = 0;
  if (threadIdx.x < kCombSlots) g_comb[0][threadIdx.x] = ~0ull, g_comb[1][threadIdx.x] = 0;
}
inline int ctas = 0;
inline void dump() {
  static unsigned long long h[kMaxCtas][6];
  unsigned long long cs[2][kCombSlots], c[2] = {~0ull, 0};
  if (cudaMemcpyFromSymbol(h, g_t, sizeof(h)) != cudaSuccess || cudaMemcpyFromSymbol(cs, g_comb, sizeof(cs)) != cudaSuccess) {
    fprintf(stderr, "TRACE error: could not read the stamps\n");
    return;
  }
  for (int i = 0; i < kCombSlots; ++i) {
    if (cs[0][i] < c[0]) c[0] = cs[0][i];
    if (cs[1][i] > c[1]) c[1] = cs[1][i];
  }
  unsigned long long t0 = ~0ull;
  for (int i = 0; i < ctas; ++i)
    if (h[i][0] && h[i][0] < t0) t0 = h[i][0];
  auto us = [&](unsigned long long t) { return t && t != ~0ull ? (double(t) - double(t0)) / 1e3 : -1.0; };
  fprintf(stderr, "TRACE ctas=%d combine_start=%.2f combine_end=%.2f\n", ctas, us(c[0]), us(c[1]));
  for (int i = 0; i < ctas; ++i)
    fprintf(stderr, "TRACE %d %.2f %.2f %.2f %.2f %.2f %llu\n", i, us(h[i][0]), us(h[i][1]), us(h[i][2]), us(h[i][3]), us(h[i][4]), h[i][5]);
}
inline void arm(cudaStream_t stream, int launch_ctas) {
  static bool registered = false;
  reset<<<1, 1024, 0, stream>>>();
  ctas = launch_ctas < kMaxCtas ? launch_ctas : kMaxCtas;
  if (!registered) registered = true, atexit(dump);
}
}  // namespace trace
'''

def stamp(field: int, value: str = 'trace::now()') -> str:
    """Thread 0 of the CTA records `value` in its trace field."""
    return f'if (threadIdx.x == 0 && trace::cta() < trace::kMaxCtas) trace::g_t[trace::cta()][{field}] = {value};'


def patch(text: str, old: str, new: str, what: str) -> str:
    if text.count(old) != 1:
        sys.exit(f'instrument.py: expected one {what} in the source, found {text.count(old)}; the template changed')
    return text.replace(old, new)


def instrument_decode(src: str) -> str:
    s = patch(src, '#include "mlagen/tile.cuh"\n', '#include "mlagen/tile.cuh"\n#include "trace.h"\n', 'tile.cuh include')
    s = patch(s, '  const int m_block = blockIdx.x;\n', f'  {stamp(0)}\n  {stamp(5, "trace::smid()")}\n  const int m_block = blockIdx.x;\n', 'kernel entry')
    first_tma = 'if (trace::cta() < trace::kMaxCtas && trace::g_t[trace::cta()][1] == 0) trace::g_t[trace::cta()][1] = trace::now();'
    s = patch(s, '            mlagen::mbarrier_arrive_expect_tx(&full[part * KV_STAGES + stage]',
              '            ' + first_tma + '\n            mlagen::mbarrier_arrive_expect_tx(&full[part * KV_STAGES + stage]', 'producer arm')
    wait = '      mlagen::mbarrier_wait(&kv_full[stage], (phases >> stage) & 1u);  // wait\n'
    if wait in s:  # split-n: the first tile, the last step and the epilogue
        first_tile = '      if (b == begin_idx && tok0 == start) ' + stamp(2) + '\n'  # the part's first step
        s = patch(s, wait, wait + first_tile, 'split-n consumer wait')
        store = '    store_rows(a, b, m_block, split, no_split, row_base, quad, wg, o, row_max, row_sum, row_sum_smem);\n'
        s = patch(s, store, '    ' + stamp(3) + '\n' + store + '    ' + stamp(4) + '\n', 'epilogue')
    else:  # seesaw: the end of consumer 0's work (thread 0)
        done = '    consume(a, m_block, smem, begin_idx, begin_seq, end_idx, end_seq, begin_split);\n'
        s = patch(s, done, done + '    ' + stamp(4) + '\n', 'the consumers\' call')
    s = patch(s, '  cudaStream_t stream = static_cast<cudaStream_t>(p.stream);\n',
              '  cudaStream_t stream = static_cast<cudaStream_t>(p.stream);\n  trace::arm(stream, m_blocks * p.num_sm_parts);\n', 'launch')
    return s


def instrument_combine(src: str) -> str:
    s = patch(src, '#include "mlagen/tile.cuh"\n', '#include "mlagen/tile.cuh"\n#include "trace.h"\n', 'tile.cuh include')
    s = patch(s, '  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;\n',
              '  if (threadIdx.x == 0) atomicMin(&trace::g_comb[0][blockIdx.x % trace::kCombSlots], trace::now());\n'
              '  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;\n',
              'combine entry')
    s = patch(s, '  if (first_col == 0) a.lse[(b * a.h_q + h) * a.s_q + s] = row_lse;\n}',
              '  if (first_col == 0) a.lse[(b * a.h_q + h) * a.s_q + s] = row_lse;\n'
              '  if (lane == 0) atomicMax(&trace::g_comb[1][(blockIdx.x + blockIdx.y) % trace::kCombSlots], trace::now());\n}',
              'combine store')
    return s


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    variant, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    root = pathlib.Path(__file__).resolve().parents[3]
    (out / 'inc' / 'mlagen').mkdir(parents=True, exist_ok=True)
    (out / 'inc' / 'trace.h').write_text(TRACE_H)
    (out / 'inc' / 'mlagen' / 'combine.cuh').write_text(instrument_combine((root / 'templates/include/mlagen/combine.cuh').read_text()))
    (out / 'trace.cu').write_text(instrument_decode((variant / 'decode.cu').read_text()))
    print(f'wrote {out}/trace.cu and {out}/inc/ (put {out}/inc before templates/include)')


if __name__ == '__main__':
    main()
