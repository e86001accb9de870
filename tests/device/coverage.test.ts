// scripts/device/coverage.json lists DSL points beyond the catalogue that the release run checks on the GPU
// (final.sh PARTS=coverage). Each must still lower as the DSL evolves, and add something the catalogue lacks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { variants } from '../../generated/manifest.ts';
import { parseSpaceJson, pruneSpace } from '../../dsl/tune/space.ts';

const file = JSON.parse(readFileSync('scripts/device/coverage.json', 'utf8')) as { spaces: unknown[] };

describe('the GPU coverage list', () => {
  const catalogue = new Set(variants.map((v) => v.id));
  const points = file.spaces.map((raw) => pruneSpace(parseSpaceJson(raw)));

  it('lowers every point it names (nothing pruned)', () => {
    for (const [i, p] of points.entries()) expect(p.pruned.map((x) => `${x.variantId}: ${x.reason}`), `space ${i}`).toEqual([]);
  });

  it('adds points the catalogue does not build, each once', () => {
    // A space's baseline is built too: it counts when the catalogue lacks it (other head widths).
    const added = points.flatMap((p) => p.candidates.filter((c) => !c.baseline || !catalogue.has(c.variantId)).map((c) => c.variantId));
    expect(added.length).toBeGreaterThanOrEqual(18);
    expect(new Set(added).size).toBe(added.length);
    for (const id of added) expect(catalogue.has(id), id).toBe(false);
    // The kinds of choice it covers: KV step, page size, registers, each seesaw option, fp16, head widths, the cp.async loader,
    // an fp8 cache.
    for (const part of ['m64n32', 'm64n16', '_p32_', '_p128_', '_p256_', '_p512_', '_r24x240', '_qke', '_qkl', '_hs', '_oc', '_rs0', '_rs14', 'fp16_kvfp16_p16_m64n32', 'c2sn_d320v256', 'c2ss_d320v256', '_d512v512', '_p64_m64n64_st2_c2sn_ldca', '_p3_', '_p48_', 'fp16_kvfp16_p1_m64n32', 'bf16_kvfp8_e4m3_p64_', 'bf16_kvfp8_e4m3_p16_m64n64_st2_c2sn_r72x216', 'bf16_kvfp8_e4m3_pany_', 'fp16_kvfp8_e4m3_p64_m64n32_st4', 'bf16_kvfp8_e4m3_p64_m64n64_st2_c2sn_r64x216'])
      expect(added.some((id) => id.includes(part)), part).toBe(true);
  });
});
