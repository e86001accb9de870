// `mlagen tune`: sweep the DSL's tuning space on the local GPUs and write a tuning table;
// `mlagen tune merge <dirs...>`: one table from the journals of several shards.
// Progress goes to stderr; stdout carries the summary (or, with --json, the tables).
import { readFileSync } from 'node:fs';
import { positiveInt } from './options.ts';
import { resolve } from 'node:path';

import { Command, InvalidArgumentError } from 'commander';

import { describeSettings, DEFAULT_TUNE_SPACE, parseSpaceJson, pruneSpace, type TuneSpace } from '../../dsl/tune/space.ts';
import { findRepoRoot } from '../build/paths.ts';
import { defaultConcurrency } from '../build/jobs.ts';
import { buildTables } from '../tune/table.ts';
import { parseShard, takeShard, WHOLE, type Shard } from '../tune/shard.ts';
import {
  DEFAULT_CHECK_CASES,
  defaultTuneIo,
  formatTables,
  mergeJournals,
  publishTables,
  realBackend,
  resolveCases,
  resolveCheckCases,
  runTune,
  TUNE_EXIT,
  writeRunTables,
  type TuneBackend,
  type TuneIo,
} from '../tune/run.ts';

export interface TuneCommandOptions {
  cases?: string;
  checkCases?: string;
  space?: string;
  shard?: string;
  resume?: boolean;
  out?: string;
  workDir?: string;
  jobs?: number;
  gpus?: string;
  iters?: number;
  /** A number, or 'random'; default: one fixed seed per case. */
  seed?: string;
  /** false with --no-verify. */
  verify?: boolean;
  /** false with --no-build. */
  build?: boolean;
  buildOnly?: boolean;
  dryRun?: boolean;
  /** false with --no-publish. */
  publish?: boolean;
  tuningDir?: string;
  timeout?: number;
  json?: boolean;
  root?: string;
}

export const TUNE_DEFAULTS = {
  out: 'build/tune/results',
  workDir: 'build/tune',
  tuningDir: 'generated/tuning',
} as const;

/** A --space argument: a JSON file, or JSON text. */
export function loadSpace(arg: string | undefined): TuneSpace {
  if (!arg) return DEFAULT_TUNE_SPACE;
  const text = arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`--space ${arg}: not JSON (${(e as Error).message})`);
  }
  return parseSpaceJson(raw);
}

