// `mlagen tune`: sweep the tuning space. The steps, each appending to the journal as it goes:
//   1. enumerate the space and prune it with lowerMlaDecode (no compile for a point the DSL rejects);
//   2. take this shard's candidates; render each into <work>/<variantId>/ and compile them all in
//      one bounded nvcc pool (buildVariants with the folders redirected);
//   3. on every local Hopper GPU (one worker each, CUDA_VISIBLE_DEVICES), measure the copy/matmul
//      ceilings once per GPU name, check each candidate on a few small cases, then time each
//      (candidate, case) pair that passed with `harness --mode bench`, one process per pair;
//   4. build the table from the journal (table.ts) and publish it under generated/tuning/.
// Everything that touches the machine goes through a TuneBackend, so the tests drive this code
// with a fake one.
import { processIo, type CommandIo } from '../io.ts';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';

import { execa } from 'execa';

import type { Candidate, PrunedSpace, TuneSpace } from '../../dsl/tune/space.ts';
import { describeSettings, pruneSpace } from '../../dsl/tune/space.ts';
import { renderVariant } from '../../dsl/render/render.ts';
import { buildWithProgress } from '../build/build.ts';
import { locateNvcc } from '../build/nvcc.ts';
import { findCase, forVariant, onVariant, selectCases, type HarnessCase } from '../harness/cases.ts';
import { runCase, runCeilings, type CaseResult, type Ceilings } from '../harness/runner.ts';
import { DISPATCH_H, DISPATCH_TS, renderDispatchH, renderDispatchTs } from './dispatch.ts';
import {
  finishedPairs,
  Journal,
  journalPath,
  pairKey,
  readJournal,
  type BenchRecord,
  type CheckRecord,
  type JournalRecord,
} from './journal.ts';
import { shardLabel, takeShard, type Shard } from './shard.ts';
import { buildTables, canonical, tableJson, TABLE_SCHEMA, type TuningTable } from './table.ts';

export const TUNE_EXIT = {
  ok: 0,
  /** Nothing could be timed: no candidate built and passed its checks. */
  failed: 1,
  /** Bad arguments: space, shard, cases, or a journal that exists without --resume. */
  usage: 2,
  /** nvcc missing or too old (compiling was asked for). */
  noNvcc: 3,
  /** Built, but no Hopper GPU to measure on (the journal is kept; rerun with --resume). */
  noGpu: 77,
} as const;

/** Small cases every candidate must pass before it is timed: empty requests, and the split + combine path. */
export const DEFAULT_CHECK_CASES = ['edge-seqlen0-in-batch-sq2', 'edge-b3-varlen-sk8192'] as const;

export interface GpuInfo {
  /** What CUDA_VISIBLE_DEVICES takes. */
  index: string;
  name: string;
}

export interface BuildOutcome {
  variantId: string;
  ok: boolean;
  errors: string[];
  registers?: number | null;
}

export interface TuneIo extends CommandIo {
  progressStream?: NodeJS.WriteStream;
}

export const defaultTuneIo: TuneIo = processIo;

export interface TuneBackend {
  /** Hopper GPUs to use, each with its name. */
  listGpus(wanted: readonly string[] | undefined): Promise<GpuInfo[]>;
  /** Renders and compiles the candidates into workDir/<id>/ (throws NvccMissing when it cannot compile). */
  build(candidates: readonly Candidate[], opts: { root: string; workDir: string; jobs?: number; io: TuneIo }): Promise<BuildOutcome[]>;
  harness(workDir: string, variantId: string): string;
  /** The verdict on a harness built earlier (--no-build): present, and its resource check passed. */
  prebuilt(workDir: string, variantId: string): BuildOutcome;
  runCase(binary: string, c: HarnessCase, mode: 'check' | 'bench', extra: readonly string[], env: Record<string, string>, timeoutMs?: number): Promise<CaseResult>;
  runCeilings(binary: string, env: Record<string, string>): Promise<{ result: CaseResult; ceilings?: Ceilings }>;
}

