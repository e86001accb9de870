// The tuning journal: one JSON object per line, appended as results come in, so that an
// interrupted run loses at most the line being written and `--resume` skips what is done.
// Shard journals are merged by concatenation; the table (table.ts) is a pure function of the
// records and does not depend on their order.
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { CaseStatus } from '../harness/runner.ts';

export const JOURNAL_FILE = 'journal.jsonl';
export const JOURNAL_SCHEMA = 'mlagen-tune-journal/1';

/** The shape of a timed case, as the table buckets it. */
export interface CaseShape {
  dtype: 'bf16' | 'fp16';
  b: number;
  sQ: number;
  hQ: number;
  /** Nominal mean context length of the case (sk). */
  sk: number;
  varlen: boolean;
}

/** Informational: who ran, when, with what. Ignored by the table. */
export interface RunRecord {
  type: 'run';
  schema: typeof JOURNAL_SCHEMA;
  date: string;
  shard: { index: number; count: number };
  argv: string[];
  host?: string;
  candidates: number;
  cases: string[];
}

export interface CandidateRecord {
  type: 'candidate';
  variantId: string;
  settings: Record<string, unknown>;
  baseline: boolean;
}

export interface PrunedRecord {
  type: 'pruned';
  variantId: string;
  settings: Record<string, unknown>;
  reason: string;
}

export interface BuildRecord {
  type: 'build';
  variantId: string;
  ok: boolean;
  errors: string[];
  /** ptxas: registers per thread of the decode kernel, spills (when known). */
  registers?: number | null;
}

export interface CeilingsRecord {
  type: 'ceilings';
  gpu: string;
  copyGbps: number | null;
  matmulTflops: number | null;
}

interface MeasuredBase {
  variantId: string;
  caseId: string;
  gpu: string;
  status: CaseStatus;
  message: string;
}

export interface CheckRecord extends MeasuredBase {
  type: 'check';
  outRelL2?: number | null;
}

export interface BenchRecord extends MeasuredBase {
  type: 'bench';
  shape: CaseShape;
  /** One call per L2-flushed replay, median (the anchor's method): the figure the tuner ranks by. */
  usSingle?: number;
  /** k calls per graph replay, median. */
  us?: number;
  flops?: number;
  bytes?: number;
  totalKv?: number;
}

export type JournalRecord = RunRecord | CandidateRecord | PrunedRecord | BuildRecord | CeilingsRecord | CheckRecord | BenchRecord;

/** The journal of a results folder, or the file itself when given one. */
export function journalPath(dirOrFile: string): string {
  return existsSync(dirOrFile) && statSync(dirOrFile).isFile() ? dirOrFile : join(dirOrFile, JOURNAL_FILE);
}

export interface ReadJournal {
  records: JournalRecord[];
  /** Lines that did not parse (a run killed mid-write leaves at most one, at the end). */
  badLines: number[];
}

export function parseJournal(text: string): ReadJournal {
  const records: JournalRecord[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') records.push(v as JournalRecord);
      else badLines.push(i + 1);
    } catch {
      badLines.push(i + 1);
    }
  });
  return { records, badLines };
}

export function readJournal(dirOrFile: string): ReadJournal {
  const file = journalPath(dirOrFile);
  if (!existsSync(file)) return { records: [], badLines: [] };
  return parseJournal(readFileSync(file, 'utf8'));
}

/** Appends records, one line each; a torn last line from an earlier crash is closed first. */
export class Journal {
  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size > 0) {
      // Only the last byte matters: the journal may be long.
      const last = Buffer.alloc(1);
      const fd = openSync(file, 'r');
      readSync(fd, last, 0, 1, size - 1);
      closeSync(fd);
      if (last[0] !== 0x0a) appendFileSync(file, '\n');
    }
  }

  append(record: JournalRecord): void {
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }
}

/** A measurement that counts as done for --resume ('no-gpu' is the machine's state, not the candidate's). */
export function isFinished(r: CheckRecord | BenchRecord): boolean {
  return r.status !== 'no-gpu';
}

export const pairKey = (mode: 'check' | 'bench', variantId: string, caseId: string): string => `${mode}\u0000${variantId}\u0000${caseId}`;

/** The (mode, candidate, case) triples a journal has finished. */
export function finishedPairs(records: readonly JournalRecord[]): Set<string> {
  const done = new Set<string>();
  for (const r of records) if ((r.type === 'check' || r.type === 'bench') && isFinished(r)) done.add(pairKey(r.type, r.variantId, r.caseId));
  return done;
}
