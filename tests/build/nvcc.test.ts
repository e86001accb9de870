// Finding nvcc and refusing old ones, with stand-in nvcc scripts so no CUDA install is needed.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileArgs, compileFlags, isSupportedVersion, locateNvcc, parseNvccVersion } from '../../scripts/build/nvcc.ts';

const VERSION_13_0 = `nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2025 NVIDIA Corporation
Built on Wed_Aug_20_01:58:59_PM_PDT_2025
Cuda compilation tools, release 13.0, V13.0.88
Build cuda_13.0.r13.0/compiler.36424714_0
`;

let dir: string;

/** A fake nvcc in <dir>/<name>/bin that prints the given release. */
async function fakeNvcc(name: string, release: string): Promise<string> {
  const bin = path.join(dir, name, 'bin');
  await mkdir(bin, { recursive: true });
  const file = path.join(bin, 'nvcc');
  const text = VERSION_13_0.replace(/release 13\.0, V13\.0\.88/, `release ${release.split('.').slice(0, 2).join('.')}, V${release}`);
  await writeFile(file, `#!/bin/sh\ncat <<'EOF'\n${text}EOF\n`);
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlagen-nvcc-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseNvccVersion', () => {
  it('reads the release line', () => {
    expect(parseNvccVersion(VERSION_13_0)).toEqual({ major: 13, minor: 0, version: '13.0.88' });
    expect(parseNvccVersion('gcc (GCC) 13.2.0')).toBeNull();
  });

  it('accepts 12.8 and newer only', () => {
    expect(isSupportedVersion({ major: 12, minor: 8 })).toBe(true);
    expect(isSupportedVersion({ major: 13, minor: 0 })).toBe(true);
    expect(isSupportedVersion({ major: 12, minor: 6 })).toBe(false);
    expect(isSupportedVersion({ major: 11, minor: 9 })).toBe(false);
  });
});

describe('locateNvcc', () => {
  it('prefers $NVCC, then $CUDA_HOME, then PATH', async () => {
    const explicit = await fakeNvcc('explicit', '12.9.41');
    const home = await fakeNvcc('home', '12.8.93');
    const onPath = await fakeNvcc('onpath', '13.0.88');
    const PATH = path.dirname(onPath);
    expect(await locateNvcc({ NVCC: explicit, CUDA_HOME: path.join(dir, 'home'), PATH })).toMatchObject({
      path: explicit, foundVia: '$NVCC', version: '12.9.41',
    });
    expect(await locateNvcc({ CUDA_HOME: path.join(dir, 'home'), PATH })).toMatchObject({ path: home, foundVia: '$CUDA_HOME/bin/nvcc', major: 12, minor: 8 });
    expect(await locateNvcc({ PATH })).toMatchObject({ path: onPath, foundVia: 'PATH', major: 13 });
  });

  it('refuses an nvcc older than 12.8, saying what and where', async () => {
    const old = await fakeNvcc('old', '12.4.131');
    await expect(locateNvcc({ NVCC: old, PATH: '' })).rejects.toThrow(
      `nvcc 12.4.131 at ${old} (found via $NVCC) is too old: mlagen needs CUDA 12.8 or newer for sm_90a.`,
    );
  });

  it('says where it looked when nvcc is missing', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    const missing = path.join(dir, 'no-cuda', 'bin', 'nvcc');
    await expect(locateNvcc({ PATH: empty }, [missing])).rejects.toThrow(
      `nvcc not found ($NVCC and $CUDA_HOME are unset and nvcc is not on PATH). Looked in: ${path.join(empty, 'nvcc')}, ${missing}.`,
    );
    await expect(locateNvcc({ NVCC: path.join(dir, 'nope', 'nvcc'), PATH: '' })).rejects.toThrow(
      `nvcc not found: $NVCC is ${path.join(dir, 'nope', 'nvcc')}, which is not an executable file.`,
    );
  });
});

describe('compile arguments', () => {
  it('targets sm_90a, asks for the ptxas report and PIC, then the variant flags and include dirs', () => {
    const flags = compileFlags(['-std=c++17', '-O3'], ['/repo/templates/include']);
    expect(compileArgs(flags, 'decode.cu', 'decode.o')).toEqual([
      '-gencode', 'arch=compute_90a,code=sm_90a', '-Xptxas', '-v', '-Xcompiler', '-fPIC',
      '-std=c++17', '-O3', '-I/repo/templates/include', '-c', 'decode.cu', '-o', 'decode.o',
    ]);
  });
});
