// Where things are: the repository root, a variant's harness binary, the variants of the manifest.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { findRepoRoot } from '../../dsl/render/repoRoot.ts';
import type { SplitKvSchedule } from '../../dsl/schedule/splitKv.ts';

/** The checkout's root (the nearest folder above the working directory whose package.json is mlagen's). */
export function repoRoot(start = process.cwd()): string {
  return findRepoRoot(start);
}

/** build/<variantId>/harness */
export function harnessBinary(root: string, variantId: string): string {
  return join(root, 'build', variantId, 'harness');
}

/** A row of generated/manifest.ts (read from its text under plain node: only id and qDtype). */
export interface ManifestRow {
  id: string;
  qDtype?: string;
  kvDtype?: string;
  pageSize?: number;
  rows?: { min: number; max: number };
}

/**
 * The rows of generated/manifest.ts, in order ([] if there is no manifest). Imports it where
 * TypeScript can be imported (tsx, vitest); elsewhere (plain node, the bundle) reads the `id:` and
 * `qDtype:` fields of its text, each row's up to the next row's id.
 */
export async function manifestRows(root: string): Promise<ManifestRow[]> {
  const file = join(root, 'generated', 'manifest.ts');
  if (!existsSync(file)) return [];
  try {
    const mod = (await import(pathToFileURL(file).href)) as { variants?: ReadonlyArray<ManifestRow> };
    const rows = (mod.variants ?? []).filter((v) => typeof v.id === 'string' && v.id !== '').map((v) => ({ ...v }));
    if (rows.length) return rows;
  } catch {
    // Plain node cannot import .ts: fall back to reading the text.
  }
  const text = readFileSync(file, 'utf8');
  const ids = [...text.matchAll(/^\s*id\s*:\s*(['"`])([^'"`]+)\1/gm)];
  return ids.map((m, i) => {
    const own = text.slice(m.index, ids[i + 1]?.index ?? text.length);
    const q = /qDtype\s*:\s*['"`](\w+)/.exec(own)?.[1];
    return q ? { id: m[2]!, qDtype: q } : { id: m[2]! };
  });
}

/** The variant ids of generated/manifest.ts, in order. */
export async function manifestVariantIds(root: string): Promise<string[]> {
  return (await manifestRows(root)).map((r) => r.id);
}

/** The q dtype generated/manifest.ts gives a variant ('bf16' | 'fp16'), or undefined. */
export async function variantDtype(root: string, id: string): Promise<'bf16' | 'fp16' | undefined> {
  const q = (await manifestRows(root)).find((r) => r.id === id)?.qDtype;
  return q === 'bf16' || q === 'fp16' ? q : undefined;
}

/**
 * The KV page size a variant was generated for (plan.json; for the dispatcher, its first route's; with a harness
 * given, the plan.json beside it first).
 */
export function variantPageSize(root: string, id: string, harness?: string): number | undefined {
  const page = variantPlan(root, id, harness)?.config?.problem?.pageSize;
  return typeof page === 'number' ? page : undefined;
}

/**
 * The dtype, KV page size and cache the cases of a variant run in: the given ones, else the variant's own. A harness
 * built outside generated/ (a tune candidate, a coverage point) is read by the plan.json beside it.
 */
export async function variantSettings(
  root: string,
  id: string,
  given: { dtype?: 'bf16' | 'fp16' | undefined; pageSize?: number | undefined; kvDtype?: 'fp8' | undefined; harness?: string | undefined },
): Promise<{ dtype: 'bf16' | 'fp16' | undefined; pageSize: number | undefined; kvFp8: boolean }> {
  const problem = variantPlan(root, id, given.harness)?.config?.problem;
  const q = problem?.qDtype;
  const own = q === 'bf16' || q === 'fp16' ? q : await variantDtype(root, id);
  // An fp8 cache: asked for (the dispatcher routes by it), or the variant's own (the harness's --kv-dtype fp8).
  const kvFp8 = given.kvDtype === 'fp8' || problem?.kvDtype === 'fp8_e4m3';
  return { dtype: given.dtype ?? own, pageSize: given.pageSize ?? variantPageSize(root, id, given.harness), kvFp8 };
}

/**
 * The split-KV schedule a variant was generated with (generated/<id>/plan.json); for the dispatcher,
 * the one its routed variants share (the first route's). Undefined when neither file is there.
 */
export function variantSchedule(root: string, id: string): SplitKvSchedule | undefined {
  return variantPlan(root, id)?.schedule;
}

interface PlanFile {
  schedule?: SplitKvSchedule;
  config?: { problem?: { pageSize?: number; qDtype?: string; kvDtype?: string } };
}

/**
 * The plan.json beside `harness` when there is one, else generated/<id>/plan.json, or for the dispatcher (routes.json,
 * no plan) its planner's (the variant whose metadata it exports), else its first route's.
 */
function variantPlan(root: string, id: string, harness?: string): PlanFile | undefined {
  const beside = harness ? join(dirname(harness), 'plan.json') : undefined;
  if (beside && existsSync(beside)) return JSON.parse(readFileSync(beside, 'utf8')) as PlanFile;
  const planOf = (v: string) => join(root, 'generated', v, 'plan.json');
  let plan = planOf(id);
  const routes = join(root, 'generated', id, 'routes.json');
  if (!existsSync(plan) && existsSync(routes)) {
    const r = JSON.parse(readFileSync(routes, 'utf8')) as { planner?: string; rules?: { variantId?: string }[] };
    const first = r.planner ?? r.rules?.[0]?.variantId;
    if (first) plan = planOf(first);
  }
  if (!existsSync(plan)) return undefined;
  return JSON.parse(readFileSync(plan, 'utf8')) as PlanFile;
}

/** The first variant of generated/manifest.ts, or undefined if there is none. */
export async function defaultVariantId(root: string): Promise<string | undefined> {
  return (await manifestVariantIds(root))[0];
}
