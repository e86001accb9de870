// Runs the per-variant harness binary (build/<variantId>/harness), one process per case, so that a
// GPU fault in one case cannot poison the next; parses its one JSON object and classifies the run.
import { existsSync } from 'node:fs';

import { execa } from 'execa';

import { harnessArgs, type HarnessCase } from './cases.ts';

/** Harness exit codes (templates/include/mlagen/harness/common.h). */
export const EXIT_RAN = 0;
export const EXIT_BAD_ARGS = 2;
export const EXIT_NO_GPU = 3;
export const EXIT_CUDA = 4;

/**
 * pass: ran and matched the references. fail: ran and did not (reasons in the message).
 * unsupported: the library refused the shape (MLAGEN_ERR_UNSUPPORTED; INVALID_ARGUMENT is a fail:
 *   the harness passes valid arguments).
 * crash: CUDA error (exit 4), a signal, or no JSON. timeout: killed at the limit (a hang?).
 * no-gpu: exit 3. bad-args: exit 2. skip: the case's dtype is not one the library was built for.
 */
export type CaseStatus = 'pass' | 'fail' | 'unsupported' | 'crash' | 'timeout' | 'no-gpu' | 'bad-args' | 'skip';

/** The fields of the harness JSON the toolkit reads (the harness prints more). */
export interface HarnessJson {
  harness: 'mlagen';
  version: number;
  mode: 'check' | 'bench' | 'metadata' | 'ceilings' | string;
  variant: string;
  library_variant?: string;
  status: string; // ok | unsupported | invalid_argument | cuda_error | no_gpu | bad_args | dtype_not_built | library_error
  pass: boolean | null;
  reasons?: string[];
  error?: string;
  where?: string;
  device?: { name: string; sms: number; cc: string; l2_bytes: number; clock_mhz: number; memory_clock_mhz: number };
  case?: {
    b: number;
    s_q: number;
    h_q: number;
    h_kv: number;
    dtype: string;
    seed: string;
    total_kv: number;
    seqlens: number[];
    [k: string]: unknown;
  };
  check?: {
    out_rel_l2: number | null;
    out_max_abs: number | null;
    out_rel_l2_floor: number | null;
    out_nonfinite: number;
    lse_max_rel: number | null;
    lse_max_abs: number | null;
    lse_nonfinite: number;
    lse_inf_mismatch: number;
    tol_out: number;
    tol_row: number;
    tol_lse: number;
    worst_row?: { b: number; s: number; h: number; seqlen: number; keys_seen: number; rel_l2: number };
    repeat_bitwise_equal?: boolean;
    cpu_ref?: { ran: boolean; gpu_ref_out_rel_l2?: number | null; out_rel_l2?: number | null; [k: string]: unknown };
    [k: string]: unknown;
  };
  bench?: {
    us: number;
    us_min: number;
    us_p90: number;
    us_single: number;
    tflops: number;
    gbps: number;
    flops: number;
    bytes: number;
    total_kv: number;
    calls_per_graph: number;
    buffer_sets: number;
    graph: boolean;
    [k: string]: unknown;
  };
  ceilings?: Ceilings;
  [k: string]: unknown;
}

export interface Ceilings {
  copy_gbps: number | null;
  copy_bytes: number;
  matmul_tflops: number | null;
  matmul_error: string | null;
  cublas_path: string | null;
  [k: string]: unknown;
}

export interface RawRun {
  command: string[];
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  spawnError?: string;
}

export interface CaseResult {
  id: string;
  status: CaseStatus;
  message: string;
  json?: HarnessJson;
  exitCode: number | undefined;
  signal?: string;
  durationMs: number;
  stderrTail: string;
  command: string[];
}

export const DEFAULT_TIMEOUT_MS = 180_000;

/** The last line of stdout that is a JSON object (the harness prints exactly one). */
export function parseHarnessOutput(stdout: string): HarnessJson | undefined {
  const lines = stdout.split(/\r?\n/).filter((l) => l.trim().startsWith('{'));
  for (let i = lines.length - 1; i >= 0; --i) {
    try {
      const v = JSON.parse(lines[i]!) as unknown;
      if (v && typeof v === 'object' && (v as { harness?: unknown }).harness === 'mlagen') return v as HarnessJson;
    } catch {
      // not JSON: keep looking
    }
  }
  return undefined;
}

