// The cache key must change with anything that can change the object, and only with that.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildCache, linkCacheKey, objectCacheKey, type ObjectKeyInput } from '../../scripts/build/cache.ts';
import { collectSources } from '../../scripts/build/includes.ts';

let dir: string;
let input: ObjectKeyInput;

/** decode.cu -> "kernel.cuh" (next to it) -> <mlagen/abi.h> (in the include dir) -> <cstdint> (system). */
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlagen-cache-'));
  await mkdir(path.join(dir, 'variant'));
  await mkdir(path.join(dir, 'include', 'mlagen'), { recursive: true });
  await writeFile(path.join(dir, 'variant', 'decode.cu'), '#include "kernel.cuh"\n__global__ void k() {}\n');
  await writeFile(path.join(dir, 'variant', 'kernel.cuh'), '#pragma once\n  #  include <mlagen/abi.h>\n#include <cstdint>\n');
  await writeFile(path.join(dir, 'include', 'mlagen', 'abi.h'), '#pragma once\n#include "kernel_types.h"\ntypedef int mlagen_status;\n');
  await writeFile(path.join(dir, 'include', 'mlagen', 'kernel_types.h'), '#pragma once\n#include "abi.h" // a cycle must not loop\n');
  input = {
    source: path.join(dir, 'variant', 'decode.cu'),
    includeDirs: [path.join(dir, 'include')],
    nvccVersion: '13.0.88',
    flags: ['-gencode', 'arch=compute_90a,code=sm_90a', '-O3'],
  };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const keyOf = async (i: ObjectKeyInput = input) => (await objectCacheKey(i)).key;

describe('collectSources', () => {
  it('follows quoted and include-dir headers transitively, once each, and skips system headers', async () => {
    const files = (await collectSources(input.source, input.includeDirs)).map((f) => path.relative(dir, f.file));
    expect(files).toEqual(['variant/decode.cu', 'variant/kernel.cuh', 'include/mlagen/abi.h', 'include/mlagen/kernel_types.h']);
  });
});

describe('objectCacheKey', () => {
  it('is stable for the same inputs', async () => {
    expect(await keyOf()).toBe(await keyOf());
    expect(await keyOf()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when a transitively included header changes', async () => {
    const before = await keyOf();
    await writeFile(path.join(dir, 'include', 'mlagen', 'kernel_types.h'), '#pragma once\n#define X 1\n');
    expect(await keyOf()).not.toBe(before);
  });

  it('changes when the source, the flags or the nvcc version change', async () => {
    const before = await keyOf();
    expect(await keyOf({ ...input, flags: [...input.flags, '--use_fast_math'] })).not.toBe(before);
    expect(await keyOf({ ...input, flags: [...input.flags.slice(0, -1), '-O2'] })).not.toBe(before);
    expect(await keyOf({ ...input, nvccVersion: '12.8.93' })).not.toBe(before);
    await writeFile(input.source, '#include "kernel.cuh"\n__global__ void k2() {}\n');
    expect(await keyOf()).not.toBe(before);
  });

  it('ignores files that are not included, and timestamps', async () => {
    const before = await keyOf();
    await writeFile(path.join(dir, 'variant', 'unrelated.cuh'), 'int x;\n');
    await writeFile(path.join(dir, 'include', 'mlagen', 'other.h'), 'int y;\n');
    const abi = path.join(dir, 'include', 'mlagen', 'abi.h');
    await writeFile(abi, await readFile(abi, 'utf8'));
    expect(await keyOf()).toBe(before);
  });

  it('does not hash a header that only the include dir order hides', async () => {
    // "kernel.cuh" resolves next to the source first; a same-named file in the include dir is not used.
    const before = await keyOf();
    await writeFile(path.join(dir, 'include', 'kernel.cuh'), 'shadowed\n');
    expect(await keyOf()).toBe(before);
  });
});

describe('linkCacheKey', () => {
  it('changes with its objects, flags and libs', () => {
    const base = { objectKeys: ['a', 'b'], flags: ['-shared'], libs: ['-ldl'], nvccVersion: '13.0.88' };
    const k = linkCacheKey(base);
    expect(linkCacheKey({ ...base })).toBe(k);
    expect(linkCacheKey({ ...base, objectKeys: ['a', 'c'] })).not.toBe(k);
    expect(linkCacheKey({ ...base, objectKeys: ['b', 'a'] })).not.toBe(k);
    expect(linkCacheKey({ ...base, flags: [] })).not.toBe(k);
    expect(linkCacheKey({ ...base, libs: [] })).not.toBe(k);
    expect(linkCacheKey({ ...base, nvccVersion: '12.9.41' })).not.toBe(k);
  });
});

describe('BuildCache', () => {
  it('misses, then restores exactly what was stored', async () => {
    const cache = new BuildCache(path.join(dir, '.mlagen-cache'));
    const obj = path.join(dir, 'out', 'decode.o');
    const log = path.join(dir, 'out', 'decode.ptxas.log');
    expect(await cache.restore('ab12', { 'object.o': obj, 'ptxas.log': log })).toBe(false);

    await mkdir(path.dirname(obj));
    await writeFile(obj, 'ELF');
    await writeFile(log, 'ptxas info : Used 8 registers');
    await cache.store('ab12', { 'object.o': obj, 'ptxas.log': log });
    await cache.store('ab12', { 'object.o': obj, 'ptxas.log': log }); // storing twice is harmless
    await rm(path.join(dir, 'out'), { recursive: true });

    expect(await cache.restore('ab12', { 'object.o': obj, 'ptxas.log': log })).toBe(true);
    expect(await readFile(obj, 'utf8')).toBe('ELF');
    expect(await readFile(log, 'utf8')).toBe('ptxas info : Used 8 registers');
  });
});