export class NvccMissing extends Error {}

/** Writes a rendered file only when its text changed (the build cache keys on content anyway). */
function writeIfChanged(file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

export const realBackend: TuneBackend = {
  async listGpus(wanted) {
    const r = await execa('nvidia-smi', ['--query-gpu=index,name,compute_cap', '--format=csv,noheader'], { reject: false, timeout: 20_000 });
    if (r.exitCode !== 0) return [];
    const gpus = String(r.stdout)
      .split('\n')
      .map((l) => l.split(',').map((s) => s.trim()))
      .filter((c) => c.length >= 3 && c[2] === '9.0')
      .map((c) => ({ index: c[0]!, name: c[1]! }));
    return wanted ? gpus.filter((g) => wanted.includes(g.index)) : gpus;
  },
  async build(candidates, { root, workDir, jobs, io }) {
    const outcomes = new Map<string, BuildOutcome>();
    const toBuild: string[] = [];
    for (const c of candidates) {
      try {
        for (const f of renderVariant(c.plan)) writeIfChanged(join(workDir, c.variantId, f.path), f.text);
        toBuild.push(c.variantId);
      } catch (e) {
        outcomes.set(c.variantId, { variantId: c.variantId, ok: false, errors: [`render: ${(e as Error).message}`] });
      }
    }
    let nvcc;
    try {
      nvcc = await locateNvcc();
    } catch (e) {
      throw new NvccMissing((e as Error).message);
    }
    const results = await buildWithProgress(toBuild, { root, nvcc, jobs, generatedDir: workDir, buildDir: workDir }, io.progressStream);
    for (const r of results) {
      const regs = (r.report?.kernels ?? []).map((k) => k.registers ?? 0);
      outcomes.set(r.variantId, { variantId: r.variantId, ok: r.ok, errors: r.errors, registers: regs.length ? Math.max(...regs) : null });
    }
    return candidates.map((c) => outcomes.get(c.variantId)!);
  },
  harness: (workDir, id) => join(workDir, id, 'harness'),
  prebuilt(workDir, variantId) {
    const harness = join(workDir, variantId, 'harness');
    const report = join(workDir, variantId, 'report.json');
    if (!existsSync(harness)) return { variantId, ok: false, errors: [`${harness} not found: build it with \`mlagen tune --build-only\``] };
    if (!existsSync(report)) return { variantId, ok: false, errors: [`${report} not found: its resource check is unknown; rebuild with --build-only`] };
    const r = JSON.parse(readFileSync(report, 'utf8')) as { violations?: { message: string }[]; kernels?: { registers: number | null }[] };
    const errors = (r.violations ?? []).map((v) => v.message);
    const regs = (r.kernels ?? []).map((k) => k.registers ?? 0);
    return { variantId, ok: errors.length === 0, errors, registers: regs.length ? Math.max(...regs) : null };
  },
  runCase: (binary, c, mode, extra, env, timeoutMs) => runCase(binary, c, mode, extra, { env, ...(timeoutMs ? { timeoutMs } : {}) }),
  runCeilings: (binary, env) => runCeilings(binary, { env }),
};

/** `matrix`, `edge`, `all`, or comma-separated substrings of case ids (as in `mlagen bench --filter`). */
export function resolveCases(spec: string, dtype: 'bf16' | 'fp16'): HarnessCase[] {
  const set = spec === 'matrix' || spec === 'edge' || spec === 'all' ? selectCases(spec) : selectCases('all', spec);
  return forVariant(set, dtype, undefined);
}

export function resolveCheckCases(ids: readonly string[], dtype: 'bf16' | 'fp16'): HarnessCase[] {
  return ids.map((id) => {
    const c = findCase(id) ?? selectCases('all', id)[0];
    if (!c) throw new Error(`--check-cases: no case id contains "${id}"`);
    return onVariant(c, { dtype });
  });
}

export interface TuneOptions {
  root: string;
  space: TuneSpace;
  cases: readonly HarnessCase[];
  checkCases: readonly HarnessCase[];
  shard: Shard;
  resume: boolean;
  /** Results folder: journal.jsonl and the table(s) of this run. */
  outDir: string;
  /** Where candidates are rendered and built: <workDir>/<variantId>/. */
  workDir: string;
  jobs?: number;
  /** CUDA device indices to use (default: every Hopper GPU). */
  gpus?: readonly string[];
  /** false: use the harnesses already in workDir (built elsewhere with --build-only). */
  build: boolean;
  buildOnly?: boolean;
  /** Extra harness arguments for timing (e.g. --iters 20, --verify 0). */
  benchArgs?: readonly string[];
  /**
   * Input seed of every timed run: by default one per case (caseSeed), the same for every
   * candidate, so that all see the same inputs (varlen lengths included); 'random': the harness draws.
   */
  seed?: number | 'random';
  timeoutMs?: number;
  /** Where the published tables go (generated/tuning); null: do not publish. Sharded runs never do. */
  tuningDir: string | null;
  argv?: readonly string[];
  /** For tests: a fixed date in the run record. */
  now?: () => Date;
}

export interface TuneResult {
  exitCode: number;
  journal: string;
  tables: TuningTable[];
  space?: PrunedSpace;
  shardCandidates?: Candidate[];
}

/** Runs `tasks` on the GPUs, one worker each, taking the next task as soon as a GPU is free. */
export async function onGpus<T>(tasks: readonly T[], gpus: readonly GpuInfo[], run: (task: T, gpu: GpuInfo) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    gpus.map(async (gpu) => {
      while (next < tasks.length) await run(tasks[next++]!, gpu);
    }),
  );
}

