// A TuneBackend without nvcc or a GPU: builds always succeed (unless told otherwise) and every
// harness run returns a measurement that is a pure function of (variant, case), so runs in any
// order, split or interrupted, measure the same numbers.
import type { Candidate } from '../../dsl/tune/space.ts';
import type { HarnessCase } from '../../scripts/harness/cases.ts';
import type { CaseResult, HarnessJson } from '../../scripts/harness/runner.ts';
import type { BuildOutcome, GpuInfo, TuneBackend } from '../../scripts/tune/run.ts';

export function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Deterministic µs for a (variant, case): ~100..200. */
export const fakeUs = (variantId: string, caseId: string): number => 100 + (hash(`${variantId}|${caseId}`) % 10000) / 100;

export interface FakeOptions {
  gpus?: GpuInfo[];
  failBuild?: (id: string) => boolean;
  failCheck?: (id: string, caseId: string) => boolean;
  /** Throw after this many harness runs (simulates a kill). */
  killAfter?: number;
}

export class Killed extends Error {}

export function fakeBackend(opts: FakeOptions = {}): TuneBackend & { runs: { mode: string; variant: string; caseId: string; pageSize: number; env: Record<string, string>; extra: readonly string[] }[] } {
  const runs: { mode: string; variant: string; caseId: string; pageSize: number; env: Record<string, string>; extra: readonly string[] }[] = [];
  const gpus = opts.gpus ?? [{ index: '0', name: 'NVIDIA H100 80GB HBM3' }];
  const variantOf = (binary: string): string => binary.split('/').slice(-2)[0]!;
  const outcome = (id: string): BuildOutcome =>
    opts.failBuild?.(id) ? { variantId: id, ok: false, errors: ['spills registers'] } : { variantId: id, ok: true, errors: [], registers: 168 };
  return {
    runs,
    listGpus: async (wanted) => (wanted ? gpus.filter((g) => wanted.includes(g.index)) : gpus),
    build: async (cands: readonly Candidate[]) => cands.map((c) => outcome(c.variantId)),
    harness: (workDir, id) => `${workDir}/${id}/harness`,
    prebuilt: (_w, id) => outcome(id),
    runCeilings: async () => ({
      result: { id: 'ceilings', status: 'pass', message: '', exitCode: 0, durationMs: 1, stderrTail: '', command: [] },
      ceilings: { copy_gbps: 3000, copy_bytes: 1, matmul_tflops: 650, matmul_error: null, cublas_path: null },
    }),
    runCase: async (binary: string, c: HarnessCase, mode, extra, env) => {
      if (opts.killAfter !== undefined && runs.length >= opts.killAfter) throw new Killed('killed');
      const variant = variantOf(binary);
      runs.push({ mode, variant, caseId: c.id, pageSize: c.pageSize, env, extra });
      const fail = mode === 'check' && opts.failCheck?.(variant, c.id);
      const usSingle = fakeUs(variant, c.id);
      const json = {
        harness: 'mlagen',
        version: 1,
        mode,
        variant,
        status: 'ok',
        pass: !fail,
        ...(mode === 'bench' ? { bench: { us: usSingle * 0.95, us_single: usSingle, flops: 1e12, bytes: 1e9, total_kv: c.b * c.sk, us_min: 0, us_p90: 0, tflops: 0, gbps: 0, calls_per_graph: 1, buffer_sets: 1, graph: true } } : {}),
      } as HarnessJson;
      const r: CaseResult = { id: c.id, status: fail ? 'fail' : 'pass', message: fail ? 'out rel L2 too large' : '', json, exitCode: 0, durationMs: 1, stderrTail: '', command: [binary] };
      return r;
    },
  };
}
