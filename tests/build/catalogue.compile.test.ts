// Builds every catalogue variant with nvcc for sm_90a and checks ptxas's resource report.
import { describe, expect, it } from 'vitest';
import { buildVariants, listVariants } from '../../scripts/build/build.ts';
import { locateNvcc } from '../../scripts/build/nvcc.ts';
import { variants } from '../../generated/manifest.ts';
import { DISPATCH_ID } from '../../dsl/dispatch.ts';

const nvcc = await locateNvcc().catch((e: Error) => e);
const skipReason = nvcc instanceof Error ? `no usable nvcc: ${nvcc.message}` : '';

describe.skipIf(!!skipReason)(`catalogue compiles for sm_90a${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('lists every manifest variant and the dispatcher as buildable', async () => {
    expect((await listVariants()).sort()).toEqual([...variants.map((v) => v.id), DISPATCH_ID].sort());
  });

  it('builds every variant with no spills, no local memory, within the register cap', async () => {
    const results = await buildVariants([...variants.map((v) => v.id), DISPATCH_ID], { nvcc: nvcc as never });
    for (const r of results) {
      expect(r.errors, r.variantId).toEqual([]);
      expect(r.ok, r.variantId).toBe(true);
      const kernels = r.report!.kernels;
      const decodeKernels = kernels.filter((k) => k.name.includes('_kernel') && k.name.includes('mla_sm90_'));
      expect(decodeKernels.length, `${r.variantId}: decode kernels in the ptxas report`).toBeGreaterThan(0);
      for (const k of kernels) {
        expect(k.spillStoreBytes + k.spillLoadBytes, k.name).toBe(0);
        expect(k.stackFrameBytes, k.name).toBe(0);
      }
      // __launch_bounds__(threads, 1) caps registers at 65536 / threads, rounded down to 8 (384 threads: 168; 256: 255).
      for (const k of decodeKernels) {
        const v = [...variants].sort((x, y) => y.id.length - x.id.length).find((x) => k.name.includes(`${x.id}_kernel`));
        expect(v, `${k.name}: its variant`).toBeDefined();
        expect(k.registers ?? Infinity, k.name).toBeLessThanOrEqual(Math.min(255, Math.floor(65536 / v!.threads / 8) * 8));
      }
      expect(r.warnings.filter((w) => /serializ|setmaxnreg/i.test(w)), r.variantId).toEqual([]);
    }
    // A cold cache compiles every variant (17 today: ~85 s on 2 cores), well past the suite's 120 s default.
  }, 900_000);
});