/** A fixed seed per case (FNV-1a of its id): every candidate times the same inputs. */
export function caseSeed(caseId: string): number {
  let h = 2166136261;
  for (let i = 0; i < caseId.length; i++) h = Math.imul(h ^ caseId.charCodeAt(i), 16777619) >>> 0;
  return h;
}

const envFor = (gpu: GpuInfo): Record<string, string> => ({ CUDA_VISIBLE_DEVICES: gpu.index });

export function checkRecord(variantId: string, r: CaseResult, gpu: string): CheckRecord {
  return { type: 'check', variantId, caseId: r.id, gpu, status: r.status, message: r.message, outRelL2: r.json?.check?.out_rel_l2 ?? null };
}

export function benchRecord(variantId: string, c: HarnessCase, r: CaseResult, gpu: string): BenchRecord {
  const b = r.json?.bench;
  const rec: BenchRecord = {
    type: 'bench',
    variantId,
    caseId: c.id,
    gpu,
    status: r.status,
    message: r.message,
    shape: { dtype: c.dtype, b: c.seqlens ? c.seqlens.length : c.b, sQ: c.sQ, hQ: c.hQ, sk: c.seqlens ? Math.round(c.seqlens.reduce((s, x) => s + x, 0) / Math.max(1, c.seqlens.length)) : c.sk, varlen: c.varlen },
  };
  if (b) Object.assign(rec, { usSingle: b.us_single, us: b.us, flops: b.flops, bytes: b.bytes, totalKv: b.total_kv });
  return rec;
}

/** Writes the tables to tuningDir/<gpu-slug>.json and re-renders dispatch.ts/.h from every table there. */
export function publishTables(tables: readonly TuningTable[], tuningDir: string): string[] {
  mkdirSync(tuningDir, { recursive: true });
  const written: string[] = [];
  for (const t of tables) {
    const file = join(tuningDir, `${t.gpuSlug}.json`);
    writeFileSync(file, tableJson(t));
    written.push(file);
  }
  const all = readdirSync(tuningDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(tuningDir, f), 'utf8')) as TuningTable)
    .filter((t) => t.schema === TABLE_SCHEMA);
  writeFileSync(join(tuningDir, DISPATCH_TS), renderDispatchTs(all));
  writeFileSync(join(tuningDir, DISPATCH_H), renderDispatchH(all));
  written.push(join(tuningDir, DISPATCH_TS), join(tuningDir, DISPATCH_H));
  return written;
}

