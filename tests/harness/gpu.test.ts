// The harness on a real Hopper GPU: a few cases through the runner, and each mode once.
// Needs build/<first variant>/harness (`npx mlagen build`); skipped where no Hopper GPU is present.
import { existsSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { findCase } from '../../scripts/harness/cases.ts';
import { hasHopperGpu, noGpuReason } from '../../scripts/harness/gpu.ts';
import { defaultVariantId, harnessBinary, repoRoot } from '../../scripts/harness/paths.ts';
import { parseHarnessOutput, runCase, runCeilings, runHarness } from '../../scripts/harness/runner.ts';

const gpu = hasHopperGpu();
const title = `harness on a Hopper GPU${gpu ? '' : ` (skipped: ${noGpuReason()})`}`;

describe.skipIf(!gpu)(title, () => {
  let binary = '';

  beforeAll(async () => {
    const root = repoRoot();
    const id = await defaultVariantId(root);
    if (!id) throw new Error('generated/manifest.ts lists no variant: run `npx mlagen generate`');
    binary = harnessBinary(root, id);
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`npx mlagen build ${id}\` first`);
  });

  it.each([
    'edge-seqlen0-in-batch',
    'edge-seqlen-lt-sq4',
    'edge-page-boundaries-sq2',
    'edge-hq20-sq2',
    'edge-kv-2g-sparse',
    'b128-sq2-sk4096-hq64-varlen',
  ])('%s passes the check', { timeout: 600_000 }, async (id) => {
    const c = findCase(id);
    expect(c, id).toBeDefined();
    const r = await runCase(binary, c!, 'check');
    expect(r.status, `${r.message}\n${r.stderrTail}`).toBe('pass');
    expect(r.json?.check?.out_nonfinite).toBe(0);
  });

  it('the GPU reference agrees with the float64 CPU reference', { timeout: 300_000 }, async () => {
    const r = await runCase(binary, findCase('edge-page-boundaries')!, 'check', ['--cpu-ref', '1']);
    expect(r.json?.check?.cpu_ref?.ran).toBe(true);
    expect(r.json?.check?.cpu_ref?.gpu_ref_out_rel_l2 ?? 1).toBeLessThan(1e-5);
    expect(r.status, r.message).toBe('pass');
  });

  it('bench times a case and reports rates', { timeout: 300_000 }, async () => {
    const r = await runCase(binary, findCase('b128-sq1-sk4096-hq16-fixed')!, 'bench', ['--iters', '10']);
    expect(r.status, r.message).toBe('pass');
    const b = r.json!.bench!;
    expect(b.us).toBeGreaterThan(0);
    expect(b.us_single).toBeGreaterThan(0);
    expect(b.tflops).toBeCloseTo(b.flops / (b.us * 1e-6) / 1e12, 6);
    expect(b.total_kv).toBe(128 * 4096);
  });

  it('metadata mode prints one schedule per batch', { timeout: 120_000 }, async () => {
    const run = await runHarness(binary, ['--mode', 'metadata', '--s-q', '2', '--h-q', '64', '--seqlens', '0,1,64,65,4096']);
    const j = parseHarnessOutput(run.stdout) as unknown as {
      pass: boolean;
      batches: { num_sm_parts: number; tile_scheduler_metadata: number[][]; num_splits: number[] }[];
    };
    expect(run.exitCode).toBe(0);
    expect(j.pass).toBe(true);
    const b = j.batches[0]!;
    expect(b.tile_scheduler_metadata).toHaveLength(b.num_sm_parts);
    for (const row of b.tile_scheduler_metadata) expect(row).toHaveLength(8);
    expect(b.num_splits).toHaveLength(6);
    expect(b.num_splits[0]).toBe(0);
  });

  it('ceilings mode measures the copy bandwidth', { timeout: 120_000 }, async () => {
    const { result, ceilings } = await runCeilings(binary);
    expect(result.status, result.message).toBe('pass');
    expect(ceilings?.copy_gbps ?? 0).toBeGreaterThan(500);
  });

  it('bad arguments exit with code 2', async () => {
    const run = await runHarness(binary, ['--mode', 'check', '--h-q', '0']);
    expect(run.exitCode).toBe(2);
    expect(parseHarnessOutput(run.stdout)?.status).toBe('bad_args');
  });
});
