// The catalogue: every variant mlagen generates, builds and checks. One definition feeds
// generation, compile tests, GPU checks, benchmarks and the tuner.
import type { MlaDecodeConfig } from './kernels/mlaDecode.ts';
import { DEFAULT_MLA_DECODE } from './kernels/mlaDecode.ts';

const withProblem = (over: Partial<MlaDecodeConfig['problem']>): MlaDecodeConfig => ({
  ...DEFAULT_MLA_DECODE,
  problem: { ...DEFAULT_MLA_DECODE.problem, ...over },
});

export const CATALOGUE: readonly MlaDecodeConfig[] = [
  DEFAULT_MLA_DECODE,
  withProblem({ qDtype: 'fp16', kvDtype: 'fp16', outDtype: 'fp16' }),
];
