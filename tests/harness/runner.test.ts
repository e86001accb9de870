// The runner's pure parts (no GPU): JSON parsing, classification, the bench table, GPU probing.
import { describe, expect, it } from 'vitest';

import { benchRow, formatTable, savePath } from '../../scripts/commands/bench.ts';
import { checkLine, countsAsFailure } from '../../scripts/commands/check.ts';
import { parseAnchor } from '../../scripts/harness/anchor.ts';
import { edgeCases, matrixCases } from '../../scripts/harness/cases.ts';
import { parseComputeCaps } from '../../scripts/harness/gpu.ts';
import { classify, parseHarnessOutput, toCaseResult, type HarnessJson, type RawRun } from '../../scripts/harness/runner.ts';

const ran = { exitCode: 0, signal: undefined, timedOut: false } as const;
const json = (fields: Partial<HarnessJson>): HarnessJson => ({
  harness: 'mlagen',
  version: 1,
  mode: 'check',
  variant: 'v',
  status: 'ok',
  pass: true,
  ...fields,
});

describe('parseHarnessOutput', () => {
  it('takes the harness JSON line and ignores other output', () => {
    const out = 'noise\n{"not":"ours"}\n{"harness":"mlagen","version":1,"mode":"check","variant":"v","status":"ok","pass":true}\n';
    expect(parseHarnessOutput(out)?.pass).toBe(true);
    expect(parseHarnessOutput('')).toBeUndefined();
    expect(parseHarnessOutput('{broken')).toBeUndefined();
  });
});

describe('classify', () => {
  it('maps exit codes and the JSON to a status', () => {
    expect(classify(ran, json({})).status).toBe('pass');
    expect(classify(ran, json({ pass: false, reasons: ['out rel L2 0.1 > 0.002'] }))).toEqual({
      status: 'fail',
      message: 'out rel L2 0.1 > 0.002',
    });
    expect(classify(ran, json({ pass: false, status: 'unsupported', error: 'h_q 20' })).status).toBe('unsupported');
    expect(classify(ran, json({ pass: false, status: 'invalid_argument', reasons: ['x'] })).status).toBe('fail');
    expect(classify(ran, json({ pass: false, status: 'dtype_not_built' })).status).toBe('skip');
    expect(classify(ran, undefined).status).toBe('crash');
    expect(classify({ ...ran, exitCode: 3 }, json({ status: 'no_gpu', pass: false })).status).toBe('no-gpu');
    expect(classify({ ...ran, exitCode: 2 }, undefined).status).toBe('bad-args');
    const cuda = classify({ ...ran, exitCode: 4 }, json({ status: 'cuda_error', pass: false, error: 'illegal address', where: 'x.cu:1' }));
    expect(cuda).toEqual({ status: 'crash', message: 'illegal address (x.cu:1)' });
    expect(classify({ exitCode: undefined, signal: 'SIGSEGV', timedOut: false }, undefined).status).toBe('crash');
    expect(classify({ exitCode: undefined, signal: undefined, timedOut: true }, undefined).status).toBe('timeout');
    expect(classify({ ...ran, exitCode: 139 }, undefined).status).toBe('crash');
    expect(classify(ran, json({ mode: 'bench', pass: null })).status).toBe('pass');
  });

  it('counts unsupported as a failure only for matrix cases', () => {
    const r = toCaseResult('x', { ...ran, command: [], stdout: JSON.stringify(json({ pass: false, status: 'unsupported' })), stderr: '', durationMs: 1 } as RawRun);
    expect(countsAsFailure(r, matrixCases()[0])).toBe(true);
    expect(countsAsFailure(r, edgeCases()[0])).toBe(false);
  });
});

describe('report lines', () => {
  it('check line shows the errors against the reference', () => {
    const r = toCaseResult('edge-x', {
      ...ran,
      command: [],
      stderr: '',
      durationMs: 1234,
      stdout: JSON.stringify(
        json({
          check: {
            out_rel_l2: 1.7e-3,
            out_max_abs: 1e-3,
            out_rel_l2_floor: 1.66e-3,
            out_nonfinite: 0,
            lse_max_rel: 2e-7,
            lse_max_abs: 1e-6,
            lse_nonfinite: 0,
            lse_inf_mismatch: 0,
            tol_out: 2e-3,
            tol_row: 1.2e-2,
            tol_lse: 1e-5,
            cpu_ref: { ran: true, out_rel_l2: 1.7e-3 },
          },
        }),
      ),
    } as RawRun);
    expect(checkLine(r, 8)).toBe('PASS    edge-x   out 1.70e-3 (floor 1.66e-3)  lse 2.00e-7 cpu-ref 1.70e-3  1.2s');
  });

  it('bench row compares with the anchor and the ceilings', () => {
    const anchor = parseAnchor('| b | s_q | sk | h_q | varlen | FlashMLA µs | TFLOPS | GB/s |\n|-|-|-|-|-|-|-|-|\n| 128 | 1 | 4096 | 16 | no | 231 | 79 | 2628 |');
    const c = matrixCases()[0]!;
    const flops = 2 * 16 * 1088 * 524288;
    const r = toCaseResult(c.id, {
      ...ran,
      command: [],
      stderr: '',
      durationMs: 1,
      stdout: JSON.stringify(
        json({
          mode: 'bench',
          bench: { us: 200, us_min: 199, us_p90: 201, us_single: 210, tflops: flops / 200e-6 / 1e12, gbps: 3000, flops, bytes: 6e8, total_kv: 524288, calls_per_graph: 5, buffer_sets: 1, graph: true },
        }),
      ),
    } as RawRun);
    const row = benchRow(r, c, anchor, { copy_gbps: 3000, copy_bytes: 1, matmul_tflops: 700, matmul_error: null, cublas_path: 'x' });
    expect(row.speedup).toBeCloseTo(231 / 210, 6);
    expect(row.pctCopy).toBeCloseTo(100, 6);
    expect(row.pctMatmul).toBeCloseTo((100 * flops) / 200e-6 / 1e12 / 700, 6);
    const table = formatTable([row]);
    expect(table).toContain('1.10x');
    expect(table.split('\n')).toHaveLength(3);
  });

  it('save path puts bare names under docs/perf', () => {
    expect(savePath('/r', 'h100')).toBe('/r/docs/perf/h100.json');
    expect(savePath('/r', 'out/x.json')).toBe('/r/out/x.json');
    expect(savePath('/r', '/abs/y.json')).toBe('/abs/y.json');
  });
});

describe('parseComputeCaps', () => {
  it('is Hopper only when every GPU is 9.0', () => {
    expect(parseComputeCaps('9.0\n').hopper).toBe(true);
    expect(parseComputeCaps('9.0\n9.0\n').hopper).toBe(true);
    expect(parseComputeCaps('8.0\n').hopper).toBe(false);
    expect(parseComputeCaps('9.0\n10.0\n').hopper).toBe(false);
    expect(parseComputeCaps('').hopper).toBe(false);
  });
});
