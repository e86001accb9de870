// `mlagen bench [variant]`: time a built variant on a Hopper GPU, case by case, and set the numbers
// beside the measured ceilings and the FlashMLA anchor. Each case runs in its own harness process:
// one decode is verified against the GPU reference, then the call (split kernel + combine; metadata
// once, outside) is timed with CUDA events over CUDA-graph replays, L2 cold (see timing.cuh).
import { mkdirSync, writeFileSync } from 'node:fs';
import { positiveInt, positiveNumber } from './options.ts';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

import { Command, Option } from 'commander';

import { anchorFor, loadAnchor, type Anchor, type AnchorRow } from '../harness/anchor.ts';
import { CASE_SETS, forVariant, selectCases, tflops, type CaseSet, type Dtype, type HarnessCase } from '../harness/cases.ts';
import { hasHopperGpu } from '../harness/gpu.ts';
import { harnessBinary, repoRoot, variantSettings } from '../harness/paths.ts';
import { runCases, runCeilings, type CaseResult, type Ceilings } from '../harness/runner.ts';
import { CHECK_EXIT, countsAsFailure, defaultIo, harnessVerbExits, resolveVariants, type HarnessCommandIo } from './check.ts';

/** The GPU verbs share their exit codes (failed: a case failed its verification, crashed or hung). */
export const BENCH_EXIT = CHECK_EXIT;

export interface BenchCommandOptions {
  cases?: CaseSet;
  filter?: string;
  json?: boolean;
  /** docs/perf/<file>.json (a bare name goes under docs/perf/). */
  save?: string;
  iters?: number;
  /** false with --no-ceilings. */
  ceilings?: boolean;
  /** false with --no-verify. */
  verify?: boolean;
  anchor?: string;
  dtype?: Dtype;
  /** 'fp8': run every case with an fp8_e4m3 cache (default: the variant's own cache; the dispatcher routes by it). */
  kvDtype?: 'fp8';
  /** Run every case with this KV page size (default: the variant's; for the dispatcher, its first route's). */
  pageSize?: number;
  seed?: string;
  timeout?: number;
  harness?: string;
  root?: string;
}

export interface BenchRow {
  id: string;
  status: CaseResult['status'];
  message: string;
  /** Median per call, k calls per graph, rotating input sets (the harness's main figure). */
  us?: number;
  /** Median of one call per replay after an L2 flush (the anchor's way). */
  usSingle?: number;
  tflops?: number;
  gbps?: number;
  /** Share of the measured device-to-device copy bandwidth / cuBLAS bf16 matmul rate. */
  pctCopy?: number;
  pctMatmul?: number;
  anchor?: AnchorRow;
  /**
   * FlashMLA time over ours, both one call per flushed replay: > 1 means faster. Varlen rows drew
   * their own lengths, so there it is the ratio of TFLOPS rates instead (marked approximate).
   */
  speedup?: number;
  speedupApprox?: boolean;
  verified: boolean | null;
}

export function benchRow(r: CaseResult, c: HarnessCase, anchor: Anchor | undefined, ceilings: Ceilings | undefined): BenchRow {
  const b = r.json?.bench;
  const row: BenchRow = { id: r.id, status: r.status, message: r.message, verified: r.json?.pass ?? null };
  if (!b) return row;
  row.us = b.us;
  row.usSingle = b.us_single;
  row.tflops = b.tflops;
  row.gbps = b.gbps;
  if (ceilings?.copy_gbps) row.pctCopy = (100 * b.gbps) / ceilings.copy_gbps;
  if (ceilings?.matmul_tflops) row.pctMatmul = (100 * b.tflops) / ceilings.matmul_tflops;
  const a = anchorFor(anchor, c);
  if (a) {
    row.anchor = a;
    if (c.varlen) {
      row.speedup = tflops(b.flops, b.us_single) / a.tflops;
      row.speedupApprox = true;
    } else {
      row.speedup = a.us / b.us_single;
    }
  }
  return row;
}

const num = (x: number | undefined, digits: number): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));

