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

// The combine's form per shape (batch, rows = s_q*h_q, SM parts), measured in docs/perf/kernel-versions.md.
using mlagen_combine::Form;
using mlagen_combine::form_for;
static_assert(form_for(128, 16, 132, 512) == Form::kWarpPerRow, "the matrix (b = 128): a warp per row");
static_assert(form_for(32, 16, 132, 512) == Form::kWarpPerColumns, "b = 32, 16 rows: ~5 pieces each");
static_assert(form_for(1, 16, 132, 512) == Form::kCtaPerColumns, "one long request: 132 pieces, the CTA shares them");
static_assert(form_for(2, 128, 66, 512) == Form::kCtaPerColumns, "b = 2, 128 rows: 1024 CTAs, at the cap");
static_assert(form_for(4, 128, 66, 512) == Form::kWarpPerColumns, "b = 4, 128 rows: 2048 CTAs, over the cap");
static_assert(form_for(8, 16, 132, 512) == Form::kCtaPerColumns, "b = 8, 16 rows: ~17 pieces each");
static_assert(form_for(16, 16, 132, 512) == Form::kCtaPerColumns, "b = 16: 8 pieces each, 1024 CTAs");
static_assert(form_for(17, 16, 132, 512) == Form::kWarpPerColumns, "b = 17: fewer than 8 pieces each");
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
