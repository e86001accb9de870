// `mlagen check [variants...]`: prove generated libraries correct on a Hopper GPU.
// Runs build/<variant>/harness once per case (its own process each), against a float32 GPU
// reference and, on small cases, a float64 CPU reference. Progress goes to stderr; stdout carries
// the summary, or with --json only the JSON result.
import { failWith, processIo, type CommandIo } from '../io.ts';
import { Command, Option } from 'commander';
import { positiveInt, positiveNumber } from './options.ts';

import { CASE_SETS, forVariant, selectCases, type CaseSet, type Dtype, type HarnessCase } from '../harness/cases.ts';
import { noGpuReason, hasHopperGpu } from '../harness/gpu.ts';
import { defaultVariantId, harnessBinary, manifestVariantIds, repoRoot, variantSettings } from '../harness/paths.ts';
import { runCases, type CaseResult, type CaseStatus } from '../harness/runner.ts';
import { existsSync } from 'node:fs';

export const CHECK_EXIT = {
  ok: 0,
  /** A case failed, crashed, hung, or a matrix case was refused as unsupported. */
  failed: 1,
  /** No variant to check, or its harness is not built. */
  usage: 2,
  /** Validation skipped: no Hopper GPU here. */
  noGpu: 77,
} as const;

export type HarnessCommandIo = CommandIo;
export const defaultIo: HarnessCommandIo = processIo;

export interface CheckCommandOptions {
  cases?: CaseSet;
  filter?: string;
  json?: boolean;
  allVariants?: boolean;
  /** Run every case in this dtype (default: the variant's q dtype from the manifest). */
  dtype?: Dtype;
  /** 'fp8': run every case with an fp8_e4m3 cache (default: the variant's own cache; the dispatcher routes by it). */
  kvDtype?: 'fp8';
  /** Run every case with this KV page size (default: the variant's; for the dispatcher, its first route's). */
  pageSize?: number;
  seed?: string;
  cpuRef?: 'auto' | '0' | '1';
  repeat?: number;
  tolOut?: number;
  tolRow?: number;
  tolLse?: number;
  /** Seconds per case (default: each case's own limit). */
  timeout?: number;
  /** Path of a harness binary to use instead of build/<variant>/harness. */
  harness?: string;
  root?: string;
}

/**
 * How the GPU verbs (check, bench, check-schedule) end early: skipped for want of a Hopper GPU
 * (exit 77), or a usage problem (exit 2); stderr gets the line, stdout the JSON when asked for.
 */
export function harnessVerbExits(verb: string, io: HarnessCommandIo, json: boolean | undefined) {
  const out = (record: object) => {
    if (json) io.stdout(`${JSON.stringify(record, null, 2)}\n`);
  };
  return {
    noGpu(skipped: string): number {
      const reason = noGpuReason();
      io.stderr(`mlagen ${verb}: ${skipped} skipped: ${reason}\n`);
      out({ skipped: true, exitCode: CHECK_EXIT.noGpu, reason });
      return CHECK_EXIT.noGpu;
    },
    usage: (message: string): number => failWith(verb, io, json)(CHECK_EXIT.usage, message),
  };
}

/** Statuses that make a run fail. `unsupported` fails only for matrix cases (see countsAsFailure). */
const FAILING: ReadonlySet<CaseStatus> = new Set<CaseStatus>(['fail', 'crash', 'timeout', 'bad-args']);

export function countsAsFailure(r: CaseResult, c: HarnessCase | undefined): boolean {
  if (FAILING.has(r.status)) return true;
  return r.status === 'unsupported' && c?.suite === 'matrix';
}

