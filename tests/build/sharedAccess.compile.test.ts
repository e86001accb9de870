// The decode kernels must address shared memory as shared: a generic ld/st (no state space) in their PTX
// means a pointer lost its address space (e.g. the smem base rounded through an integer), which costs
// 64-bit address registers and a generic-to-shared translation on every access.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { compileFlags, locateNvcc } from '../../scripts/build/nvcc.ts';
import { readBuildSpec } from '../../scripts/build/spec.ts';
import { variants } from '../../generated/manifest.ts';

const nvcc = await locateNvcc().catch((e: Error) => e);
const skipReason = nvcc instanceof Error ? `no usable nvcc: ${nvcc.message}` : '';

/** The body of each `.entry` whose name contains `needle`. */
function entryBodies(ptx: string, needle: string): string[] {
  return ptx
    .split(/\n(?=\.(?:visible\s+)?\.?entry\s)/)
    .filter((chunk) => /^\.(?:visible\s+)?\.?entry\s/.test(chunk) && chunk.split('(')[0]!.includes(needle));
}

/** ld/st without .shared/.global/.local/.param/.const: generic addressing. */
const GENERIC_ACCESS = /^\s*(?:@!?%p\d+\s+)?(?:ld|st)(?:\.(?:volatile|weak|relaxed|acquire|release)(?:\.\w+)?)?\.(?:v[248]\.)?[usfb]\d+\b/gm;

describe.skipIf(!!skipReason)(`decode kernels address shared memory as shared${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('flags a generic access and passes a shared one (the pattern itself)', () => {
    expect('\tst.u32 \t[%rd4], %r7;'.match(GENERIC_ACCESS)).toHaveLength(1);
    expect('\t@%p3 ld.f32 \t%f1, [%rd2+8];'.match(GENERIC_ACCESS)).toHaveLength(1);
    expect('\tst.shared.u32 \t[%r4], %r7;\n\tld.global.nc.u32 %r1, [%rd1];'.match(GENERIC_ACCESS)).toBeNull();
  });

  it('has no generic ld/st in any catalogue decode kernel', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlagen-ptx-'));
    try {
      await Promise.all(
        variants.map(async (v) => {
          const out = path.join(dir, `${v.id}.ptx`);
          // The flags `mlagen build` compiles the variant with (its build.json), stopping at PTX.
          const spec = await readBuildSpec(path.join('generated', v.id));
          const source = path.join('generated', v.id, 'decode.cu');
          await execa((nvcc as { path: string }).path, [...compileFlags(spec.nvccFlags, spec.includeDirs), '-ptx', source, '-o', out]);
          const bodies = entryBodies(await readFile(out, 'utf8'), `${v.id}_kernel`);
          expect(bodies.length, `${v.id}: decode kernel entry in the PTX`).toBe(1);
          expect(bodies[0]!.match(GENERIC_ACCESS) ?? [], v.id).toEqual([]);
        }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
