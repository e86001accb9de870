// On a Hopper GPU: the device metadata kernel equals the TypeScript planner on 200 random batches.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasHopperGpu, noGpuReason } from '../../scripts/harness/gpu.ts';
import { harnessBinary, repoRoot } from '../../scripts/harness/paths.ts';
import { checkDeviceSchedule, randomBatches } from '../../scripts/harness/scheduleCheck.ts';
import { DEFAULT_SPLIT_KV_SCHEDULE, payloadFromUnits, splitKvPayload } from '../../dsl/schedule/splitKv.ts';
import { variants } from '../../generated/manifest.ts';

describe('random schedule batches', () => {
  it('are reproducible from the seed and cover zeros, boundaries and large batches', () => {
    const a = randomBatches(200, 7);
    expect(randomBatches(200, 7)).toEqual(a);
    const all = a.flat();
    expect(all.filter((x) => x === 0).length).toBeGreaterThan(100);
    expect(all.some((x) => x > 0 && x % 64 === 0)).toBe(true);
    expect(Math.max(...a.map((b) => b.length))).toBeGreaterThan(1000);
  });

  it('include batches whose payload is raised to the longest request, on both shapes checked', () => {
    // checkDeviceSchedule alternates the batches between 132 SM parts (s_q 1, h_q 16) and 33 (s_q 2, h_q 128).
    const { blockN, fixedOverheadBlocks } = DEFAULT_SPLIT_KV_SCHEDULE;
    const raised = (seqlens: number[], parts: number) => {
      const total = seqlens.reduce((sum, len) => sum + Math.ceil(len / blockN) + fixedOverheadBlocks, 0);
      // With no longest request to hold, payloadFromUnits gives FlashMLA's payload.
      return splitKvPayload(seqlens, DEFAULT_SPLIT_KV_SCHEDULE, parts) > payloadFromUnits(total, 0, fixedOverheadBlocks, parts);
    };
    const batches = randomBatches(200, 20261122);
    const on132 = batches.filter((b, i) => i % 2 === 0 && raised(b, 132)).length;
    const on33 = batches.filter((b, i) => i % 2 === 1 && raised(b, 33)).length;
    expect(on132).toBeGreaterThanOrEqual(1);
    expect(on33).toBeGreaterThanOrEqual(1);
  });
});

const gpu = hasHopperGpu();
describe.skipIf(!gpu)(`device metadata = TypeScript planner${gpu ? '' : ` (skipped: ${noGpuReason()})`}`, () => {
  it('on 200 random batches', { timeout: 600_000 }, async () => {
    const harness = harnessBinary(repoRoot(), variants[0]!.id);
    expect(existsSync(harness), `${harness}: run mlagen build first`).toBe(true);
    const r = await checkDeviceSchedule(harness, { batches: 200 });
    expect(r.error).toBeUndefined();
    expect(r.mismatches).toEqual([]);
    expect(r.batches).toBe(200);
  });
});