/** Writes each table of a results folder as <out>/tuning-<slug>.json. */
export function writeRunTables(tables: readonly TuningTable[], outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return tables.map((t) => {
    const file = join(outDir, `tuning-${t.gpuSlug}.json`);
    writeFileSync(file, tableJson(t));
    return file;
  });
}

const us = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(1)} µs`);

export async function runTune(opts: TuneOptions, backend: TuneBackend = realBackend, io: TuneIo = defaultTuneIo): Promise<TuneResult> {
  const say = (t: string): void => io.stderr(`mlagen tune: ${t}\n`);
  const rel = (p: string): string => relative(opts.root, p) || '.';
  const file = journalPath(opts.outDir);
  if (existsSync(file) && !opts.resume && !opts.buildOnly) {
    say(`${rel(file)} exists: pass --resume to continue it, or choose another --out`);
    return { exitCode: TUNE_EXIT.usage, journal: file, tables: [] };
  }

  // 1. The space, pruned by the DSL before anything is compiled.
  const space = pruneSpace(opts.space);
  const mine = takeShard(space.candidates, opts.shard);
  say(
    `${space.size} points, ${space.pruned.length} pruned by the DSL, ${space.candidates.length} candidates; ` +
      `shard ${shardLabel(opts.shard)}: ${mine.length} candidates x ${opts.cases.length} cases`,
  );
  const previous = readJournal(file);
  if (previous.badLines.length) say(`${rel(file)}: ignoring ${previous.badLines.length} torn line(s) (${previous.badLines.join(', ')})`);
  const seen = new Set(previous.records.map(canonical));
  const journal = opts.buildOnly ? undefined : new Journal(file);
  const records: JournalRecord[] = [...previous.records];
  const append = (r: JournalRecord, once = false): void => {
    const key = canonical(r);
    if (once && seen.has(key)) return;
    seen.add(key);
    records.push(r);
    journal?.append(r);
  };

  if (journal) {
    append({
      type: 'run',
      schema: 'mlagen-tune-journal/1',
      date: (opts.now ?? (() => new Date()))().toISOString(),
      shard: opts.shard,
      argv: [...(opts.argv ?? [])],
      host: hostname(),
      candidates: mine.length,
      cases: opts.cases.map((c) => c.id),
    });
    for (const p of space.pruned) append({ type: 'pruned', variantId: p.variantId, settings: p.settings, reason: p.reason }, true);
    for (const c of mine) append({ type: 'candidate', variantId: c.variantId, settings: c.settings, baseline: c.baseline }, true);
  }
  if (mine.length === 0) {
    // The journal still exists (pruned points, the run), so `tune merge` can take every shard's folder.
    say('this shard has no candidate');
    return { exitCode: TUNE_EXIT.ok, journal: file, tables: [], space, shardCandidates: mine };
  }

  // 2. Render and compile (or find the harnesses built elsewhere).
  let built: BuildOutcome[];
  if (opts.build) {
    say(`building ${mine.length} candidates in ${rel(opts.workDir)}/`);
    try {
      built = await backend.build(mine, { root: opts.root, workDir: opts.workDir, ...(opts.jobs ? { jobs: opts.jobs } : {}), io });
    } catch (e) {
      if (e instanceof NvccMissing) {
        say(`cannot compile: ${e.message}`);
        return { exitCode: TUNE_EXIT.noNvcc, journal: file, tables: [], space, shardCandidates: mine };
      }
      throw e;
    }
  } else {
    built = mine.map((c) => backend.prebuilt(opts.workDir, c.variantId));
  }
  for (const b of built) {
    append({ type: 'build', variantId: b.variantId, ok: b.ok, errors: b.errors, ...(b.registers !== undefined ? { registers: b.registers } : {}) }, true);
    if (!b.ok) say(`${b.variantId}: not built: ${b.errors[0]?.split('\n')[0] ?? ''}`);
  }
  const ready = mine.filter((c) => built.find((b) => b.variantId === c.variantId)?.ok);
  say(`${ready.length}/${mine.length} candidates built`);
  if (opts.buildOnly) {
    io.stdout(`${ready.map((c) => `${c.variantId}  ${describeSettings(c.settings)}`).join('\n')}\n`);
    return { exitCode: ready.length ? TUNE_EXIT.ok : TUNE_EXIT.failed, journal: file, tables: [], space, shardCandidates: mine };
  }

  // 3. Measure on every GPU.
  const gpus = await backend.listGpus(opts.gpus);
  if (gpus.length === 0) {
    say(`no Hopper GPU${opts.gpus ? ` among --gpus ${opts.gpus.join(',')}` : ''}: nothing timed; rerun with --resume where there is one`);
    return { exitCode: TUNE_EXIT.noGpu, journal: file, tables: [], space, shardCandidates: mine };
  }
  say(`GPUs: ${gpus.map((g) => `${g.index}: ${g.name}`).join(', ')}`);
  const binary = (id: string): string => backend.harness(opts.workDir, id);

  const ceilingsDone = new Set(records.filter((r) => r.type === 'ceilings').map((r) => (r as { gpu: string }).gpu));
  const probe = ready.find((c) => c.baseline) ?? ready[0];
  const names = [...new Set(gpus.map((g) => g.name))].filter((n) => !ceilingsDone.has(n));
  if (probe)
    await Promise.all(
      names.map(async (name) => {
        const gpu = gpus.find((g) => g.name === name)!;
        const r = await backend.runCeilings(binary(probe.variantId), envFor(gpu));
        if (r.result.status === 'no-gpu') return;
        append({ type: 'ceilings', gpu: name, copyGbps: r.ceilings?.copy_gbps ?? null, matmulTflops: r.ceilings?.matmul_tflops ?? null });
        say(`${name}: copy ${r.ceilings?.copy_gbps?.toFixed(0) ?? '?'} GB/s, bf16 matmul ${r.ceilings?.matmul_tflops?.toFixed(0) ?? '?'} TFLOPS`);
      }),
    );

  const done = finishedPairs(records);
  const checkTasks = ready.flatMap((c) => opts.checkCases.filter((k) => !done.has(pairKey('check', c.variantId, k.id))).map((k) => ({ c, k })));
  let n = 0;
  await onGpus(checkTasks, gpus, async ({ c, k }, gpu) => {
    const r = await backend.runCase(binary(c.variantId), onVariant(k, { pageSize: c.config.problem.pageSize, kvFp8: c.config.problem.kvDtype === 'fp8_e4m3' }), 'check', [], envFor(gpu), opts.timeoutMs);
    append(checkRecord(c.variantId, r, gpu.name));
    say(`[check ${++n}/${checkTasks.length}] ${r.status.padEnd(7)} ${c.variantId} ${k.id}${r.status === 'pass' ? '' : `: ${r.message}`}`);
  });

  const checkStatus = (id: string): boolean =>
    opts.checkCases.every((k) => records.some((r) => r.type === 'check' && r.variantId === id && r.caseId === k.id && r.status === 'pass'));
  const passed = ready.filter((c) => checkStatus(c.variantId));
  if (passed.length < ready.length) say(`${ready.length - passed.length} candidate(s) failed their checks and are not timed`);
  // Case-major order: an interrupted run leaves whole cases measured across candidates.
  const benchTasks = opts.cases.flatMap((k) => passed.filter((c) => !done.has(pairKey('bench', c.variantId, k.id))).map((c) => ({ c, k })));
  const skipped = opts.cases.length * passed.length - benchTasks.length;
  if (skipped) say(`resuming: ${skipped} (candidate, case) pairs already timed`);
  n = 0;
  await onGpus(benchTasks, gpus, async ({ c, k }, gpu) => {
    const seed = opts.seed === 'random' ? [] : ['--seed', `${opts.seed ?? caseSeed(k.id)}`];
    const r = await backend.runCase(binary(c.variantId), onVariant(k, { pageSize: c.config.problem.pageSize, kvFp8: c.config.problem.kvDtype === 'fp8_e4m3' }), 'bench', [...(opts.benchArgs ?? []), ...seed], envFor(gpu), opts.timeoutMs);
    const rec = benchRecord(c.variantId, k, r, gpu.name);
    append(rec);
    say(`[bench ${++n}/${benchTasks.length}] ${r.status.padEnd(7)} ${k.id} ${c.variantId} ${r.status === 'pass' ? us(rec.usSingle) : r.message}`);
  });

  // 4. The table: a function of the whole journal (earlier runs of it included, all in `records`).
  const tables = buildTables(records);
  const files = writeRunTables(tables, opts.outDir);
  if (opts.tuningDir && opts.shard.count === 1) files.push(...publishTables(tables, opts.tuningDir));
  else if (opts.shard.count > 1) say(`shard ${shardLabel(opts.shard)} done: merge the shards with \`mlagen tune merge <dirs...>\``);
  io.stdout(formatTables(tables));
  for (const f of files) say(`wrote ${rel(f)}`);
  const timed = tables.some((t) => t.entries.length > 0);
  return { exitCode: timed ? TUNE_EXIT.ok : TUNE_EXIT.failed, journal: file, tables, space, shardCandidates: mine };
}

