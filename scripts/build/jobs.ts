// A bounded-parallel runner for jobs with dependencies (objects compile side by side; a link
// waits for its objects). Jobs start in the order given as soon as their dependencies are done
// and a slot is free. A failed job's dependants are skipped, other jobs carry on, so one broken
// variant does not hide the state of the others.
import { availableParallelism } from 'node:os';

export interface Job<T> {
  id: string;
  /** Ids of jobs that must finish successfully first. */
  deps?: readonly string[];
  run: () => Promise<T>;
}

export type JobOutcome<T> =
  | { status: 'done'; value: T; seconds: number }
  | { status: 'failed'; error: Error; seconds: number }
  | { status: 'skipped'; reason: string };

export type JobEvent =
  | { type: 'start'; id: string }
  | { type: 'done'; id: string; seconds: number; note: string | undefined }
  | { type: 'failed'; id: string; seconds: number; error: Error }
  | { type: 'skipped'; id: string; reason: string };

export interface RunJobsOptions<T> {
  /** Most jobs running at once; defaults to the number of CPUs. */
  concurrency?: number;
  onEvent?: (event: JobEvent) => void;
  /** A short note for the "done" event, e.g. "cached". */
  noteFor?: (value: T) => string | undefined;
}

export function defaultConcurrency(): number {
  return availableParallelism();
}

export async function runJobs<T>(jobs: readonly Job<T>[], opts: RunJobsOptions<T> = {}): Promise<Map<string, JobOutcome<T>>> {
  const concurrency = opts.concurrency ?? defaultConcurrency();
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a whole number >= 1, got ${concurrency}`);
  checkGraph(jobs);

  const emit = opts.onEvent ?? (() => {});
  const outcomes = new Map<string, JobOutcome<T>>();
  const pending = [...jobs];
  let running = 0;

  return new Promise((resolve) => {
    const pump = (): void => {
      // Skip, transitively, whatever depends on a job that did not succeed.
      for (let changed = true; changed; ) {
        changed = false;
        for (let i = 0; i < pending.length; i++) {
          const job = pending[i]!;
          const blocker = (job.deps ?? []).find((d) => {
            const o = outcomes.get(d);
            return o !== undefined && o.status !== 'done';
          });
          if (blocker === undefined) continue;
          const reason = `${blocker} ${outcomes.get(blocker)!.status}`;
          outcomes.set(job.id, { status: 'skipped', reason });
          emit({ type: 'skipped', id: job.id, reason });
          pending.splice(i--, 1);
          changed = true;
        }
      }
      for (let i = 0; i < pending.length && running < concurrency; i++) {
        const job = pending[i]!;
        if (!(job.deps ?? []).every((d) => outcomes.get(d)?.status === 'done')) continue;
        pending.splice(i--, 1);
        start(job);
      }
      if (running === 0 && pending.length === 0) resolve(outcomes);
    };

    const start = (job: Job<T>): void => {
      running++;
      emit({ type: 'start', id: job.id });
      const t0 = performance.now();
      const seconds = () => (performance.now() - t0) / 1000;
      // Promise.resolve().then: a job that throws synchronously fails like one that rejects.
      Promise.resolve()
        .then(job.run)
        .then(
          (value) => {
            outcomes.set(job.id, { status: 'done', value, seconds: seconds() });
            emit({ type: 'done', id: job.id, seconds: seconds(), note: opts.noteFor?.(value) });
          },
          (err: unknown) => {
            const error = err instanceof Error ? err : new Error(String(err));
            outcomes.set(job.id, { status: 'failed', error, seconds: seconds() });
            emit({ type: 'failed', id: job.id, seconds: seconds(), error });
          },
        )
        .finally(() => {
          running--;
          pump();
        });
    };

    pump();
  });
}

/** Unique ids, known dependencies and no cycles, checked before anything runs. */
function checkGraph(jobs: readonly Job<unknown>[]): void {
  const byId = new Map<string, Job<unknown>>();
  for (const j of jobs) {
    if (byId.has(j.id)) throw new Error(`job id "${j.id}" is used twice`);
    byId.set(j.id, j);
  }
  for (const j of jobs) {
    for (const d of j.deps ?? []) if (!byId.has(d)) throw new Error(`job "${j.id}" depends on unknown job "${d}"`);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`job dependencies form a cycle: ${[...trail, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const d of byId.get(id)!.deps ?? []) visit(d, [...trail, id]);
    state.set(id, 'done');
  };
  for (const j of jobs) visit(j.id, []);
}
