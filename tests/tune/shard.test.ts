import { describe, expect, it } from 'vitest';

import { DEFAULT_TUNE_SPACE, pruneSpace } from '../../dsl/tune/space.ts';
import { parseShard, takeShard } from '../../scripts/tune/shard.ts';

describe('--shard i/n', () => {
  it('parses i/n and rejects what Slurm would not mean', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(parseShard(' 0 / 1 ')).toEqual({ index: 0, count: 1 });
    expect(() => parseShard('8/8')).toThrow(/0\.\.7/);
    expect(() => parseShard('1/0')).toThrow(/n must be >= 1/);
    expect(() => parseShard('1-8')).toThrow(/expected i\/n/);
    expect(() => parseShard('-1/4')).toThrow(/expected i\/n/);
  });

  it('splits the pruned space into disjoint shards that cover it, deterministically', () => {
    const ids = pruneSpace(DEFAULT_TUNE_SPACE).candidates.map((c) => c.variantId);
    for (const n of [1, 2, 3, 7, 8, ids.length, ids.length + 5]) {
      const shards = Array.from({ length: n }, (_, i) => takeShard(ids, { index: i, count: n }));
      const all = shards.flat();
      expect(all).toHaveLength(ids.length);
      expect(new Set(all).size).toBe(ids.length);
      expect([...all].sort()).toEqual([...ids].sort());
      const sizes = shards.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      // The same shard of the same space, computed again, is the same.
      expect(takeShard(pruneSpace(DEFAULT_TUNE_SPACE).candidates.map((c) => c.variantId), { index: 0, count: n })).toEqual(shards[0]);
    }
  });
});
