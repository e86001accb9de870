// scripts/device/trace/instrument.py still finds every place it stamps in today's decode.cu (split-n and seesaw)
// and combine.cuh, and its output compiles for sm_90a (nvcc only; no GPU needed).
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { variants } from '../../generated/manifest.ts';

const root = resolve(import.meta.dirname, '../..');

async function has(cmd: string, args: string[]): Promise<boolean> {
  try {
    await execa(cmd, args);
    return true;
  } catch {
    return false;
  }
}
const nvcc = await has('nvcc', ['--version']);
const python = await has('python3', ['--version']);
const splitN = variants.find((v) => v.id.includes('_c2sn') && v.id.includes('_p64_'));
const ready = nvcc && python && splitN !== undefined;
const title = ready ? 'trace instrumentation (python3 + nvcc, sm_90a)' : 'trace instrumentation: skipped, nvcc or python3 is not on PATH';

/** Runs instrument.py on a generated variant and compiles its output; returns nvcc's result and whether trace.cu was written. */
async function instrumentAndCompile(variantId: string) {
  const dir = await mkdtemp(join(tmpdir(), 'mlagen-trace-'));
  try {
    const variantDir = join(root, 'generated', variantId);
    await execa('python3', [join(root, 'scripts/device/trace/instrument.py'), variantDir, dir]);
    const wrote = existsSync(join(dir, 'trace.cu'));
    const nvccRun = await execa(
      'nvcc',
      ['-gencode', 'arch=compute_90a,code=sm_90a', '-std=c++17', '-I', join(dir, 'inc'), '-I', join(root, 'templates/include'), '-I', variantDir, '-c', join(dir, 'trace.cu'), '-o', join(dir, 'trace.o')],
      { reject: false, all: true },
    );
    return { wrote, nvccRun };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!ready)(title, () => {
  it('patches a split-n variant and the combine, and compiles', { timeout: 180_000 }, async () => {
    const { wrote, nvccRun } = await instrumentAndCompile(splitN!.id);
    expect(wrote).toBe(true);
    expect(nvccRun.exitCode, nvccRun.all).toBe(0);
  });

  it('stamps a seesaw variant at its start and end, and compiles', { timeout: 180_000 }, async () => {
    const seesaw = variants.find((v) => v.id.includes('_c2ss'));
    if (!seesaw) return;
    const { nvccRun } = await instrumentAndCompile(seesaw.id);
    expect(nvccRun.exitCode, nvccRun.all).toBe(0);
  });
});
