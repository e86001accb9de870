// Compiles the hand-written schedule headers (metadata + combine) for sm_90a. No GPU needed.
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const includeDir = resolve(import.meta.dirname, '../../templates/include');

async function nvccVersion(): Promise<string | undefined> {
  try {
    return (await execa('nvcc', ['--version'])).stdout;
  } catch {
    return undefined;
  }
}
const nvcc = await nvccVersion();
const title = nvcc ? 'schedule device kernels (nvcc, sm_90a)' : 'schedule device kernels: skipped, nvcc is not on PATH';

// Explicit instantiations and launcher calls, so every template is compiled for the device.
const source = `#include "mlagen/sched_metadata.cuh"
#include "mlagen/combine.cuh"

template __global__ void mlagen_sched_metadata_kernel<64, 5>(const int32_t*, int32_t, int32_t, int32_t*, int32_t*);
cudaError_t sched(const mlagen_sched_params& p) { return mlagen_launch_sched_metadata<64, 5>(p); }
cudaError_t combine_bf16(const mlagen_decode_params& p, cudaStream_t s) { return mlagen_launch_combine<__nv_bfloat16, 512>(p, s); }
cudaError_t combine_fp16(const mlagen_decode_params& p, cudaStream_t s) { return mlagen_launch_combine<__half, 512>(p, s); }
`;

describe.skipIf(!nvcc)(title, () => {
  it('compile without spills', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlagen-sched-'));
    try {
      const cu = join(dir, 'schedule_kernels.cu');
      await writeFile(cu, source);
      const args = ['-gencode', 'arch=compute_90a,code=sm_90a', '-std=c++17', '-I', includeDir];
      const result = await execa('nvcc', [...args, '-Xptxas', '-v', '-c', cu, '-o', join(dir, 'k.o')], {
        reject: false,
        all: true,
      });
      if (result.exitCode !== 0) throw new Error(`nvcc failed (exit ${result.exitCode}):\n${result.all}`);
      const { stderr } = result;
      // ptxas -v reports on stderr: seven kernels (metadata; combine in three forms x two dtypes), none spilling.
      expect(stderr.match(/Compiling entry function/g)).toHaveLength(7);
      expect(stderr).not.toMatch(/[1-9]\d* bytes spill (stores|loads)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
