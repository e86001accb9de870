// The catalogue: every variant mlagen generates, builds and checks. One definition feeds
// generation, compile tests, GPU checks, benchmarks and the tuner.
import type { DispatchPolicy } from './dispatch.ts';
import { policyWithFirst } from './dispatch.ts';
import type { MlaDecodeConfig } from './kernels/mlaDecode.ts';
import { DEFAULT_MLA_DECODE } from './kernels/mlaDecode.ts';

const FP16 = { qDtype: 'fp16', kvDtype: 'fp16', outDtype: 'fp16' } as const;
// The producer widens an fp8 cache (64 registers a thread, measured with ptxas); bf16 queries then compute in fp16.
const FP8_CACHE = { registers: { producer: 64, consumer: 216 }, mathDtype: 'fp16' } as const;

// Few query rows (s_q*h_q <= 16 or 32): one consumer computes S^T = K Q^T and O^T = V^T P^T, the rows wgmma's N.
const TRANSPOSED = (blockM: number) => ({ mathSchedule: 'transposed', consumers: 1, tile: { blockM, blockN: 64 }, schedule: { ...DEFAULT_MLA_DECODE.schedule, blockM } }) as const;
// Its fp8 producer needs 72 registers (64 spilled, ptxas).
const FP8_TRANSPOSED = { ...FP8_CACHE, registers: { producer: 72, consumer: 232 } } as const;

const variant = (over: Partial<Omit<MlaDecodeConfig, 'problem'>>, problem: Partial<MlaDecodeConfig['problem']> = {}): MlaDecodeConfig => ({
  ...DEFAULT_MLA_DECODE,
  ...over,
  problem: { ...DEFAULT_MLA_DECODE.problem, ...problem },
});

export const CATALOGUE: readonly MlaDecodeConfig[] = [
  DEFAULT_MLA_DECODE,
  variant({}, FP16),
  variant({ mathSchedule: 'seesaw' }),
  variant({ mathSchedule: 'seesaw' }, FP16),
  // 16-token pages (vLLM's common block size; FlashMLA takes 64 only): split-n at every row count, which
  // measured as fast as at 64-token pages up to 64 rows and faster than the seesaw there at 256 rows
  // (docs/perf/2026-11-22-page-sizes.md). Other page sizes are a catalogue line away.
  variant({}, { pageSize: 16 }),
  variant({}, { ...FP16, pageSize: 16 }),
  // Pages of any multiple of 64 tokens, given at launch (pageSize 0 with TMA): the 64-token kernels but for the page
  // arithmetic, both schedules (TMA measured 13-20 % faster than the cp.async loader at 128-token pages).
  variant({}, { pageSize: 0 }),
  variant({}, { ...FP16, pageSize: 0 }),
  variant({ mathSchedule: 'seesaw' }, { pageSize: 0 }),
  variant({ mathSchedule: 'seesaw' }, { ...FP16, pageSize: 0 }),
  // Every other page size, given at launch (pageSize 0), one token per page included (SGLang's default; FlashMLA
  // takes 64 only): TMA boxes cannot serve them, the cp.async loader can (split-n at every row count; ~2100-2170
  // GB/s memory-bound at one-token pages, ~2510 at 48, docs/perf/kernel-versions.md, session 8).
  variant({ kvLoader: 'cp.async' }, { pageSize: 0 }),
  variant({ kvLoader: 'cp.async' }, { ...FP16, pageSize: 0 }),
  // An FP8 (e4m3) cache, widened in shared memory by the producer warpgroup (split-n, TMA: pages of 64 tokens or any
  // multiple of 64): up to 32 query rows 0-4 % faster than the 16-bit cache for half its bytes, 1.2x slower at 128 rows
  // (no fp8 seesaw); bf16 queries computed in fp16 (mathDtype 'fp16': |q| < 65504), where the widening is one hardware
  // conversion a pair (docs/perf/kernel-versions.md, session 10).
  ...[{ pageSize: 64 }, { pageSize: 0 }].flatMap((page) => [
    variant(FP8_CACHE, { ...page, kvDtype: 'fp8_e4m3' }),
    variant({ ...FP8_CACHE, mathDtype: 'query' }, { ...FP16, ...page, kvDtype: 'fp8_e4m3' }),
  ]),
  // Up to 16 query rows, 16-bit caches (TMA pages of 64 or any multiple of 64): the transposed schedule, 16 rows a CTA
  // (0.7-2 % faster than split-n at 16 rows; at 32 rows neither 16 nor 32 rows a CTA beat it).
  // With the page size at launch its producer needs 48 registers (40 spilled, ptxas).
  ...[
    { page: { pageSize: 64 }, over: {} },
    { page: { pageSize: 0 }, over: { registers: { producer: 48, consumer: 232 } } },
  ].flatMap(({ page, over }) => [variant({ ...TRANSPOSED(16), ...over }, page), variant({ ...TRANSPOSED(16), ...over }, { ...FP16, ...page })]),
  // An fp8 cache up to 32 rows: transposed, 16 rows a CTA up to 16 rows (16 % faster than split-n), 32 up to 32 (4 %).
  ...[{ pageSize: 64 }, { pageSize: 0 }].flatMap((page) =>
    [16, 32].flatMap((rows) => [
      variant({ ...TRANSPOSED(rows), ...FP8_TRANSPOSED }, { ...page, kvDtype: 'fp8_e4m3' }),
      variant({ ...TRANSPOSED(rows), ...FP8_TRANSPOSED, mathDtype: 'query' }, { ...FP16, ...page, kvDtype: 'fp8_e4m3' }),
    ]),
  ),
];

/**
 * The few-row routes, in front of any routing (the catalogue's or a tuning table's): the transposed schedule where a
 * (dtype, cache, page) group has one of these rows a CTA, else split-n. Measured in-run against split-n
 * (docs/perf/kernel-versions.md, session 11).
 */
export const FEW_ROWS_POLICY: readonly DispatchPolicy[] = [
  { rows: { min: 1, max: 16 }, mathSchedule: 'transposed', blockM: 16, why: 'few rows: the rows are wgmma N, not padded to 64' },
  { rows: { min: 17, max: 32 }, mathSchedule: 'transposed', blockM: 32, why: 'few rows: the rows are wgmma N, not padded to 64' },
];

/**
 * Which schedule the dispatcher routes each query-row count to when generated/tuning/ holds no table
 * (dsl/render/dispatchPolicy.ts; with a table the routing is derived from its measurements). Set from
 * the 48-case tune of the session-4 kernels (docs/perf/tuning-h100-matrix.md, v11 re-tune): up to 64 rows
 * the two are within 1 % of each other (memory-bound); at 128 rows the seesaw is up to 13 % faster, at
 * 256 rows 12-20 %.
 */
export const DISPATCH_POLICY: readonly DispatchPolicy[] = policyWithFirst(FEW_ROWS_POLICY, [
  { rows: { min: 1, max: 64 }, mathSchedule: 'split-n', why: 'memory-bound: both consumers stream K/V' },
  { rows: { min: 65, max: 1 << 20 }, mathSchedule: 'seesaw', why: 'softmax of one consumer overlaps the GEMMs of the other' },
]);
