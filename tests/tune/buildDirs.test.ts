// buildVariants with its folders redirected (how the tuner builds outside generated/ and build/).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildVariants } from '../../scripts/build/build.ts';
import { locateNvcc } from '../../scripts/build/nvcc.ts';

const found = await locateNvcc().catch((e: Error) => e);
const nvcc = found instanceof Error ? null : found;
if (!nvcc) console.warn(`tests/tune/buildDirs.test.ts: nvcc tests skipped: ${(found as Error).message}`);

describe.skipIf(!nvcc)('buildVariants generatedDir/buildDir', () => {
  it('reads sources from generatedDir and writes outputs to buildDir/<id>/, leaving generated/ and build/ alone', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'mlagen-builddirs-'));
    await writeFile(path.join(root, 'package.json'), '{"name":"mlagen"}');
    await mkdir(path.join(root, 'include'), { recursive: true });
    const work = path.join(root, 'build', 'tune');
    const dir = path.join(work, 'tiny_v1');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'decode.cu'), '__global__ void tiny(float* x) { x[threadIdx.x] *= 2.f; }\nextern "C" int tiny_answer(void) { return 42; }\n');
    await writeFile(path.join(dir, 'harness.cu'), '#include <cstdio>\nextern "C" int tiny_answer(void);\nint main() { std::printf("%d\\n", tiny_answer()); }\n');
    await writeFile(
      path.join(dir, 'build.json'),
      JSON.stringify({
        variantId: 'tiny_v1',
        allowSpills: false,
        allowLocalMemory: false,
        includeDirs: ['include'],
        nvccFlags: ['-std=c++17', '-O3'],
        objects: [
          { name: 'decode', source: 'decode.cu', ptxasReport: true },
          { name: 'harness', source: 'harness.cu', ptxasReport: false },
        ],
        links: [{ name: 'harness', kind: 'executable', objects: ['harness', 'decode'], libs: [] }],
      }),
    );
    const [r] = await buildVariants(['tiny_v1'], { root, nvcc: nvcc!, generatedDir: work, buildDir: work, jobs: 2 });
    expect(r!.errors).toEqual([]);
    expect(r!.ok).toBe(true);
    expect(r!.outputs.dir).toBe(dir);
    expect(existsSync(path.join(dir, 'harness'))).toBe(true);
    expect(existsSync(path.join(dir, 'report.json'))).toBe(true);
    expect(existsSync(path.join(root, 'generated'))).toBe(false);
    expect(existsSync(path.join(root, 'build', 'tiny_v1'))).toBe(false);
    // A missing variant names the redirected folder's contents.
    const [missing] = await buildVariants(['nope'], { root, nvcc: nvcc!, generatedDir: work, buildDir: work });
    expect(missing!.ok).toBe(false);
    expect(missing!.errors[0]).toMatch(/build\/tune\/nope\/build\.json not found.*tiny_v1/);
  });
});
