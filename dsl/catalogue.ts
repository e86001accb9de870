// The catalogue: every variant mlagen generates, builds and checks. One definition feeds
// generation, compile tests, GPU checks, benchmarks and the tuner.
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
  // The seesaw with S_B issued beside S_A: kept to measure against the 'late' order.
  variant({ mathSchedule: 'seesaw', seesawSecondQk: 'early' }),
];
