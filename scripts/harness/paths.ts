// Where things are: the repository root, a variant's harness binary, the variants of the manifest.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * The variant ids of generated/manifest.ts, in order ([] if there is no manifest). Imports it where
 * TypeScript can be imported (tsx, vitest); elsewhere (plain node) reads the `id:` fields of its text.
 */
export async function manifestVariantIds(root: string): Promise<string[]> {
  const file = join(root, 'generated', 'manifest.ts');
  if (!existsSync(file)) return [];
  try {
    const mod = (await import(pathToFileURL(file).href)) as { variants?: ReadonlyArray<{ id?: unknown }> };
    const ids = (mod.variants ?? []).map((v) => v.id).filter((id): id is string => typeof id === 'string' && id !== '');
    if (ids.length) return ids;
  } catch {
    // Plain node cannot import .ts: fall back to reading the text.
  }
  return [...readFileSync(file, 'utf8').matchAll(/^\s*id\s*:\s*(['"`])([^'"`]+)\1/gm)].map((m) => m[2]!);
}

/** The q dtype generated/manifest.ts gives a variant ('bf16' | 'fp16'), or undefined. */
export async function variantDtype(root: string, id: string): Promise<'bf16' | 'fp16' | undefined> {
  const file = join(root, 'generated', 'manifest.ts');
  if (!existsSync(file)) return undefined;
  let q: unknown;
  try {
    const mod = (await import(pathToFileURL(file).href)) as { variants?: ReadonlyArray<{ id?: unknown; qDtype?: unknown }> };
    q = mod.variants?.find((v) => v.id === id)?.qDtype;
  } catch {
    const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    q = new RegExp(`id\\s*:\\s*['"\`]${escaped}['"\`][^}]*?qDtype\\s*:\\s*['"\`](\\w+)`).exec(readFileSync(file, 'utf8'))?.[1];
  }
  return q === 'bf16' || q === 'fp16' ? q : undefined;
}

/**
 * The split-KV schedule a variant was generated with (generated/<id>/plan.json); for the dispatcher,
 * the one its routed variants share (the first route's). Undefined when neither file is there.
 */
export function variantSchedule(root: string, id: string): SplitKvSchedule | undefined {
  const planOf = (v: string) => join(root, 'generated', v, 'plan.json');
  let plan = planOf(id);
  const routes = join(root, 'generated', id, 'routes.json');
  if (!existsSync(plan) && existsSync(routes)) {
    const first = (JSON.parse(readFileSync(routes, 'utf8')) as { rules?: { variantId?: string }[] }).rules?.[0]?.variantId;
    if (first) plan = planOf(first);
  }
  if (!existsSync(plan)) return undefined;
  return (JSON.parse(readFileSync(plan, 'utf8')) as { schedule?: SplitKvSchedule }).schedule;
}

/** The first variant of generated/manifest.ts, or undefined if there is none. */
export async function defaultVariantId(root: string): Promise<string | undefined> {
  return (await manifestVariantIds(root))[0];
}
