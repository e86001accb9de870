// An fp8_e4m3 KV cache (widened to the math dtype by the producer warpgroup) is no catalogue variant, so nothing else
// in CI compiles it: render one beside the catalogue and build it through the real driver (nvcc, ptxas resource check:
// no spills, no local memory, no serialised wgmma). scripts/device/coverage.json has it checked on the GPU.
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

describe.skipIf(!nvcc)(`an fp8_e4m3 KV cache${skip}`, () => {
  it.each([
    ['in bf16 (integer widening)', 'query'],
    ["in fp16 (mathDtype 'fp16': the hardware conversion, Q converted once a piece)", 'fp16'],
  ])('builds with bf16 queries computed %s, within its register budgets', async (_, mathDtype) => {
    const plan = lowerMlaDecode(resolveConfig({ problem: { kvDtype: 'fp8_e4m3' }, mathDtype, registers: { producer: 64, consumer: 216 } } as never));
    const work = await mkdtemp(path.join(tmpdir(), 'mlagen-fp8-'));
    try {
      const dir = path.join(work, plan.variantId);
      await mkdir(dir, { recursive: true });
      const files = renderVariant(plan);
      for (const f of files) await writeFile(path.join(dir, f.path), f.text);
      const decode = files.find((f) => f.path === 'decode.cu')!.text;
      expect(decode).toContain('produce_kv_widened(');
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
