// The tuning space: which MlaDecodeConfig fields the tuner may vary, and over which values.
// A space is a base config and a list of parameters, each a typed path into MlaDecodeConfig with
// its candidate values. `enumerateSpace` takes the cartesian product in a fixed order;
// `pruneSpace` lowers every point with `lowerMlaDecode` (the resource model: shared memory,
// registers, wgmma shapes, validity) before anything is rendered or compiled, and keeps the DSL's
// own words as the reason a point was dropped. Pure: no I/O.
import { resolveConfig, scheduleFollowsTile } from '../config.ts';
import type { MlaDecodeConfig } from '../kernels/mlaDecode.ts';
import { DEFAULT_MLA_DECODE, lowerMlaDecode, variantId } from '../kernels/mlaDecode.ts';
import type { KernelPlan } from '../plan/kernelPlan.ts';

// ---- typed paths -----------------------------------------------------------------------------

type Primitive = string | number | boolean;

/** Dotted paths into T: 'kvStages', 'registers', 'registers.consumer', 'schedule.fixedOverheadBlocks', ... */
export type ConfigPath<T = MlaDecodeConfig> = {
  [K in keyof T & string]: T[K] extends Primitive ? K : K | `${K}.${ConfigPath<T[K]>}`;
}[keyof T & string];

/** The type of the value at a dotted path. */
export type ValueAt<T, P extends string> = P extends `${infer H}.${infer R}`
  ? H extends keyof T
    ? ValueAt<T[H], R>
    : never
  : P extends keyof T
    ? T[P]
    : never;

export interface TuneParam<P extends ConfigPath = ConfigPath> {
  path: P;
  values: readonly ValueAt<MlaDecodeConfig, P>[];
  /** What varying it trades, in a few words. */
  about: string;
}

/** A parameter of any path (what a space holds). */
export type AnyTuneParam = { [P in ConfigPath]: TuneParam<P> }[ConfigPath];

/** A typed parameter: `param('kvStages', [1, 2], '...')` checks the values against the config type. */
export function param<P extends ConfigPath>(path: P, values: readonly ValueAt<MlaDecodeConfig, P>[], about = ''): TuneParam<P> {
  if (values.length === 0) throw new Error(`tune space > ${path}: no values`);
  return { path, values, about };
}

/** (producer, consumer) setmaxnreg pairs: the cross product, left for the resource model to filter. */
export function registerPairs(producers: readonly number[], consumers: readonly number[]): MlaDecodeConfig['registers'][] {
  return producers.flatMap((producer) => consumers.map((consumer) => ({ producer, consumer })));
}

export interface TuneSpace {
  /** The config every point starts from; its own point is always a candidate (the baseline). */
  base: MlaDecodeConfig;
  params: readonly AnyTuneParam[];
}

/** The default sweep over the kernel's tunables. */
export const DEFAULT_TUNE_SPACE: TuneSpace = {
  base: DEFAULT_MLA_DECODE,
  params: [
    param('kvStages', [1, 2], 'K/V tiles in flight: latency hiding against shared memory'),
    param('registers', registerPairs([24, 40, 56], [216, 224, 232, 240]), 'setmaxnreg budgets of producer and consumers'),
    param('schedule.fixedOverheadBlocks', [2, 3, 5, 8], 'split cost in KV blocks: how eagerly long requests are split'),
    param('mathSchedule', ['split-n', 'seesaw'], 'how the two consumer warpgroups share a KV step'),
    param('l2Hint', ['auto', 'evict_first', 'evict_last', 'evict_normal'], 'L2 policy of the K/V TMA loads'),
  ],
};

// ---- points ----------------------------------------------------------------------------------

export interface TunePoint {
  /** Position in the enumeration (the baseline, when added, is 0). */
  index: number;
  /** The value of every parameter at this point, by path. */
  settings: Record<string, unknown>;
  config: MlaDecodeConfig;
  variantId: string;
}

export interface Candidate extends TunePoint {
  plan: KernelPlan;
  /** This point is the space's base config. */
  baseline: boolean;
}

export interface PrunedPoint extends TunePoint {
  /** The DSL's error(s), one per line: which field, the value and the limit. */
  reason: string;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let obj = target;
  for (const k of keys.slice(0, -1)) {
    const next = obj[k];
    const copy = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as object) } : {};
    obj[k] = copy;
    obj = copy as Record<string, unknown>;
  }
  obj[keys[keys.length - 1]!] = structuredClone(value);
}

function getPath(source: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), source);
}

/**
 * The config with the given path values written over it (deep copies, the input is untouched). A point that
 * sets the tile's blockN or blockM and not the schedule's moves the schedule's with it (scheduleFollowsTile).
 */
export function applySettings(base: MlaDecodeConfig, settings: Record<string, unknown>): MlaDecodeConfig {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [path, value] of Object.entries(settings)) setPath(out, path, value);
  const sets = (...paths: string[]) => paths.some((p) => p in settings);
  return scheduleFollowsTile(out as unknown as MlaDecodeConfig, {
    blockN: sets('tile', 'tile.blockN') && !sets('schedule', 'schedule.blockN'),
    blockM: sets('tile', 'tile.blockM') && !sets('schedule', 'schedule.blockM'),
  });
}

/** How many points the cartesian product has. */
export function spaceSize(space: TuneSpace): number {
  return space.params.reduce((n, p) => n * p.values.length, 1);
}

