import { describe, expect, it } from 'vitest';

import { DEFAULT_MLA_DECODE, lowerMlaDecode, variantId } from '../../dsl/kernels/mlaDecode.ts';
import {
  applySettings,
  DEFAULT_TUNE_SPACE,
  enumerateSpace,
  param,
  parseSpaceJson,
  pruneSpace,
  registerPairs,
  spaceSize,
  type TuneSpace,
} from '../../dsl/tune/space.ts';

const lowerError = (c: typeof DEFAULT_MLA_DECODE): string | null => {
  try {
    lowerMlaDecode(c);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('tuning space', () => {
  it('declares typed parameters over MlaDecodeConfig paths', () => {
    const paths = DEFAULT_TUNE_SPACE.params.map((p) => p.path);
    expect(paths).toEqual(['kvStages', 'registers', 'schedule.fixedOverheadBlocks', 'mathSchedule', 'l2Hint']);
    expect(registerPairs([24, 40], [216, 240])).toEqual([
      { producer: 24, consumer: 216 },
      { producer: 24, consumer: 240 },
      { producer: 40, consumer: 216 },
      { producer: 40, consumer: 240 },
    ]);
    // @ts-expect-error kvStages takes numbers
    param('kvStages', ['2']);
    // @ts-expect-error not a field of the config
    param('kvStage', [2]);
    // @ts-expect-error mathSchedule is a closed union
    param('mathSchedule', ['pingpong']);
    expect(() => param('kvStages', [])).toThrow(/no values/);
  });

  it('enumerates the cartesian product, each variant id once, the baseline included', () => {
    const points = enumerateSpace(DEFAULT_TUNE_SPACE);
    expect(spaceSize(DEFAULT_TUNE_SPACE)).toBe(2 * 12 * 4 * 2 * 4);
    expect(points).toHaveLength(768);
    expect(new Set(points.map((p) => p.variantId)).size).toBe(points.length);
    expect(points.map((p) => p.index)).toEqual(points.map((_, i) => i));
    expect(points.some((p) => p.variantId === variantId(DEFAULT_MLA_DECODE))).toBe(true);
    for (const p of points) {
      expect(p.config.kvStages).toBe(p.settings['kvStages']);
      expect(p.config.schedule.fixedOverheadBlocks).toBe(p.settings['schedule.fixedOverheadBlocks']);
      expect(p.config.schedule.blockN).toBe(DEFAULT_MLA_DECODE.schedule.blockN); // siblings kept
      expect(variantId(p.config)).toBe(p.variantId);
    }
    // The input is never mutated.
    expect(DEFAULT_MLA_DECODE.kvStages).toBe(2);
    expect(DEFAULT_MLA_DECODE.schedule.fixedOverheadBlocks).toBe(5);
  });

  it('adds the baseline first when the product does not hold it', () => {
    const space: TuneSpace = { base: DEFAULT_MLA_DECODE, params: [param('schedule.fixedOverheadBlocks', [2, 3])] };
    const points = enumerateSpace(space);
    expect(points.map((p) => p.variantId)).toEqual([variantId(DEFAULT_MLA_DECODE), `${variantId(DEFAULT_MLA_DECODE)}_fo2`, `${variantId(DEFAULT_MLA_DECODE)}_fo3`]);
    expect(points[0]!.settings).toEqual({ 'schedule.fixedOverheadBlocks': 5 });
  });

  it('prunes with the real lowerMlaDecode, keeping the DSL error as the reason', () => {
    const { candidates, pruned } = pruneSpace(DEFAULT_TUNE_SPACE);
    const points = enumerateSpace(DEFAULT_TUNE_SPACE);
    expect(candidates.length + pruned.length).toBe(points.length);
    expect(candidates.length).toBeGreaterThan(0);
    expect(pruned.length).toBeGreaterThan(0);
    for (const c of candidates) expect(lowerError(c.config)).toBeNull();
    for (const p of pruned) {
      expect(p.reason).toBe(lowerError(p.config));
      expect(p.reason).toMatch(/^mlaDecode > /);
    }
    // The register model: 2 consumer warpgroups + 1 producer, 128 threads each, sharing the 168 x 384
    // registers the CTA is launched with.
    for (const p of points) {
      const r = p.config.registers;
      if (256 * r.consumer + 128 * r.producer > 168 * 384) {
        const hit = pruned.find((x) => x.variantId === p.variantId);
        expect(hit?.reason).toMatch(/registers.*64512 the CTA holds/);
      }
    }
    expect(candidates.filter((c) => c.baseline).map((c) => c.variantId)).toEqual([variantId(DEFAULT_MLA_DECODE)]);
    expect(candidates.every((c) => c.plan.variantId === c.variantId)).toBe(true);
  });

  it('never throws while pruning, whatever the lowering throws', () => {
    const space: TuneSpace = { base: DEFAULT_MLA_DECODE, params: [param('kvStages', [1, 2, 3])] };
    const out = pruneSpace(space, (c) => {
      if (c.kvStages === 3) throw new TypeError('template not found');
      if (c.kvStages === 1) throw 'a string';
      return lowerMlaDecode(c);
    });
    expect(out.candidates.map((c) => c.config.kvStages)).toEqual([2]);
    expect(out.pruned.map((p) => p.reason)).toEqual(['a string', 'template not found']);
    // A value the resource model rejects: 3 stages of 72 KiB do not fit beside Q.
    const real = pruneSpace({ base: DEFAULT_MLA_DECODE, params: [param('kvStages', [2, 3])] });
    expect(real.pruned.map((p) => p.variantId)).toEqual([`${variantId(DEFAULT_MLA_DECODE).replace('_st2_', '_st3_')}`]);
    expect(real.pruned[0]!.reason).toMatch(/smemPlan.*232448/);
  });

  it('reads a --space JSON, checking paths and types against the config', () => {
    const s = parseSpaceJson({ params: { kvStages: [2], registers: { producer: [24], consumer: [232, 240] } }, replace: true });
    expect(s.params.map((p) => [p.path, p.values.length])).toEqual([
      ['kvStages', 1],
      ['registers', 2],
    ]);
    const merged = parseSpaceJson({ params: { l2Hint: ['evict_first'] } });
    expect(merged.params.map((p) => p.path)).toEqual(DEFAULT_TUNE_SPACE.params.map((p) => p.path));
    expect(merged.params.find((p) => p.path === 'l2Hint')!.values).toEqual(['evict_first']);
    const fp16 = parseSpaceJson({ base: { problem: { qDtype: 'fp16', kvDtype: 'fp16', outDtype: 'fp16' } }, params: {} });
    expect(fp16.base.problem.qDtype).toBe('fp16');
    expect(() => parseSpaceJson({ params: { kvStage: [1] } })).toThrow(/kvStage: not a field of mlaDecode/);
    expect(() => parseSpaceJson({ params: { kvStages: ['2'] } })).toThrow(/kvStages.*expected a number/);
    expect(() => parseSpaceJson({ params: { kvStages: [] } })).toThrow(/no values/);
    expect(() => parseSpaceJson({ base: { tile: { blockK: 1 } } })).toThrow(/blockK: unknown field/);
    expect(() => parseSpaceJson({ extra: 1 })).toThrow(/extra: unknown field/);
    expect(applySettings(DEFAULT_MLA_DECODE, { 'registers.consumer': 240 }).registers).toEqual({ producer: 40, consumer: 240 });
  });

  it('moves the schedule\'s KV step with the tile\'s unless the point names it', () => {
    expect(applySettings(DEFAULT_MLA_DECODE, { 'tile.blockN': 32 }).schedule.blockN).toBe(32);
    expect(applySettings(DEFAULT_MLA_DECODE, { tile: { blockM: 64, blockN: 16 } }).schedule.blockN).toBe(16);
    // Named, it stays what the point says, and lowering rejects the mismatch naming both fields.
    const named = applySettings(DEFAULT_MLA_DECODE, { 'tile.blockN': 32, 'schedule.blockN': 64 });
    expect(named.schedule.blockN).toBe(64);
    expect(lowerError(named)).toMatch(/schedule > blockN: 64 must equal tile\.blockN 32/);
    const s = parseSpaceJson({ params: { 'tile.blockN': [32, 64], kvStages: [2, 4] }, replace: true });
    const { candidates, pruned } = pruneSpace(s);
    expect(candidates.map((c) => c.variantId).sort()).toEqual([
      'mla_sm90_bf16_kvbf16_p64_m64n32_st2_c2sn',
      'mla_sm90_bf16_kvbf16_p64_m64n32_st4_c2sn',
      'mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn',
    ]);
    expect(pruned.map((p) => p.reason)).toEqual([expect.stringMatching(/smemPlan/)]);
  });
});
