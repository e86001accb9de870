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
  // Leaves: the type must match the default's, except unions documented on the type ('runtime' | number).
  if (typeof base !== typeof over && !(field === 'softmaxScale')) {
    c.fail(field, `expected a ${typeof base}, got ${JSON.stringify(over)}`);
    return base;
  }
  return over;
}

export function resolveConfig(partial: Json): MlaDecodeConfig {
  const c = new Checker(['mlaDecode']);
  const cfg = merge(DEFAULT_MLA_DECODE, partial, c, '') as MlaDecodeConfig;
  c.throwIfAny();
  return cfg;
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