/**
 * The cartesian product in a fixed order (the last parameter varies fastest), the baseline first
 * when the product does not already hold it, and each variant id once (the first point wins).
 */
export function enumerateSpace(space: TuneSpace): TunePoint[] {
  const params = space.params as readonly { path: string; values: readonly unknown[] }[];
  const settingsList: Record<string, unknown>[] = [{}];
  for (const p of params) {
    const next: Record<string, unknown>[] = [];
    for (const s of settingsList) for (const v of p.values) next.push({ ...s, [p.path]: v });
    settingsList.splice(0, settingsList.length, ...next);
  }
  const points: TunePoint[] = [];
  const seen = new Set<string>();
  const baseId = variantId(space.base);
  const add = (settings: Record<string, unknown>): void => {
    const config = applySettings(space.base, settings);
    const id = safeVariantId(config);
    if (seen.has(id)) return;
    seen.add(id);
    points.push({ index: points.length, settings, config, variantId: id });
  };
  const inProduct = settingsList.some((s) => safeVariantId(applySettings(space.base, s)) === baseId);
  if (!inProduct) add(Object.fromEntries(params.map((p) => [p.path, getPath(space.base, p.path)])));
  for (const s of settingsList) add(s);
  return points;
}

/** variantId of a config that may be invalid (a bad value must not stop the enumeration). */
function safeVariantId(c: MlaDecodeConfig): string {
  try {
    return variantId(c);
  } catch (e) {
    return `invalid:${JSON.stringify(c)}:${(e as Error).message}`;
  }
}

export interface PrunedSpace {
  candidates: Candidate[];
  pruned: PrunedPoint[];
  /** Points of the cartesian product (before the baseline is added and ids are made unique). */
  size: number;
}

/** Lowers every point; a point the DSL rejects is pruned with its error as the reason. Never throws. */
export function pruneSpace(space: TuneSpace, lower: (c: MlaDecodeConfig) => KernelPlan = lowerMlaDecode): PrunedSpace {
  const baseId = safeVariantId(space.base);
  const candidates: Candidate[] = [];
  const pruned: PrunedPoint[] = [];
  for (const point of enumerateSpace(space)) {
    try {
      const plan = lower(point.config);
      candidates.push({ ...point, plan, baseline: point.variantId === baseId });
    } catch (e) {
      pruned.push({ ...point, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { candidates, pruned, size: spaceSize(space) };
}

/** A short "path=value" summary of a point's settings, for listings. */
export function describeSettings(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .map(([k, v]) => {
      if (k === 'registers' && v && typeof v === 'object') {
        const r = v as { producer: unknown; consumer: unknown };
        return `registers=${r.producer}/${r.consumer}`;
      }
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    })
    .join(' ');
}

// ---- the --space JSON ------------------------------------------------------------------------

/**
 * A space file: `{ "base": { partial config }, "params": { "<path>": [values...] } }`.
 * "registers" may also be `{ "producer": [..], "consumer": [..] }` (the cross product). Paths must
 * exist in MlaDecodeConfig and every value must have the field's type (checked by resolveConfig,
 * so errors name the field). Params not named keep the default space's values unless
 * `"replace": true`, in which case only the named params vary.
 */
export function parseSpaceJson(raw: unknown, defaults: TuneSpace = DEFAULT_TUNE_SPACE): TuneSpace {
  const where = 'tune space';
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: expected an object with "base" and/or "params"`);
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj))
    if (!['base', 'params', 'replace'].includes(k)) throw new Error(`${where} > ${k}: unknown field (known: base, params, replace)`);
  const base = obj['base'] === undefined ? defaults.base : resolveConfig(obj['base'] as Parameters<typeof resolveConfig>[0]);
  const named = obj['params'] ?? {};
  if (typeof named !== 'object' || named === null || Array.isArray(named)) throw new Error(`${where} > params: expected an object of path -> values`);
  const params = new Map<string, { path: string; values: readonly unknown[]; about: string }>();
  if (obj['replace'] !== true) for (const p of defaults.params) params.set(p.path, p);
  for (const [path, value] of Object.entries(named as Record<string, unknown>)) {
    let values: unknown[];
    if (path === 'registers' && value && typeof value === 'object' && !Array.isArray(value)) {
      const r = value as { producer?: unknown; consumer?: unknown };
      if (!Array.isArray(r.producer) || !Array.isArray(r.consumer))
        throw new Error(`${where} > params > registers: expected [{producer, consumer}...] or {producer: [...], consumer: [...]}`);
      values = registerPairs(r.producer as number[], r.consumer as number[]);
    } else if (Array.isArray(value)) {
      values = value;
    } else {
      throw new Error(`${where} > params > ${path}: expected an array of values`);
    }
    if (values.length === 0) throw new Error(`${where} > params > ${path}: no values`);
    if (getPath(DEFAULT_MLA_DECODE, path) === undefined) throw new Error(`${where} > params > ${path}: not a field of mlaDecode`);
    for (const v of values) {
      // resolveConfig names the field and the expected type when a value does not fit.
      const partial: Record<string, unknown> = {};
      setPath(partial, path, v);
      try {
        resolveConfig(partial as Parameters<typeof resolveConfig>[0]);
      } catch (e) {
        throw new Error(`${where} > params > ${path}: ${JSON.stringify(v)}: ${(e as Error).message}`);
      }
    }
    params.set(path, { path, values, about: params.get(path)?.about ?? '' });
  }
  return { base, params: [...params.values()] as AnyTuneParam[] };
}
