// User configs (JSON) are partial MlaDecodeConfigs merged over the defaults. Unknown fields and
// wrong types are errors that name their path, so a typo never silently falls back to a default.
import { readFileSync } from 'node:fs';
import { Checker } from './errors.ts';
import type { MlaDecodeConfig } from './kernels/mlaDecode.ts';
import { DEFAULT_MLA_DECODE } from './kernels/mlaDecode.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function merge(base: unknown, over: Json, c: Checker, field: string): unknown {
  if (over === undefined) return base;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(base)) {
    if (!isObj(over)) {
      c.fail(field, `expected an object, got ${JSON.stringify(over)}`);
      return base;
    }
    const out: Record<string, unknown> = { ...base };
    const sub = field ? c.at(field) : c;
    for (const [k, v] of Object.entries(over)) {
      if (!(k in base)) sub.fail(k, `unknown field (known: ${Object.keys(base).join(', ')})`);
      else out[k] = merge(base[k], v, sub, k);
    }
    return out;
  }
  // Leaves: the type must match the default's.
  if (typeof base !== typeof over) {
    c.fail(field, `expected a ${typeof base}, got ${JSON.stringify(over)}`);
    return base;
  }
  return over;
}

export function resolveConfig(partial: Json): MlaDecodeConfig {
  const c = new Checker(['mlaDecode']);
  const cfg = merge(DEFAULT_MLA_DECODE, partial, c, '') as MlaDecodeConfig;
  c.throwIfAny();
  const named = (obj: Json | undefined, key: string): boolean =>
    typeof obj === 'object' && obj !== null && !Array.isArray(obj) && obj[key] !== undefined;
  const tile = named(partial, 'tile') ? (partial as { tile: Json }).tile : undefined;
  const schedule = named(partial, 'schedule') ? (partial as { schedule: Json }).schedule : undefined;
  return scheduleFollowsTile(cfg, { blockN: named(tile, 'blockN') && !named(schedule, 'blockN'), blockM: named(tile, 'blockM') && !named(schedule, 'blockM') });
}

/**
 * The split-KV schedule cuts requests on the tile's KV steps and m-blocks, so where a config changes
 * tile.blockN or tile.blockM without naming the schedule's own, the schedule's follows (`follow`). A schedule
 * block that is named must still equal the tile's: lowering says so, naming both fields.
 */
export function scheduleFollowsTile(cfg: MlaDecodeConfig, follow: { blockN: boolean; blockM: boolean }): MlaDecodeConfig {
  if (!follow.blockN && !follow.blockM) return cfg;
  const schedule = { ...cfg.schedule };
  if (follow.blockN) schedule.blockN = cfg.tile.blockN;
  if (follow.blockM) schedule.blockM = cfg.tile.blockM;
  return { ...cfg, schedule };
}

export function loadConfigFile(path: string): MlaDecodeConfig {
  let parsed: Json;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (e) {
    throw new Error(`${path}: not a readable JSON config (${(e as Error).message})`);
  }
  return resolveConfig(parsed);
}
