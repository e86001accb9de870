// The job runner: dependencies first, never more than N at once, failures skip only dependants.
import { describe, expect, it } from 'vitest';
import { runJobs, type Job, type JobEvent } from '../../scripts/build/jobs.ts';
import { createProgress } from '../../scripts/build/progress.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Jobs that record when they start and end, and how many run at once. */
function tracker() {
  const log: string[] = [];
  let running = 0;
  let peak = 0;
  const job = (id: string, ms: number, deps: string[] = [], fail = false): Job<string> => ({
    id,
    deps,
    run: async () => {
      peak = Math.max(peak, ++running);
      log.push(`start ${id}`);
      await sleep(ms);
      running--;
      log.push(`end ${id}`);
      if (fail) throw new Error(`${id} broke`);
      return id.toUpperCase();
    },
  });
  return { log, job, peak: () => peak };
}

describe('runJobs', () => {
  it('never runs more than the concurrency bound, and uses all of it', async () => {
    const t = tracker();
    const jobs = Array.from({ length: 9 }, (_, i) => t.job(`j${i}`, 15));
    const outcomes = await runJobs(jobs, { concurrency: 3 });
    expect(t.peak()).toBe(3);
    expect([...outcomes.values()].every((o) => o.status === 'done')).toBe(true);
  });

  it('starts a job only after its dependencies ended, and in the order given otherwise', async () => {
    const t = tracker();
    const jobs = [
      t.job('v1/link', 1, ['v1/a.o', 'v1/b.o']),
      t.job('v1/a.o', 20),
      t.job('v1/b.o', 5),
      t.job('v2/a.o', 5),
    ];
    const outcomes = await runJobs(jobs, { concurrency: 2 });
    const at = (e: string) => t.log.indexOf(e);
    expect(at('start v1/link')).toBeGreaterThan(at('end v1/a.o'));
    expect(at('start v1/link')).toBeGreaterThan(at('end v1/b.o'));
    expect(t.log.slice(0, 2)).toEqual(['start v1/a.o', 'start v1/b.o']);
    expect(at('start v2/a.o')).toBeGreaterThan(at('end v1/b.o'));
    expect(outcomes.get('v1/link')).toMatchObject({ status: 'done', value: 'V1/LINK' });
  });

  it('skips the dependants of a failed job, transitively, and finishes the rest', async () => {
    const t = tracker();
    const events: JobEvent[] = [];
    const jobs = [
      t.job('a', 5, [], true),
      t.job('b', 1, ['a']),
      t.job('c', 1, ['b']),
      t.job('d', 10),
    ];
    const outcomes = await runJobs(jobs, { concurrency: 4, onEvent: (e) => events.push(e) });
    expect(outcomes.get('a')).toMatchObject({ status: 'failed', error: { message: 'a broke' } });
    expect(outcomes.get('b')).toEqual({ status: 'skipped', reason: 'a failed' });
    expect(outcomes.get('c')).toEqual({ status: 'skipped', reason: 'b skipped' });
    expect(outcomes.get('d')).toMatchObject({ status: 'done' });
    expect(t.log).not.toContain('start b');
    expect(events.filter((e) => e.type !== 'start').map((e) => `${e.type} ${e.id}`)).toEqual([
      'failed a', 'skipped b', 'skipped c', 'done d',
    ]);
  });

  it('turns a synchronous throw into a failed job', async () => {
    const outcomes = await runJobs([{ id: 'x', run: () => { throw new Error('sync'); } }]);
    expect(outcomes.get('x')).toMatchObject({ status: 'failed', error: { message: 'sync' } });
  });

  it('rejects unknown dependencies, duplicate ids and cycles before running anything', async () => {
    const t = tracker();
    await expect(runJobs([t.job('a', 1, ['nope'])])).rejects.toThrow('job "a" depends on unknown job "nope"');
    await expect(runJobs([t.job('a', 1), t.job('a', 1)])).rejects.toThrow('job id "a" is used twice');
    await expect(runJobs([t.job('a', 1, ['b']), t.job('b', 1, ['a'])])).rejects.toThrow('cycle: a -> b -> a');
    await expect(runJobs([t.job('a', 1)], { concurrency: 0 })).rejects.toThrow('concurrency');
    expect(t.log).toEqual([]);
  });

  it('finishes at once with no jobs', async () => {
    expect((await runJobs([])).size).toBe(0);
  });
});

describe('createProgress', () => {
  const capture = () => {
    let text = '';
    const stream = { write: (s: string) => ((text += s), true), isTTY: false, columns: 60 } as unknown as NodeJS.WriteStream;
    return { stream, text: () => text };
  };

  it('prints one plain line per event without escapes when not interactive', () => {
    const out = capture();
    const p = createProgress(2, { stream: out.stream, interactive: false });
    p.onEvent({ type: 'start', id: 'v1/decode.o' });
    p.onEvent({ type: 'done', id: 'v1/decode.o', seconds: 1.25, note: 'cached' });
    p.onEvent({ type: 'failed', id: 'v1/harness', seconds: 0.5, error: new Error('nvcc failed\nmore') });
    p.finish();
    expect(out.text()).toBe(
      'start   v1/decode.o\n[1/2] done    v1/decode.o 1.3s (cached)\n[2/2] FAILED  v1/harness 0.5s: nvcc failed\n',
    );
  });

  it('is plain when CI is set, even on a terminal', () => {
    const out = capture();
    (out.stream as { isTTY: boolean }).isTTY = true;
    const p = createProgress(1, { stream: out.stream, env: { CI: 'true' } });
    p.onEvent({ type: 'start', id: 'a' });
    p.finish();
    expect(out.text()).toBe('start   a\n');
  });

  it('redraws one status line on a terminal, within its width', () => {
    const out = capture();
    const p = createProgress(2, { stream: out.stream, interactive: true });
    p.onEvent({ type: 'start', id: 'v1/decode.o' });
    p.onEvent({ type: 'start', id: 'some-very-long-variant-name-that-overflows/decode.o' });
    p.onEvent({ type: 'done', id: 'v1/decode.o', seconds: 2, note: undefined });
    p.finish();
    const text = out.text();
    expect(text).toContain('\r\x1b[2Kbuilding 0/2 · 1 running: v1/decode.o 0.0s');
    expect(text).toContain('[1/2] done    v1/decode.o 2.0s\n');
    expect(text.endsWith('\r\x1b[2K')).toBe(true);
    for (const segment of text.split(/\r\x1b\[2K|\n/)) expect(segment.length).toBeLessThanOrEqual(59);
  });
});