export function formatTable(rows: readonly BenchRow[]): string {
  const head = ['case', 'µs', 'µs 1-call', 'TFLOPS', 'GB/s', '%copy', '%matmul', 'FlashMLA µs', 'vs FlashMLA', 'check'];
  const body = rows.map((r) => [
    r.id,
    num(r.us, 1),
    num(r.usSingle, 1),
    num(r.tflops, 0),
    num(r.gbps, 0),
    num(r.pctCopy, 0),
    num(r.pctMatmul, 0),
    r.anchor ? `${r.anchor.us}` : '—',
    r.speedup === undefined ? '—' : `${r.speedupApprox ? '~' : ''}${r.speedup.toFixed(2)}x`,
    r.status === 'pass' ? (r.verified === null ? 'unverified' : 'ok') : `${r.status.toUpperCase()}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** A bare file name goes to docs/perf/; `.json` is added if missing. */
export function savePath(root: string, save: string): string {
  const file = save.endsWith('.json') ? save : `${save}.json`;
  if (isAbsolute(file)) return file;
  return file.includes('/') ? resolve(root, file) : join(root, 'docs', 'perf', file);
}

/** Runs the command and returns its exit code (see BENCH_EXIT); never calls process.exit. */
export async function runBenchCommand(
  variant: string | undefined,
  opts: BenchCommandOptions,
  io: HarnessCommandIo = defaultIo,
): Promise<number> {
  const root = opts.root ?? repoRoot();
  const exits = harnessVerbExits('bench', io, opts.json);
  if (!hasHopperGpu()) return exits.noGpu('timing');
  const fail = exits.usage;
  const { ids, error } = await resolveVariants(root, variant ? [variant] : [], false, 'bench');
  if (error) return fail(error);
  const id = ids[0]!;
  const binary = opts.harness ?? harnessBinary(root, id);
  if (!existsSync(binary)) return fail(`${binary} not found: run \`mlagen build ${id}\` first`);
  const { dtype, pageSize, kvFp8 } = await variantSettings(root, id, opts);
  const cases = forVariant(selectCases(opts.cases ?? 'matrix', opts.filter), dtype, pageSize, kvFp8);
  if (cases.length === 0) return fail(`no case matches --cases ${opts.cases ?? 'matrix'} --filter ${opts.filter ?? ''}`);
  const anchor = loadAnchor(root, opts.anchor);
  if (!anchor) io.stderr('mlagen bench: no FlashMLA anchor file found (../shared/anchors/flashmla-h100.md): anchor columns omitted\n');

  let ceilings: Ceilings | undefined;
  if (opts.ceilings !== false) {
    io.stderr('mlagen bench: measuring the copy and matmul ceilings\n');
    const c = await runCeilings(binary, opts.timeout ? { timeoutMs: opts.timeout * 1000 } : {});
    if (c.result.status === 'no-gpu') {
      io.stderr(`mlagen bench: timing skipped: the harness found no Hopper GPU (${c.result.message})\n`);
      return BENCH_EXIT.noGpu;
    }
    ceilings = c.ceilings;
    if (!ceilings) io.stderr(`mlagen bench: ceilings not measured: ${c.result.message}\n`);
    else if (ceilings.matmul_tflops === null) io.stderr(`mlagen bench: no matmul ceiling: ${ceilings.matmul_error ?? '?'}\n`);
  }

  const extra: string[] = [];
  if (opts.iters !== undefined) extra.push('--iters', `${opts.iters}`);
  if (opts.verify === false) extra.push('--verify', '0');
  if (opts.seed !== undefined) extra.push('--seed', opts.seed);
  const byId = new Map(cases.map((c) => [c.id, c]));
  const rows: BenchRow[] = [];
  let n = 0;
  io.stderr(`mlagen bench ${id}: ${cases.length} cases\n`);
  const results = await runCases(binary, cases, 'bench', extra, {
    ...(opts.timeout ? { timeoutMs: opts.timeout * 1000 } : {}),
    onResult: (r, c) => {
      const row = benchRow(r, c, anchor, ceilings);
      rows.push(row);
      const t = row.us === undefined ? r.message : `${num(row.us, 1)} µs, ${num(row.tflops, 0)} TFLOPS, ${num(row.gbps, 0)} GB/s`;
      io.stderr(`[${++n}/${cases.length}] ${r.status.padEnd(7)} ${r.id}  ${t}\n`);
    },
  });

  const failures = results.filter((r) => countsAsFailure(r, byId.get(r.id)));
  const noGpu = results.length > 0 && results.every((r) => r.status === 'no-gpu');
  const exitCode = noGpu ? BENCH_EXIT.noGpu : failures.length ? BENCH_EXIT.failed : BENCH_EXIT.ok;
  const device = results.find((r) => r.json?.device)?.json?.device;
  const record = {
    schema: 'mlagen-bench/1',
    variant: id,
    date: new Date().toISOString(),
    device,
    ceilings: ceilings ?? null,
    anchor: anchor ? { source: anchor.source, copyGbps: anchor.copyGbps, matmulTflops: anchor.matmulTflops } : null,
    rows,
    results,
  };
  if (opts.save) {
    const file = savePath(root, opts.save);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    io.stderr(`mlagen bench: wrote ${file}\n`);
  }
  if (opts.json) {
    io.stdout(`${JSON.stringify({ ok: exitCode === 0, exitCode, ...record }, null, 2)}\n`);
    return exitCode;
  }
  const lines = [`${id} on ${device?.name ?? '?'} (${device?.sms ?? '?'} SMs)`];
  if (ceilings)
    lines.push(
      `ceilings: copy ${num(ceilings.copy_gbps ?? undefined, 0)} GB/s, bf16 matmul ` +
        (ceilings.matmul_tflops === null ? `not measured (${ceilings.matmul_error ?? '?'})` : `${num(ceilings.matmul_tflops, 0)} TFLOPS`) +
        (anchor?.copyGbps ? `; the anchor's: ${anchor.copyGbps} GB/s, ${anchor.matmulTflops ?? '?'} TFLOPS` : ''),
    );
  lines.push(formatTable(rows));
  lines.push(
    'µs: median per call, CUDA graph of k calls over rotating inputs, L2 flushed per replay; µs 1-call: one call per flushed replay.',
    'TFLOPS and GB/s by the anchor formulas from µs; vs FlashMLA = FlashMLA µs / our µs 1-call (same method; ~ = TFLOPS ratio for varlen rows).',
  );
  for (const r of results.filter((x) => x.status !== 'pass')) lines.push(`${r.status.toUpperCase()} ${r.id}: ${r.message}`);
  io.stdout(`${lines.join('\n')}\n`);
  return exitCode;
}



export function registerBench(program: Command): Command {
  return program
    .command('bench')
    .description('time a built variant on a Hopper GPU against the copy/matmul ceilings and the FlashMLA anchor')
    .argument('[variant]', 'variant id (default: the first in generated/manifest.ts)')
    .addOption(new Option('--cases <set>', 'which cases').choices([...CASE_SETS]).default('matrix'))
    .option('--filter <ids>', 'only cases whose id contains one of these comma-separated strings')
    .option('--iters <n>', 'timed replays per case (default 50)', positiveInt)
    .option('--no-ceilings', 'skip measuring the copy and matmul ceilings')
    .option('--no-verify', 'skip the correctness check before timing')
    .addOption(new Option('--dtype <dtype>', "run every case in this dtype (default: the variant's)").choices(['bf16', 'fp16']))
    .addOption(new Option('--kv-dtype <dtype>', "run every case with this cache dtype (default: the variant's; the dispatcher routes by it)").choices(['fp8']))
    .option('--page-size <n>', "run every case with this KV page size (default: the variant's; the dispatcher routes by it)", positiveInt)
    .option('--seed <n>', 'seed for the inputs')
    .option('--anchor <file>', 'FlashMLA anchor markdown (default: ../shared/anchors/flashmla-h100.md)')
    .option('--save <file>', 'write the results to docs/perf/<file>.json')
    .option('--timeout <seconds>', 'limit per case', positiveNumber)
    .option('--harness <path>', 'harness binary to run instead of build/<variant>/harness')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      `\nExit codes: ${BENCH_EXIT.ok} timed, ${BENCH_EXIT.failed} a case failed verification or crashed, ` +
        `${BENCH_EXIT.usage} nothing to time (no variant, or not built), ${BENCH_EXIT.noGpu} skipped: no Hopper GPU.`,
    )
    .action(async (variant: string | undefined, opts: BenchCommandOptions) => {
      process.exitCode = await runBenchCommand(variant, opts);
    });
}
