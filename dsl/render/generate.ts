// Writes (or checks) generated/: one folder per catalogue variant plus manifest.ts.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './repoRoot.ts';
import { CATALOGUE } from '../catalogue.ts';
import { lowerMlaDecode } from '../kernels/mlaDecode.ts';
import type { KernelPlan } from '../plan/kernelPlan.ts';
import { DISPATCH_ID, dispatchRules } from '../dispatch.ts';
import { renderDispatch } from './dispatch.ts';
import { dispatchPolicy } from './dispatchPolicy.ts';
import { renderManifest } from './manifest.ts';
import { renderVariant } from './render.ts';

export const GENERATED_DIR = join(REPO_ROOT, 'generated');

export interface GeneratedTree {
  plans: KernelPlan[];
  /** Path relative to generated/ -> text. */
  files: Map<string, string>;
}

export function renderCatalogue(): GeneratedTree {
  const plans = CATALOGUE.map(lowerMlaDecode);
  assertUniqueIds(plans);
  const files = new Map<string, string>();
  for (const plan of plans) for (const f of renderVariant(plan)) files.set(`${plan.variantId}/${f.path}`, f.text);
  const routing = dispatchPolicy();
  const rules = dispatchRules(CATALOGUE, routing.policy);
  for (const f of renderDispatch(plans, rules, routing.source)) files.set(`${DISPATCH_ID}/${f.path}`, f.text);
  files.set('manifest.ts', renderManifest(plans, rules));
  return { plans, files };
}

/** Two catalogue entries with one id would share (and overwrite) one folder: an error naming both. */
export function assertUniqueIds(plans: readonly KernelPlan[]): void {
  const seen = new Map<string, number>();
  plans.forEach((plan, i) => {
    const first = seen.get(plan.variantId);
    if (first !== undefined)
      throw new Error(`catalogue: entries ${first} and ${i} both lower to variant ${plan.variantId}; variantId must spell what tells them apart`);
    seen.set(plan.variantId, i);
  });
}

/** generated/tuning/ is written by `mlagen tune`, not by the catalogue: generate leaves it alone. */
const NOT_RENDERED = new Set(['tuning']);

function listTree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !(prefix === '' && NOT_RENDERED.has(e.name)));
  return entries.flatMap((e) =>
    e.isDirectory() ? listTree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

export interface Staleness {
  changed: string[];
  missing: string[];
  extra: string[];
}

export function checkGenerated(tree: GeneratedTree, dir = GENERATED_DIR): Staleness {
  const onDisk = new Set(listTree(dir));
  const result: Staleness = { changed: [], missing: [], extra: [] };
  for (const [path, text] of tree.files) {
    if (!onDisk.has(path)) result.missing.push(path);
    else if (readFileSync(join(dir, path), 'utf8') !== text) result.changed.push(path);
    onDisk.delete(path);
  }
  result.extra = [...onDisk].sort();
  return result;
}

export function writeGenerated(tree: GeneratedTree, dir = GENERATED_DIR): Staleness {
  const stale = checkGenerated(tree, dir);
  for (const path of stale.extra) rmSync(join(dir, path));
  for (const e of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : [])
    if (e.isDirectory() && !NOT_RENDERED.has(e.name) && readdirSync(join(dir, e.name)).length === 0) rmSync(join(dir, e.name), { recursive: true });
  for (const path of [...stale.missing, ...stale.changed]) {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, tree.files.get(path)!);
  }
  return stale;
}
