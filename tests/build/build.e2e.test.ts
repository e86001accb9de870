// End to end with the real nvcc: a throwaway variant folder in a temp "repository" is compiled,
// linked and resource-checked; the second build must come entirely from the cache.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVariants, listVariants } from '../../scripts/build/build.ts';
import { locateNvcc, type NvccInfo } from '../../scripts/build/nvcc.ts';
import { BUILD_EXIT, runBuildCommand } from '../../scripts/commands/build.ts';

const found: NvccInfo | Error = await locateNvcc().catch((e: Error) => e);
const nvcc = found instanceof Error ? null : found;
const skipReason = found instanceof Error ? ` (skipped: ${found.message})` : '';
// The default reporter hides suite names of skipped suites; say it where it will be seen.
if (found instanceof Error) console.warn(`tests/build/build.e2e.test.ts: nvcc tests skipped: ${found.message}`);

let root: string;

const DECODE_CU = `// A trivial kernel, a header next to it and one from the include dir.
#include "tiny_kernel.cuh"
#include <tiny/scale.h>
__global__ void tiny_scale(float* x, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] *= TINY_SCALE; }
extern "C" int tiny_answer(void) { return TINY_ANSWER; }
`;
const HARNESS_CU = `#include <cstdio>
extern "C" int tiny_answer(void);
int main() { std::printf("answer %d\\n", tiny_answer()); return 0; }
`;
const SPILL_CU = `__global__ void spiller(float* out, const float* in, int k) {
  float acc[256];
#pragma unroll
  for (int i = 0; i < 256; ++i) acc[i] = in[threadIdx.x * 256 + i];
  for (int j = 0; j < k; ++j) {
#pragma unroll
    for (int i = 0; i < 256; ++i) acc[i] = acc[i] * acc[(i + 7) & 255] + 1.f;
  }
  float s = 0;
#pragma unroll
  for (int i = 0; i < 256; ++i) s += acc[i];
  out[threadIdx.x] = s;
}
`;

function buildJson(variantId: string, extra: Record<string, unknown> = {}) {
  return {
    variantId,
    allowSpills: false,
    allowLocalMemory: false,
    includeDirs: ['include'],
    nvccFlags: ['-std=c++17', '-O3'],
    objects: [
      { name: 'decode', source: 'decode.cu', ptxasReport: true },
      { name: 'harness', source: 'harness.cu', ptxasReport: false },
    ],
    links: [
      { name: 'libmlagen', kind: 'shared', objects: ['decode'], libs: [] },
      { name: 'harness', kind: 'executable', objects: ['harness', 'decode'], libs: ['-ldl'] },
    ],
    ...extra,
  };
}

