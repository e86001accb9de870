// registerTune / registerReport on a bare commander program (the lead wires them into cli.ts).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { DEFAULT_MLA_DECODE } from '../../dsl/kernels/mlaDecode.ts';
import { param, type AnyTuneParam } from '../../dsl/tune/space.ts';
import { registerReport } from '../../scripts/commands/report.ts';
import { registerTune, runTuneCommand } from '../../scripts/commands/tune.ts';
import { selectCases } from '../../scripts/harness/cases.ts';
import { runTune } from '../../scripts/tune/run.ts';
import { fakeBackend } from './fakeBackend.ts';

const quiet = { stdout: () => {}, stderr: () => {} };

/** One tune in a fresh folder on the fake backend; returns its results folder. */
async function tuneIn(
  params: readonly AnyTuneParam[],
  opts: { cases: string; checkCases: string; shard?: { index: number; count: number }; backend?: ReturnType<typeof fakeBackend> },
): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'mlagen-cmd-'));
  await runTune(
    {
      root,
      space: { base: DEFAULT_MLA_DECODE, params },
      cases: selectCases('matrix', opts.cases),
      checkCases: selectCases('edge', opts.checkCases),
      shard: opts.shard ?? { index: 0, count: 1 },
      resume: false,
      outDir: join(root, 'out'),
      workDir: join(root, 'work'),
      build: true,
      tuningDir: null,
    },
    opts.backend ?? fakeBackend(),
    quiet,
  );
  return join(root, 'out');
}

async function shardDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const index of [0, 1])
    dirs.push(await tuneIn([param('schedule.fixedOverheadBlocks', [3, 5, 8])], { cases: 'sq1-sk4096', checkCases: 'edge-seqlen0-in-batch-sq2', shard: { index, count: 2 } }));
  return dirs;
}

describe('tuning over page sizes', () => {
  it('runs every check and timed case on the candidate page size', async () => {
    const backend = fakeBackend();
    await tuneIn([param('problem.pageSize', [16, 64, 128])], { cases: 'sq1-sk4096-hq16', checkCases: 'edge-page-boundaries-sq2', backend });
    const pages = new Set(backend.runs.map((r) => `${r.variant.match(/_p(\d+)_/)![1]}:${r.pageSize}`));
    expect([...pages].sort()).toEqual(['128:128', '16:16', '64:64']);
    expect(backend.runs.filter((r) => r.mode === 'check')).toHaveLength(3);
    expect(backend.runs.filter((r) => r.mode === 'bench')).toHaveLength(3 * selectCases('matrix', 'sq1-sk4096-hq16').length);
  });
});

describe('the tune and report commands', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('merge takes its options after `merge`, whether or not the program has positional options', async () => {
    const dirs = await shardDirs();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const positional of [false, true]) {
      const program = new Command('mlagen').exitOverride();
      if (positional) program.enablePositionalOptions();
      registerTune(program);
      registerReport(program);
      const tuningDir = mkdtempSync(join(tmpdir(), 'mlagen-pub-'));
      await program.parseAsync(['node', 'mlagen', 'tune', 'merge', ...dirs, '--tuning-dir', tuningDir]);
      expect(process.exitCode).toBe(0);
      const table = JSON.parse(readFileSync(join(tuningDir, 'nvidia-h100-80gb-hbm3.json'), 'utf8'));
      expect(table.measured).toBe(3);
      expect(existsSync(join(tuningDir, 'dispatch.ts'))).toBe(true);
      expect(existsSync(join(tuningDir, 'dispatch.h'))).toBe(true);

      const html = join(tuningDir, 'report.html');
      await program.parseAsync(['node', 'mlagen', 'report', '--tuning', join(tuningDir, 'nvidia-h100-80gb-hbm3.json'), '--out', html]);
      expect(process.exitCode).toBe(0);
      expect(readFileSync(html, 'utf8')).toContain('<svg');
    }
  });

  it('reports usage errors with exit 2: a bad space, a bad case filter', async () => {
    const lines: string[] = [];
    const io = { stdout: () => {}, stderr: (t: string) => void lines.push(t) };
    expect(await runTuneCommand({ space: '{"params":{"nope":[1]}}' }, fakeBackend(), io)).toBe(2);
    expect(await runTuneCommand({ cases: 'no-such-case', out: mkdtempSync(join(tmpdir(), 'x-')) }, fakeBackend(), io)).toBe(2);
    expect(lines.join('')).toMatch(/nope: not a field of mlaDecode/);
    expect(lines.join('')).toMatch(/no case matches --cases no-such-case/);
  });

  it('--dry-run lists candidates and pruned points with the DSL reason', async () => {
    let out = '';
    const io = { stdout: (t: string) => void (out += t), stderr: () => {} };
    expect(await runTuneCommand({ dryRun: true, space: '{"params":{"registers":{"producer":[40,56],"consumer":[232,240]}},"replace":true}' }, fakeBackend(), io)).toBe(0);
    expect(out).toMatch(/^4 points; 1 candidates, 3 pruned/);
    expect(out).toMatch(/pruned +mla_sm90_\S+_r56x240 .*\n +mlaDecode > registers.*64512 the CTA holds/);
  });
});