/** The variants to run: those named, every manifest variant, or the first one. */
export async function resolveVariants(
  root: string,
  named: readonly string[],
  all: boolean | undefined,
  verb = 'check',
): Promise<{ ids: string[]; error?: string }> {
  if (named.length > 0) return { ids: [...named] };
  if (all) {
    const ids = await manifestVariantIds(root);
    return ids.length ? { ids } : { ids, error: 'generated/manifest.ts lists no variant (run `mlagen generate`)' };
  }
  const first = await defaultVariantId(root);
  return first
    ? { ids: [first] }
    : { ids: [], error: `no variant given and generated/manifest.ts lists none: name one (\`mlagen ${verb} <variant>\`)` };
}

const fmt = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toExponential(digits);

const label: Record<CaseStatus, string> = {
  pass: 'PASS',
  fail: 'FAIL',
  crash: 'CRASH',
  timeout: 'TIMEOUT',
  'no-gpu': 'NO-GPU',
  'bad-args': 'BADARGS',
  skip: 'skip',
  unsupported: 'UNSUP',
};

/** One line per case: status, id, errors against the reference, time, and why it failed. */
export function checkLine(r: CaseResult, idWidth = 40): string {
  const c = r.json?.check;
  const cpu = c?.cpu_ref?.ran ? ` cpu-ref ${fmt(c.cpu_ref.out_rel_l2 ?? null)}` : '';
  const nums = c ? `out ${fmt(c.out_rel_l2)} (floor ${fmt(c.out_rel_l2_floor)})  lse ${fmt(c.lse_max_rel)}${cpu}` : '';
  const secs = `${(r.durationMs / 1000).toFixed(1)}s`;
  const why = r.status === 'pass' ? '' : `  ${r.message}`;
  return `${label[r.status].padEnd(7)} ${r.id.padEnd(idWidth)} ${nums}  ${secs}${why}`.trimEnd();
}

function extraArgs(opts: CheckCommandOptions): string[] {
  const a: string[] = [];
  if (opts.seed !== undefined) a.push('--seed', opts.seed);
  if (opts.cpuRef !== undefined) a.push('--cpu-ref', opts.cpuRef);
  if (opts.repeat !== undefined) a.push('--repeat', `${opts.repeat}`);
  if (opts.tolOut !== undefined) a.push('--tol-out', `${opts.tolOut}`);
  if (opts.tolRow !== undefined) a.push('--tol-row', `${opts.tolRow}`);
  if (opts.tolLse !== undefined) a.push('--tol-lse', `${opts.tolLse}`);
  return a;
}

