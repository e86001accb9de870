// The catalogue: every variant mlagen generates, builds and checks. One definition feeds
// generation, compile tests, GPU checks, benchmarks and the tuner.
import type { DispatchPolicy } from './dispatch.ts';
import type { MlaDecodeConfig } from './kernels/mlaDecode.ts';
import { DEFAULT_MLA_DECODE } from './kernels/mlaDecode.ts';

const FP16 = { qDtype: 'fp16', kvDtype: 'fp16', outDtype: 'fp16' } as const;

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
];

/**
 * Which schedule the dispatcher routes each query-row count to (docs/perf/kernel-versions.md):
 * up to 64 rows both schedules are memory-bound and within noise of each other; from 128 rows on,
 * the seesaw is 12-16% faster than split-n on FlashMLA's matrix.
 */
export const DISPATCH_POLICY: readonly DispatchPolicy[] = [
  { rows: { min: 1, max: 64 }, mathSchedule: 'split-n', why: 'memory-bound: one m-block, both consumers stream K/V' },
  { rows: { min: 65, max: 1 << 20 }, mathSchedule: 'seesaw', why: 'compute-bound: softmax of one consumer overlaps the GEMMs of the other' },
];