async function writeVariant(id: string, files: Record<string, string>, spec: object): Promise<void> {
  const dir = path.join(root, 'generated', id);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  await writeFile(path.join(dir, 'build.json'), JSON.stringify(spec, null, 2));
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mlagen-build-'));
  await mkdir(path.join(root, 'include', 'tiny'), { recursive: true });
  await writeFile(path.join(root, 'include', 'tiny', 'scale.h'), '#pragma once\n#define TINY_SCALE 2.0f\n');
  const tinyFiles = { 'decode.cu': DECODE_CU, 'harness.cu': HARNESS_CU, 'tiny_kernel.cuh': '#pragma once\n#define TINY_ANSWER 42\n' };
  await writeVariant('tiny', tinyFiles, buildJson('tiny'));
  await writeVariant('spilly', { ...tinyFiles, 'decode.cu': `${DECODE_CU}${SPILL_CU}` }, buildJson('spilly', { nvccFlags: ['-O3', '-maxrregcount=32'] }));
  await writeVariant('broken', { ...tinyFiles, 'decode.cu': `${DECODE_CU}\nthis is not C++;\n` }, buildJson('broken'));
  await mkdir(path.join(root, 'generated', 'not-a-variant'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!nvcc)(`build with nvcc${skipReason}`, () => {
  it('lists the variant folders that have a build.json', async () => {
    expect(await listVariants(root)).toEqual(['broken', 'spilly', 'tiny']);
  });

  it('compiles, links and reports a tiny variant', async () => {
    const [r] = await buildVariants(['tiny'], { root, nvcc: nvcc!, jobs: 2 });
    expect(r!.errors).toEqual([]);
    expect(r).toMatchObject({ variantId: 'tiny', ok: true, cached: false });
    expect(r!.steps.map((s) => [s.id, s.status, s.cached])).toEqual([
      ['tiny/decode.o', 'done', false],
      ['tiny/harness.o', 'done', false],
      ['tiny/libmlagen.so', 'done', false],
      ['tiny/harness', 'done', false],
    ]);
    const out = path.join(root, 'build', 'tiny');
    expect(r!.outputs.links).toEqual({ libmlagen: path.join(out, 'libmlagen.so'), harness: path.join(out, 'harness') });
    for (const f of ['decode.o', 'harness.o', 'libmlagen.so', 'harness', 'decode.ptxas.log', 'report.json']) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
    }
    expect(execFileSync(path.join(out, 'harness'), { encoding: 'utf8' })).toBe('answer 42\n');

    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ variantId: 'tiny', nvccVersion: nvcc!.version, violations: [] });
    expect(report.kernels).toEqual([expect.objectContaining({ displayName: 'tiny_scale', arch: 'sm_90a', object: 'decode', spillStoreBytes: 0 })]);
    expect(report.kernels[0].registers).toBeGreaterThan(0);
  });

  it('serves an unchanged variant from the cache without running nvcc', async () => {
    // An nvcc that cannot run: any compile or link would fail the build.
    const unusable = { ...nvcc!, path: path.join(root, 'no-such-nvcc') };
    const [r] = await buildVariants(['tiny'], { root, nvcc: unusable });
    expect(r!.errors).toEqual([]);
    expect(r).toMatchObject({ ok: true, cached: true });
    expect(r!.steps.every((s) => s.cached)).toBe(true);
    expect(r!.report!.kernels.map((k) => k.displayName)).toEqual(['tiny_scale']);
    const harness = path.join(root, 'build', 'tiny', 'harness');
    expect(statSync(harness).mode & 0o111).not.toBe(0);
    expect(execFileSync(harness, { encoding: 'utf8' })).toBe('answer 42\n');
  });

  it('recompiles only what includes a changed header', async () => {
    await writeFile(path.join(root, 'include', 'tiny', 'scale.h'), '#pragma once\n#define TINY_SCALE 3.0f\n');
    const [r] = await buildVariants(['tiny'], { root, nvcc: nvcc! });
    expect(r!.steps.map((s) => [s.id, s.cached])).toEqual([
      ['tiny/decode.o', false],
      ['tiny/harness.o', true],
      ['tiny/libmlagen.so', false],
      ['tiny/harness', false],
    ]);
  });

  it('fails a spilling variant with the kernel, the numbers and the switch, unless allowed', async () => {
    const [r] = await buildVariants(['spilly'], { root, nvcc: nvcc! });
    expect(r!.ok).toBe(false);
    expect(r!.errors).toHaveLength(1);
    expect(r!.errors[0]).toMatch(
      /^kernel spiller \(_Z7spillerPfPKfi\) in decode\.o spills registers: \d+ B spill stores, \d+ B spill loads, \d+ B stack frame, 32 registers\. Set "allowSpills": true in generated\/spilly\/build\.json to accept this\.$/,
    );
    expect(r!.report!.violations).toHaveLength(1);
    // The outputs are still built: the harness can be run to see what the spills cost.
    expect(r!.steps.every((s) => s.status === 'done')).toBe(true);

    await writeFile(path.join(root, 'generated', 'spilly', 'build.json'), JSON.stringify(buildJson('spilly', { nvccFlags: ['-O3', '-maxrregcount=32'], allowSpills: true })));
    const [allowed] = await buildVariants(['spilly'], { root, nvcc: nvcc! });
    expect(allowed).toMatchObject({ ok: true, cached: true, errors: [] });
  });

  it("reports nvcc's error and skips the links of a variant that does not compile", async () => {
    const [r] = await buildVariants(['broken'], { root, nvcc: nvcc! });
    expect(r!.ok).toBe(false);
    expect(r!.errors[0]).toMatch(/^broken\/decode\.o: nvcc failed \(exit \d+\) compiling generated\/broken\/decode\.cu:\n.*error/s);
    expect(r!.errors[0]).toMatch(/command: .*nvcc .*-c .*decode\.cu/);
    expect(r!.steps.map((s) => [s.id, s.status])).toEqual([
      ['broken/decode.o', 'failed'],
      ['broken/harness.o', 'done'],
      ['broken/libmlagen.so', 'skipped'],
      ['broken/harness', 'skipped'],
    ]);
    expect(r!.report).toBeNull();
    expect(existsSync(path.join(root, 'build', 'broken', 'report.json'))).toBe(false);
  });

  it('mlagen build --json prints only JSON on stdout and exits non-zero when a variant fails', async () => {
    let stdout = '';
    let stderr = '';
    const progressStream = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), progressStream };
    expect(await runBuildCommand(['tiny'], { root, json: true }, io)).toBe(BUILD_EXIT.ok);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, variants: [{ variantId: 'tiny', ok: true, cached: true }] });

    stdout = '';
    expect(await runBuildCommand(['tiny', 'nope'], { root, json: true }, io)).toBe(BUILD_EXIT.failed);
    const result = JSON.parse(stdout);
    expect(result.ok).toBe(false);
    expect(result.variants[1].errors[0]).toContain('generated/nope/build.json not found; run `mlagen generate` first');
    expect(stderr).toBe('');
  });
});

describe('mlagen build without nvcc', () => {
  it('exits with its own code and says what was found', async () => {
    const saved = process.env['NVCC'];
    process.env['NVCC'] = path.join(tmpdir(), 'mlagen-definitely-missing-nvcc');
    let stdout = '';
    let stderr = '';
    try {
      const code = await runBuildCommand([], { json: true }, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
      expect(code).toBe(BUILD_EXIT.noNvcc);
    } finally {
      if (saved === undefined) delete process.env['NVCC'];
      else process.env['NVCC'] = saved;
    }
    expect(stderr).toMatch(/^mlagen build: nvcc not found: \$NVCC is .*mlagen-definitely-missing-nvcc, which is not an executable file/);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, exitCode: 3 });
  });
});
