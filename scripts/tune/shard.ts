// `--shard i/n`: shard i of n takes every n-th candidate, starting at the i-th, of the pruned
// space in enumeration order. The shards are disjoint and together cover the space, and a shard's
// candidates depend only on the space, never on what another shard did.

export interface Shard {
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 0, count: 1 };

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard: expected i/n (e.g. 0/8), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`--shard ${text}: n must be >= 1`);
  if (index >= count) throw new Error(`--shard ${text}: i must be in 0..${count - 1} (Slurm: --array=0-${count - 1})`);
  return { index, count };
}

export function takeShard<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, k) => k % shard.count === shard.index);
}

export const shardLabel = (s: Shard): string => `${s.index}/${s.count}`;
