// The cp.async K/V loader (kvLoader 'cp.async', any page size) is no catalogue variant, so nothing else in CI
// compiles it: render the one-token-page variant beside the catalogue and build it through the real driver
// (nvcc, ptxas resource check: no spills, no local memory, no serialised wgmma).
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../dsl/config.ts';
import { lowerMlaDecode } from '../../dsl/kernels/mlaDecode.ts';
import { renderVariant } from '../../dsl/render/render.ts';
import { buildVariants } from '../../scripts/build/build.ts';
import { locateNvcc } from '../../scripts/build/nvcc.ts';

const found = await locateNvcc().catch((e: Error) => e);
const nvcc = found instanceof Error ? null : found;
const skip = nvcc ? '' : ` (skipped: no usable nvcc: ${(found as Error).message})`;

describe.skipIf(!nvcc)(`the cp.async K/V loader${skip}`, () => {
  it('builds with one token per page, within its register budgets', async () => {
    const plan = lowerMlaDecode(resolveConfig({ kvLoader: 'cp.async', problem: { pageSize: 1 } }));
    const work = await mkdtemp(path.join(tmpdir(), 'mlagen-cpasync-'));
    try {
      const dir = path.join(work, plan.variantId);
      await mkdir(dir, { recursive: true });
      for (const f of renderVariant(plan)) await writeFile(path.join(dir, f.path), f.text);
      const [r] = await buildVariants([plan.variantId], { nvcc: nvcc!, generatedDir: work, buildDir: work, jobs: 2 });
      expect(r!.errors).toEqual([]);
      expect(r!.ok).toBe(true);
      const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as { violations: unknown[] };
      expect(report.violations).toEqual([]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 300_000);
});
