// The table is a pure function of the journal: one run, a run killed at any point and resumed,
// and shards merged by `tune merge` give the same table from the same measurements.
import { mkdtempSync, readFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { DEFAULT_MLA_DECODE, variantId } from '../../dsl/kernels/mlaDecode.ts';
import { param, type TuneSpace } from '../../dsl/tune/space.ts';
import { selectCases } from '../../scripts/harness/cases.ts';
import { readJournal, parseJournal, type JournalRecord } from '../../scripts/tune/journal.ts';
import { caseSeed, mergeJournals, publishTables, runTune, type TuneOptions } from '../../scripts/tune/run.ts';
import { buildTables, canonical, type TuningTable } from '../../scripts/tune/table.ts';
import { runMergeCommand } from '../../scripts/commands/tune.ts';
import { fakeBackend, fakeUs, Killed } from './fakeBackend.ts';

const SPACE: TuneSpace = {
  base: DEFAULT_MLA_DECODE,
  params: [
    param('schedule.fixedOverheadBlocks', [3, 5, 8]),
    param('registers', [
      { producer: 40, consumer: 232 },
      { producer: 24, consumer: 240 },
      { producer: 56, consumer: 240 }, // 68608 registers: pruned by the DSL
    ]),
  ],
};
const CASES = selectCases('matrix', 'sk4096-hq16,sk8192-hq128,sq1-sk16384-hq64');
const CHECKS = selectCases('edge', 'edge-seqlen0-in-batch-sq2,edge-b3-varlen-sk8192');
const quiet = { stdout: () => {}, stderr: () => {} };
const BASE = variantId(DEFAULT_MLA_DECODE);

function options(over: Partial<TuneOptions> = {}): TuneOptions {
  const dir = mkdtempSync(join(tmpdir(), 'mlagen-tune-'));
  return {
    root: dir,
    space: SPACE,
    cases: CASES,
    checkCases: CHECKS,
    shard: { index: 0, count: 1 },
    resume: false,
    outDir: join(dir, 'out'),
    workDir: join(dir, 'work'),
    build: true,
    tuningDir: null,
    now: () => new Date(0),
    ...over,
  };
}

async function wholeRun(over: Partial<TuneOptions> = {}, backend = fakeBackend()): Promise<{ tables: TuningTable[]; records: JournalRecord[]; opts: TuneOptions }> {
  const opts = options(over);
  const r = await runTune(opts, backend, quiet);
  expect(r.exitCode).toBe(0);
  return { tables: r.tables, records: readJournal(opts.outDir).records, opts };
}

describe('journal -> table', () => {
  it('ranks by the summed single-call time per bucket, with the baseline beside the best', async () => {
    const { tables, records } = await wholeRun();
    expect(tables).toHaveLength(1);
    const t = tables[0]!;
    expect(t.gpu).toBe('NVIDIA H100 80GB HBM3');
    expect(t.gpuSlug).toBe('nvidia-h100-80gb-hbm3');
    expect(t.baseline).toBe(BASE);
    expect(t.ceilings).toEqual({ copyGbps: 3000, matmulTflops: 650 });
    expect(t.pruned.map((p) => p.variantId).every((id) => id.includes('_r56x240'))).toBe(true);
    expect(t.pruned[0]!.reason).toMatch(/64512 the CTA holds/);
    const candidates = records.filter((r) => r.type === 'candidate').map((r) => (r as { variantId: string }).variantId);
    expect(candidates).toHaveLength(6);
    expect(t.measured).toBe(6);
    for (const e of t.entries) {
      const sums = candidates.map((v) => ({ v, us: e.cases.reduce((s, c) => s + fakeUs(v, c.caseId), 0) }));
      const best = sums.sort((a, b) => a.us - b.us)[0]!;
      expect(e.best.variantId).toBe(best.v);
      expect(e.best.us).toBeCloseTo(best.us, 9);
      expect(e.default.us).toBeCloseTo(e.cases.reduce((s, c) => s + fakeUs(BASE, c.caseId), 0), 9);
      expect(e.speedup).toBeGreaterThanOrEqual(1);
      expect(e.ranked).toBe(6);
      for (const c of e.cases) expect(c.bestUs).toBe(fakeUs(e.best.variantId, c.caseId));
    }
    expect(t.entries.map((e) => e.key)).toEqual([...t.entries.map((e) => e.key)].sort());
    // sk4096-hq16: (sq1 fixed, sq1 varlen) -> r16, (sq2 ...) -> r32; sk8192-hq128 -> r128 and r256; one r64 bucket.
    expect(t.entries.map((e) => e.key)).toEqual(['bf16_b128_r128_kv8192', 'bf16_b128_r16_kv4096', 'bf16_b128_r256_kv8192', 'bf16_b128_r32_kv4096', 'bf16_b128_r64_kv16384']);
  });

  it('does not depend on the order or repetition of records', async () => {
    const { tables, records } = await wholeRun();
    const shuffled = [...records].reverse();
    const doubled = [...records, ...records.filter((_, i) => i % 3 === 0)];
    expect(buildTables(shuffled)).toEqual(tables);
    expect(buildTables(doubled)).toEqual(tables);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const random = [...records].sort(() => rnd() - 0.5);
    expect(canonical(buildTables(random))).toBe(canonical(tables));
  });

  it('an interrupted and resumed run gives the table of one uninterrupted run, re-running nothing finished', async () => {
    const { tables } = await wholeRun();
    const totalRuns = 6 * CHECKS.length + 6 * CASES.length;
    for (const killAfter of [0, 1, 5, 13, 20, totalRuns - 1]) {
      const opts = options();
      await expect(runTune(opts, fakeBackend({ killAfter }), quiet)).rejects.toBeInstanceOf(Killed);
      // A kill in the middle of a write leaves a torn line.
      appendFileSync(join(opts.outDir, 'journal.jsonl'), '{"type":"bench","variantId":"mla_');
      const again = fakeBackend();
      const r = await runTune({ ...opts, resume: true }, again, quiet);
      expect(r.exitCode).toBe(0);
      expect(again.runs).toHaveLength(totalRuns - killAfter);
      expect(r.tables).toEqual(tables);
      // A second resume has nothing left to do.
      const third = fakeBackend();
      await runTune({ ...opts, resume: true }, third, quiet);
      expect(third.runs).toHaveLength(0);
    }
  });

  it('times every candidate of a case on the same inputs (one seed per case), unless --seed random', async () => {
    const backend = fakeBackend();
    await wholeRun({ benchArgs: ['--iters', '20'] }, backend);
    for (const c of CASES) {
      const seeds = new Set(backend.runs.filter((r) => r.mode === 'bench' && r.caseId === c.id).map((r) => r.extra.join(' ')));
      expect([...seeds]).toEqual([`--iters 20 --seed ${caseSeed(c.id)}`]);
    }
    expect(caseSeed(CASES[0]!.id)).not.toBe(caseSeed(CASES[1]!.id));
    const random = fakeBackend();
    await wholeRun({ seed: 'random' }, random);
    expect(random.runs.every((r) => !r.extra.includes('--seed'))).toBe(true);
  });

  it('refuses to append to an existing journal without --resume', async () => {
    const { opts } = await wholeRun();
    const r = await runTune(opts, fakeBackend(), quiet);
    expect(r.exitCode).toBe(2);
  });

  it('sharded runs merged give the table of one run; shards are disjoint and cover the candidates', async () => {
    const { tables } = await wholeRun();
    for (const n of [2, 3, 4, 7]) {
      const dirs: string[] = [];
      const seen: string[] = [];
      for (let i = 0; i < n; i++) {
        const opts = options({ shard: { index: i, count: n } });
        const backend = fakeBackend();
        const r = await runTune(opts, backend, quiet);
        seen.push(...(r.shardCandidates ?? []).map((c) => c.variantId));
        expect(existsSync(join(opts.outDir, 'journal.jsonl'))).toBe(true); // even a shard without candidates
        dirs.push(opts.outDir);
      }
      expect(seen).toHaveLength(6);
      expect(new Set(seen).size).toBe(6);
      const merged = mergeJournals(dirs);
      expect(merged.missing).toEqual([]);
      expect(buildTables(merged.records)).toEqual(tables);
      // Through the command, published like a whole run's.
      const tuningDir = mkdtempSync(join(tmpdir(), 'mlagen-tuning-'));
      expect(runMergeCommand(dirs, { tuningDir, root: tuningDir }, quiet)).toBe(0);
      expect(JSON.parse(readFileSync(join(tuningDir, 'nvidia-h100-80gb-hbm3.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(tables[0])));
    }
  });

  it('uses every GPU, one worker each, and keeps one table per GPU name', async () => {
    const backend = fakeBackend({
      gpus: [
        { index: '0', name: 'NVIDIA H100 80GB HBM3' },
        { index: '1', name: 'NVIDIA H100 80GB HBM3' },
        { index: '2', name: 'NVIDIA H200' },
      ],
    });
    const { tables } = await wholeRun({}, backend);
    expect(new Set(backend.runs.map((r) => r.env['CUDA_VISIBLE_DEVICES']))).toEqual(new Set(['0', '1', '2']));
    expect(tables.map((t) => t.gpuSlug)).toEqual(['nvidia-h100-80gb-hbm3', 'nvidia-h200']);
    const only = fakeBackend({ gpus: [{ index: '0', name: 'A' }, { index: '1', name: 'A' }] });
    await wholeRun({ gpus: ['1'] }, only);
    expect(new Set(only.runs.map((r) => r.env['CUDA_VISIBLE_DEVICES']))).toEqual(new Set(['1']));
  });

  it('rejects candidates that fail to build or fail a check, and never times them', async () => {
    const bad = `${BASE}_fo3`;
    const worse = `${BASE}_fo8_r24x240`;
    const backend = fakeBackend({ failBuild: (id) => id === worse, failCheck: (id, c) => id === bad && c === CHECKS[1]!.id });
    const { tables } = await wholeRun({}, backend);
    const t = tables[0]!;
    expect(t.rejected.map((r) => r.variantId)).toEqual([bad, worse].sort());
    expect(t.rejected.find((r) => r.variantId === worse)!.reason).toMatch(/^build: spills/);
    expect(t.rejected.find((r) => r.variantId === bad)!.reason).toMatch(/^check edge-b3-varlen-sk8192: fail/);
    expect(backend.runs.filter((r) => r.mode === 'bench' && (r.variant === bad || r.variant === worse))).toEqual([]);
    expect(t.entries.every((e) => e.best.variantId !== bad && e.best.variantId !== worse)).toBe(true);
  });

  it('reads journals with torn lines and ignores them', () => {
    const j = parseJournal('{"type":"build","variantId":"a","ok":true,"errors":[]}\n{"type":"be\n\n[1]\n');
    expect(j.records).toHaveLength(1);
    expect(j.badLines).toEqual([2, 4]);
  });

  it('renders a dispatcher whose pickVariant agrees with the table (TS and C)', async () => {
    const { tables } = await wholeRun();
    const dir = mkdtempSync(join(tmpdir(), 'mlagen-dispatch-'));
    publishTables(tables, dir);
    const mod = (await import(pathToFileURL(join(dir, 'dispatch.ts')).href)) as {
      pickVariant: (s: { batch: number; sQ: number; hQ: number; contextLength: number; dtype?: string }, gpu?: string) => string | null;
    };
    const t = tables[0]!;
    for (const e of t.entries) {
      const shape = { batch: e.bucket.batch, sQ: 1, hQ: e.bucket.rows, contextLength: e.bucket.context };
      expect(mod.pickVariant(shape)).toBe(e.best.variantId);
      expect(mod.pickVariant({ ...shape, contextLength: e.bucket.context * 1.1 }, 'NVIDIA H100 80GB HBM3')).toBe(e.best.variantId);
    }
    // Off the tuned grid: the nearest bucket (b=100 -> 128; rows 20 -> 16; 4000 -> 4096).
    const near = t.entries.find((e) => e.key === 'bf16_b128_r16_kv4096')!;
    expect(mod.pickVariant({ batch: 100, sQ: 1, hQ: 20, contextLength: 4000 })).toBe(near.best.variantId);
    expect(mod.pickVariant({ batch: 100, sQ: 1, hQ: 20, contextLength: 4000, dtype: 'fp16' })).toBeNull();
    expect(mod.pickVariant({ batch: 1, sQ: 1, hQ: 1, contextLength: 1 }, 'NVIDIA A100')).toBeNull();

    let cc: string | null = null;
    for (const c of ['cc', 'gcc', 'clang']) {
      try {
        execFileSync(c, ['--version'], { stdio: 'ignore' });
        cc = c;
        break;
      } catch {
        // next
      }
    }
    if (!cc) return;
    const probes = [...t.entries.map((e) => [e.bucket.batch, 1, e.bucket.rows, e.bucket.batch * e.bucket.context]), [100, 1, 20, 400000], [3, 2, 64, 3 * 70000]];
    writeFileSync(
      join(dir, 'probe.c'),
      `#include <stdio.h>\n#include "dispatch.h"\nint main(void) {\n${probes
        .map((p) => `  { const char* v = mlagen_pick_variant("nvidia-h100-80gb-hbm3", "bf16", ${p[0]}, ${p[1]}, ${p[2]}, ${p[3]}LL); printf("%s\\n", v ? v : "(null)"); }`)
        .join('\n')}\n  return 0;\n}\n`,
    );
    execFileSync(cc, ['-std=c99', '-Wall', '-Werror', '-o', join(dir, 'probe'), join(dir, 'probe.c'), '-lm']);
    const out = execFileSync(join(dir, 'probe'), { encoding: 'utf8' }).trim().split('\n');
    expect(out).toEqual(probes.map((p) => mod.pickVariant({ batch: p[0]!, sQ: p[1]!, hQ: p[2]!, contextLength: p[3]! / p[0]! })));
  });
});