/** pass / fail / crash / timeout / no-gpu / bad-args / skip, with a one-line message. */
export function classify(run: Pick<RawRun, 'exitCode' | 'signal' | 'timedOut' | 'spawnError'>, json: HarnessJson | undefined): {
  status: CaseStatus;
  message: string;
} {
  if (run.spawnError) return { status: 'crash', message: run.spawnError };
  if (run.timedOut) return { status: 'timeout', message: 'the harness ran past its time limit (hang?)' };
  if (run.signal) return { status: 'crash', message: `killed by ${run.signal}` };
  const err = json?.error ? `${json.error}${json.where ? ` (${json.where})` : ''}` : '';
  switch (run.exitCode) {
    case EXIT_NO_GPU:
      return { status: 'no-gpu', message: err || 'no Hopper GPU' };
    case EXIT_BAD_ARGS:
      return { status: 'bad-args', message: err || 'the harness rejected its arguments' };
    case EXIT_CUDA:
      return { status: 'crash', message: err || 'CUDA error' };
    case EXIT_RAN:
      break;
    default:
      return { status: 'crash', message: `exit code ${run.exitCode}${err ? `: ${err}` : ''}` };
  }
  if (!json) return { status: 'crash', message: 'exit 0 but no JSON on stdout' };
  if (json.status === 'dtype_not_built') return { status: 'skip', message: json.error ?? 'dtype not built' };
  if (json.status === 'unsupported') return { status: 'unsupported', message: json.error ?? 'the library returned unsupported' };
  if (json.pass === true) return { status: 'pass', message: '' };
  if (json.pass === null && json.mode === 'bench') return { status: 'pass', message: 'timed without verification' };
  const reasons = json.reasons?.length ? json.reasons.join('; ') : err || `status ${json.status}`;
  return { status: 'fail', message: reasons };
}

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
}

export async function runHarness(binary: string, args: readonly string[], opts: RunOptions = {}): Promise<RawRun> {
  const command = [binary, ...args];
  const t0 = performance.now();
  if (!existsSync(binary))
    return {
      command,
      exitCode: undefined,
      signal: undefined,
      timedOut: false,
      stdout: '',
      stderr: '',
      durationMs: 0,
      spawnError: `${binary} does not exist (build the variant first)`,
    };
  const r = await execa(binary, args, {
    reject: false,
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    stdin: 'ignore',
    maxBuffer: 256 * 1024 * 1024,
    env: opts.env,
  });
  const durationMs = performance.now() - t0;
  const out: RawRun = {
    command,
    exitCode: r.exitCode,
    signal: r.timedOut ? undefined : r.signal,
    timedOut: r.timedOut,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    durationMs,
  };
  if (r.exitCode === undefined && !r.signal && !r.timedOut) out.spawnError = r.shortMessage ?? 'the harness did not start';
  return out;
}

function tail(text: string, lines = 20): string {
  return text.split(/\r?\n/).slice(-lines).join('\n').trim();
}

export function toCaseResult(id: string, run: RawRun): CaseResult {
  const json = parseHarnessOutput(run.stdout);
  const { status, message } = classify(run, json);
  const result: CaseResult = {
    id,
    status,
    message,
    exitCode: run.exitCode,
    durationMs: run.durationMs,
    stderrTail: tail(run.stderr),
    command: run.command,
  };
  if (json) result.json = json;
  if (run.signal) result.signal = run.signal;
  return result;
}

export async function runCase(
  binary: string,
  c: HarnessCase,
  mode: 'check' | 'bench',
  extraArgs: readonly string[] = [],
  opts: RunOptions = {},
): Promise<CaseResult> {
  const run = await runHarness(binary, harnessArgs(c, mode, extraArgs), {
    ...opts,
    timeoutMs: opts.timeoutMs ?? c.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  return toCaseResult(c.id, run);
}

/** Runs cases one after another (one GPU, one process each); `onResult` sees each as it finishes. */
export async function runCases(
  binary: string,
  cases: readonly HarnessCase[],
  mode: 'check' | 'bench',
  extraArgs: readonly string[] = [],
  opts: RunOptions & { onResult?: (r: CaseResult, c: HarnessCase) => void } = {},
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(binary, c, mode, extraArgs, opts);
    results.push(r);
    opts.onResult?.(r, c);
  }
  return results;
}

/** `harness --mode ceilings`: device copy bandwidth and cuBLAS bf16 matmul rate. */
export async function runCeilings(binary: string, opts: RunOptions = {}): Promise<{ result: CaseResult; ceilings?: Ceilings }> {
  const run = await runHarness(binary, ['--mode', 'ceilings'], { timeoutMs: 120_000, ...opts });
  const result = toCaseResult('ceilings', run);
  const ceilings = result.json?.ceilings;
  return ceilings ? { result, ceilings } : { result };
}