/** Runs `mlagen tune`; returns its exit code (see TUNE_EXIT), never calls process.exit. */
export async function runTuneCommand(opts: TuneCommandOptions, backend: TuneBackend = realBackend, io: TuneIo = defaultTuneIo): Promise<number> {
  const root = opts.root ?? findRepoRoot();
  const usage = (message: string): number => {
    io.stderr(`mlagen tune: ${message}\n`);
    return TUNE_EXIT.usage;
  };
  let space: TuneSpace;
  let shard: Shard = WHOLE;
  try {
    space = loadSpace(opts.space);
    if (opts.shard) shard = parseShard(opts.shard);
  } catch (e) {
    return usage((e as Error).message);
  }
  const dtype = space.base.problem.qDtype === 'fp16' ? 'fp16' : 'bf16';

  if (opts.dryRun) {
    const pruned = pruneSpace(space);
    const mine = takeShard(pruned.candidates, shard);
    if (opts.json) {
      const strip = <T extends { plan?: unknown; config?: unknown }>(p: T) => ({ ...p, plan: undefined, config: undefined });
      io.stdout(`${JSON.stringify({ size: pruned.size, candidates: mine.map(strip), pruned: pruned.pruned.map(strip) }, null, 2)}\n`);
    } else {
      const lines = [`${pruned.size} points; ${pruned.candidates.length} candidates, ${pruned.pruned.length} pruned by the DSL; shard ${shard.index}/${shard.count}: ${mine.length}`];
      for (const c of mine) lines.push(`  candidate ${c.variantId}${c.baseline ? ' (baseline)' : ''}  ${describeSettings(c.settings)}`);
      for (const p of pruned.pruned) lines.push(`  pruned    ${p.variantId}  ${describeSettings(p.settings)}\n            ${p.reason.split('\n').join('\n            ')}`);
      io.stdout(`${lines.join('\n')}\n`);
    }
    return TUNE_EXIT.ok;
  }

  let cases;
  let checkCases;
  try {
    cases = resolveCases(opts.cases ?? 'matrix', dtype);
    checkCases = resolveCheckCases(opts.checkCases ? opts.checkCases.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT_CHECK_CASES, dtype);
  } catch (e) {
    return usage((e as Error).message);
  }
  if (cases.length === 0) return usage(`no case matches --cases ${opts.cases}`);

  const benchArgs: string[] = [];
  if (opts.iters !== undefined) benchArgs.push('--iters', `${opts.iters}`);
  if (opts.verify === false) benchArgs.push('--verify', '0');
  let seed: number | 'random' | undefined;
  if (opts.seed !== undefined) {
    seed = opts.seed === 'random' ? 'random' : Number(opts.seed);
    if (seed !== 'random' && !(Number.isInteger(seed) && seed >= 0)) return usage(`--seed: expected a whole number >= 0 or "random", got "${opts.seed}"`);
  }
  const result = await runTune(
    {
      root,
      space,
      cases,
      checkCases,
      shard,
      resume: opts.resume ?? false,
      outDir: resolve(root, opts.out ?? TUNE_DEFAULTS.out),
      workDir: resolve(root, opts.workDir ?? TUNE_DEFAULTS.workDir),
      ...(opts.jobs ? { jobs: opts.jobs } : {}),
      ...(opts.gpus ? { gpus: opts.gpus.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      build: opts.build !== false,
      buildOnly: opts.buildOnly ?? false,
      benchArgs,
      ...(seed !== undefined ? { seed } : {}),
      ...(opts.timeout ? { timeoutMs: opts.timeout * 1000 } : {}),
      tuningDir: opts.publish === false ? null : resolve(root, opts.tuningDir ?? TUNE_DEFAULTS.tuningDir),
      argv: process.argv.slice(2),
    },
    backend,
    opts.json ? { ...io, stdout: () => {} } : io,
  );
  if (opts.json) io.stdout(`${JSON.stringify({ exitCode: result.exitCode, journal: result.journal, tables: result.tables }, null, 2)}\n`);
  return result.exitCode;
}

export interface MergeCommandOptions {
  out?: string;
  tuningDir?: string;
  publish?: boolean;
  json?: boolean;
  root?: string;
}

/** `mlagen tune merge <dirs...>`: tables from shard journals, published like a whole run's. */
export function runMergeCommand(dirs: readonly string[], opts: MergeCommandOptions, io: TuneIo = defaultTuneIo): number {
  const root = opts.root ?? findRepoRoot();
  const { records, badLines, missing } = mergeJournals(dirs.map((d) => resolve(d)));
  for (const m of missing) io.stderr(`mlagen tune merge: ${m} not found\n`);
  if (missing.length) return TUNE_EXIT.usage;
  if (badLines) io.stderr(`mlagen tune merge: ignored ${badLines} torn line(s)\n`);
  const tables = buildTables(records);
  const files = opts.out ? writeRunTables(tables, resolve(root, opts.out)) : [];
  if (opts.publish !== false) files.push(...publishTables(tables, resolve(root, opts.tuningDir ?? TUNE_DEFAULTS.tuningDir)));
  if (opts.json) io.stdout(`${JSON.stringify({ tables }, null, 2)}\n`);
  else io.stdout(formatTables(tables));
  for (const f of files) io.stderr(`mlagen tune merge: wrote ${f}\n`);
  return tables.some((t) => t.entries.length > 0) ? TUNE_EXIT.ok : TUNE_EXIT.failed;
}


function shardArg(value: string): string {
  try {
    parseShard(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

export function registerTune(program: Command): Command {
  const tune = program
    .command('tune')
    .description('sweep the tuning space (DSL-pruned), build, check and time every candidate; write a tuning table per GPU')
    .option('--cases <set|filter>', 'cases to time: matrix, edge, all, or comma-separated parts of case ids', 'matrix')
    .option('--check-cases <ids>', `cases every candidate must pass before it is timed (default: ${DEFAULT_CHECK_CASES.join(',')})`)
    .option('--space <json>', 'tuning space: a JSON file or text {"base": {...}, "params": {"kvStages": [1, 2], ...}, "replace": false}')
    .option('--shard <i/n>', 'take every n-th candidate starting at the i-th (Slurm: $SLURM_ARRAY_TASK_ID/n)', shardArg)
    .option('--resume', 'continue the journal in --out, skipping finished (candidate, case) pairs')
    .option('--out <dir>', 'results folder: journal.jsonl and tuning-<gpu>.json', TUNE_DEFAULTS.out)
    .option('--work-dir <dir>', 'where candidates are rendered and built (<dir>/<variantId>/)', TUNE_DEFAULTS.workDir)
    .option('-j, --jobs <n>', `most nvcc processes at once (default: CPU count, here ${defaultConcurrency()})`, positiveInt)
    .option('--gpus <list>', 'CUDA device indices to use, e.g. 0,1,2,3 (default: every Hopper GPU)')
    .option('--iters <n>', 'timed replays per case (harness default 50)', positiveInt)
    .option('--seed <n|random>', 'input seed of every timed run (default: one fixed seed per case, the same for every candidate)')
    .option('--no-verify', 'time without verifying each timed call (the small check cases still gate every candidate)')
    .option('--no-build', 'use harnesses already built in --work-dir (e.g. by --build-only on a machine with nvcc)')
    .option('--build-only', 'render and compile the candidates, then stop')
    .option('--dry-run', 'list the candidates and the pruned points with the DSL reason, then stop')
    .option('--no-publish', 'do not write generated/tuning/ (sharded runs never do: use `tune merge`)')
    .option('--tuning-dir <dir>', 'where published tables and dispatch.ts/.h go', TUNE_DEFAULTS.tuningDir)
    .option('--timeout <seconds>', 'limit per harness process', positiveInt)
    .option('--json', 'print the tables as JSON on stdout')
    .addHelpText(
      'after',
      `\nExit codes: ${TUNE_EXIT.ok} table written, ${TUNE_EXIT.failed} nothing timed, ${TUNE_EXIT.usage} bad arguments, ` +
        `${TUNE_EXIT.noNvcc} nvcc missing, ${TUNE_EXIT.noGpu} built but no Hopper GPU (rerun with --resume).\n` +
        'Sharding (docs/tuning.md): run `mlagen tune --shard i/n --out results/i` for i in 0..n-1, then `mlagen tune merge results/*`.',
    )
    .action(async (opts: TuneCommandOptions) => {
      process.exitCode = await runTuneCommand(opts);
    });

  // Unless the program enables positional options, commander hands options written after
  // `merge` to `tune` when it knows them: merge takes each from itself (when given there) or tune.
  tune
    .command('merge')
    .description('merge shard journals into one tuning table per GPU (the same table one run would have written)')
    .argument('<dirs...>', 'results folders (or journal.jsonl files) of the shards')
    .option('--tuning-dir <dir>', `where published tables and dispatch.ts/.h go (default: ${TUNE_DEFAULTS.tuningDir})`)
    .option('--no-publish', 'only print the tables; do not write generated/tuning/')
    .option('--json', 'print the tables as JSON on stdout')
    .action((dirs: string[], own: MergeCommandOptions, cmd: Command) => {
      const parent = (cmd.parent?.opts() ?? {}) as TuneCommandOptions;
      const tuningDir = own.tuningDir ?? parent.tuningDir;
      process.exitCode = runMergeCommand(dirs, {
        ...(tuningDir ? { tuningDir } : {}),
        publish: own.publish !== false && parent.publish !== false,
        json: Boolean(own.json || parent.json),
      });
    });
  return tune;
}