/** A plain-text summary: per GPU and bucket, the best variant, its time and the baseline's. */
export function formatTables(tables: readonly TuningTable[]): string {
  const lines: string[] = [];
  for (const t of tables) {
    lines.push(`${t.gpu}: ${t.entries.length} buckets, ${t.measured} candidates timed, ${t.rejected.length} rejected, ${t.pruned.length} pruned`);
    if (t.ceilings) lines.push(`  ceilings: copy ${t.ceilings.copyGbps?.toFixed(0) ?? '?'} GB/s, bf16 matmul ${t.ceilings.matmulTflops?.toFixed(0) ?? '?'} TFLOPS`);
    const w = Math.max(6, ...t.entries.map((e) => e.key.length));
    lines.push(`  ${'bucket'.padEnd(w)}  ${'best µs'.padStart(9)}  ${'default µs'.padStart(10)}  speedup  best variant`);
    for (const e of t.entries)
      lines.push(
        `  ${e.key.padEnd(w)}  ${e.best.us.toFixed(1).padStart(9)}  ${(e.default.us?.toFixed(1) ?? '—').padStart(10)}  ${(e.speedup === null ? '—' : `${e.speedup.toFixed(3)}x`).padStart(7)}  ${e.best.variantId}`,
      );
    for (const r of t.rejected) lines.push(`  rejected ${r.variantId}: ${r.reason.split('\n')[0]}`);
  }
  lines.push('Times: sum over the bucket\'s cases of the median single-call time (L2 flushed per replay), µs.');
  return `${lines.join('\n')}\n`;
}

/** `mlagen tune merge`: the table of several shard journals, as if one run had made them all. */
export function mergeJournals(dirsOrFiles: readonly string[]): { records: JournalRecord[]; badLines: number; missing: string[] } {
  const records: JournalRecord[] = [];
  let badLines = 0;
  const missing: string[] = [];
  for (const d of dirsOrFiles) {
    const f = journalPath(d);
    if (!existsSync(f)) {
      missing.push(f);
      continue;
    }
    const j = readJournal(f);
    records.push(...j.records);
    badLines += j.badLines.length;
  }
  return { records, badLines, missing };
}