/** Runs the command and returns its exit code (see CHECK_EXIT); never calls process.exit. */
export async function runCheckCommand(
  variants: readonly string[],
  opts: CheckCommandOptions,
  io: HarnessCommandIo = defaultIo,
): Promise<number> {
  const root = opts.root ?? repoRoot();
  const exits = harnessVerbExits('check', io, opts.json);
  if (!hasHopperGpu()) return exits.noGpu('validation');
  const fail = exits.usage;
  const { ids, error } = await resolveVariants(root, variants, opts.allVariants);
  if (error) return fail(error);
  const cases = selectCases(opts.cases ?? 'all', opts.filter);
  if (cases.length === 0) return fail(`no case matches --cases ${opts.cases ?? 'all'} --filter ${opts.filter ?? ''}`);
  const binaries = ids.map((id) => opts.harness ?? harnessBinary(root, id));
  const missing = binaries.filter((b) => !existsSync(b));
  if (missing.length) return fail(`${missing.join(', ')} not found: run \`mlagen build ${ids.join(' ')}\` first`);

  const byId = new Map(cases.map((c) => [c.id, c]));
  const width = Math.max(...cases.map((c) => c.id.length));
  const report: { variant: string; results: CaseResult[] }[] = [];
  for (const [i, id] of ids.entries()) {
    const { dtype, pageSize, kvFp8 } = await variantSettings(root, id, opts);
    const run = forVariant(cases, dtype, pageSize, kvFp8);
    io.stderr(`mlagen check ${id}: ${run.length} cases${dtype ? ` in ${dtype}` : ''}\n`);
    let n = 0;
    const results = await runCases(binaries[i]!, run, 'check', extraArgs(opts), {
      ...(opts.timeout ? { timeoutMs: opts.timeout * 1000 } : {}),
      onResult: (r) => io.stderr(`[${++n}/${cases.length}] ${checkLine(r, width)}\n`),
    });
    report.push({ variant: id, results });
  }

  const all = report.flatMap((v) => v.results);
  const count = (s: CaseStatus): number => all.filter((r) => r.status === s).length;
  const failures = all.filter((r) => countsAsFailure(r, byId.get(r.id)));
  const noGpu = all.length > 0 && all.every((r) => r.status === 'no-gpu');
  const exitCode = noGpu ? CHECK_EXIT.noGpu : failures.length ? CHECK_EXIT.failed : CHECK_EXIT.ok;
  const summary =
    `${count('pass')} passed, ${failures.length} failed` +
    (count('skip') ? `, ${count('skip')} skipped (dtype not built)` : '') +
    (count('unsupported') ? `, ${count('unsupported')} unsupported by the library` : '') +
    ` of ${all.length} runs`;
  if (opts.json) {
    io.stdout(`${JSON.stringify({ ok: exitCode === 0, exitCode, summary, variants: report }, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    for (const v of report) {
      lines.push(`${v.variant}:`);
      for (const r of v.results) lines.push(`  ${checkLine(r, width)}`);
    }
    if (noGpu) lines.push(`validation skipped: the harness found no Hopper GPU (${all[0]?.message ?? ''})`);
    lines.push(summary);
    io.stdout(`${lines.join('\n')}\n`);
  }
  return exitCode;
}



export function registerCheck(program: Command): Command {
  return program
    .command('check')
    .description('validate built variants on a Hopper GPU against float32 (GPU) and float64 (CPU) references')
    .argument('[variants...]', 'variant ids (default: the first in generated/manifest.ts)')
    .addOption(new Option('--cases <set>', 'which cases').choices([...CASE_SETS]).default('all'))
    .option('--filter <ids>', 'only cases whose id contains one of these comma-separated strings')
    .option('--all-variants', 'check every variant of generated/manifest.ts')
    .addOption(new Option('--dtype <dtype>', "run every case in this dtype (default: the variant's)").choices(['bf16', 'fp16']))
    .addOption(new Option('--kv-dtype <dtype>', "run every case with this cache dtype (default: the variant's; the dispatcher routes by it)").choices(['fp8']))
    .option('--page-size <n>', "run every case with this KV page size (default: the variant's; the dispatcher routes by it)", positiveInt)
    .option('--seed <n>', 'seed for the inputs (default: fresh each run; the JSON reports it)')
    .addOption(new Option('--cpu-ref <when>', 'float64 CPU reference').choices(['auto', '0', '1']))
    .option('--repeat <n>', 'decode runs per case; results must agree bit for bit (default 2)', positiveInt)
    .option('--tol-out <x>', 'largest relative L2 error of out (default bf16 2e-3, fp16 6e-4)', positiveNumber)
    .option('--tol-row <x>', 'largest relative L2 error of any one out row (default 6x --tol-out)', positiveNumber)
    .option('--tol-lse <x>', 'largest relative error of lse (default 1e-5)', positiveNumber)
    .option('--timeout <seconds>', 'limit per case (default: 180 s, longer for the big cases)', positiveNumber)
    .option('--harness <path>', 'harness binary to run instead of build/<variant>/harness')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      `\nExit codes: ${CHECK_EXIT.ok} all passed, ${CHECK_EXIT.failed} a case failed, ${CHECK_EXIT.usage} nothing to check ` +
        `(no variant, or not built), ${CHECK_EXIT.noGpu} skipped: no Hopper GPU.`,
    )
    .action(async (variants: string[], opts: CheckCommandOptions) => {
      process.exitCode = await runCheckCommand(variants, opts);
    });
}
