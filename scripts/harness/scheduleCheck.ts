// Proves the device metadata kernel equal to the TypeScript planner: random batches (varied sizes,
// many zeros, page-boundary lengths) go through `harness --mode metadata`, and every
// tile_scheduler_metadata row and num_splits entry must match planSplitKv bit for bit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SplitKvSchedule } from '../../dsl/schedule/splitKv.ts';
import { DEFAULT_SPLIT_KV_SCHEDULE, planSplitKv } from '../../dsl/schedule/splitKv.ts';
import { prng } from './prng.ts';
import { parseHarnessOutput, runHarness } from './runner.ts';

export interface ScheduleShape {
  sQ: number;
  hQ: number;
}

export interface ScheduleMismatch {
  shape: ScheduleShape;
  batch: number;
  size: number;
  what: string;
}

export interface ScheduleCheckResult {
  batches: number;
  mismatches: ScheduleMismatch[];
  numSmParts: Record<string, number>;
  error?: string;
}


/**
 * Random batches: sizes 1..4096 (skewed small), lengths with zeros and 64-token boundaries; a fifth of them
 * near-uniform (one length, a few tokens of jitter), where the payload may be raised to the longest request.
 * The first two are the matrix's 128 x 16384 and 32 x 16384, which raise it on 132 and on 33 SM parts.
 */
export function randomBatches(count: number, seed: number): number[][] {
  const rand = prng(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const fixed = [new Array<number>(128).fill(16384), new Array<number>(32).fill(16384)];
  const random = Array.from({ length: Math.max(0, count - fixed.length) }, () => {
    if (rand() < 0.2) {
      // About one or a few requests per SM part (both shapes checked have 33 or 132).
      const len = pick(65537);
      return Array.from({ length: 1 + pick(264) }, () => Math.max(0, len + pick(129) - 64));
    }
    const size = 1 + Math.floor(4096 ** rand());
    const scale = [64, 1024, 8192, 65536][pick(4)]!;
    return Array.from({ length: size }, () => {
      const r = rand();
      if (r < 0.15) return 0;
      if (r < 0.3) return 64 * (1 + pick(256)) + [-1, 0, 1][pick(3)]!;
      return pick(scale + 1);
    });
  });
  return [...fixed, ...random].slice(0, count);
}

export async function checkDeviceSchedule(
  harness: string,
  opts: { batches?: number; seed?: number; shapes?: ScheduleShape[]; schedule?: SplitKvSchedule } = {},
): Promise<ScheduleCheckResult> {
  const shapes = opts.shapes ?? [
    { sQ: 1, hQ: 16 },
    { sQ: 2, hQ: 128 },
  ];
  const all = randomBatches(opts.batches ?? 200, opts.seed ?? 20261122);
  const result: ScheduleCheckResult = { batches: 0, mismatches: [], numSmParts: {} };
  const dir = mkdtempSync(join(tmpdir(), 'mlagen-sched-'));
  try {
    for (const [k, shape] of shapes.entries()) {
      const mine = all.filter((_, i) => i % shapes.length === k);
      const file = join(dir, `batches-${k}.txt`);
      writeFileSync(file, `${mine.map((b) => b.join(',')).join('\n')}\n`);
      const run = await runHarness(harness, ['--mode', 'metadata', '--seqlens-file', file, '--s-q', `${shape.sQ}`, '--h-q', `${shape.hQ}`], { timeoutMs: 300_000 });
      const json = parseHarnessOutput(run.stdout) as unknown as {
        status?: string;
        error?: string;
        batches?: { status: string; num_sm_parts: number; tile_scheduler_metadata: number[][]; num_splits: number[] }[];
      };
      if (!json || json.status !== 'ok' || !json.batches) {
        result.error = `harness --mode metadata (s_q ${shape.sQ}, h_q ${shape.hQ}) failed: ${json?.error ?? run.stderr.slice(-400)}`;
        return result;
      }
      json.batches.forEach((got, i) => {
        const seqlens = mine[i]!;
        const key = `s_q=${shape.sQ},h_q=${shape.hQ}`;
        result.numSmParts[key] = got.num_sm_parts;
        // The schedule the library was generated with (a tuned variant's split cost may differ from the default).
        const want = planSplitKv(seqlens, { schedule: opts.schedule ?? DEFAULT_SPLIT_KV_SCHEDULE, numSmParts: got.num_sm_parts });
        const flat = got.tile_scheduler_metadata.flat();
        const bad = (what: string) => result.mismatches.push({ shape, batch: i, size: seqlens.length, what });
        if (got.status !== 'ok') bad(`status ${got.status}`);
        else if (flat.length !== want.metadata.length || flat.some((v, j) => v !== want.metadata[j])) bad('tile_scheduler_metadata differs');
        else if (got.num_splits.length !== want.numSplits.length || got.num_splits.some((v, j) => v !== want.numSplits[j]))
          bad('num_splits differs');
        result.batches++;
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
