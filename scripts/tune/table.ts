// The tuning table: a pure function of the journal's records, whatever their order or how many
// times a record repeats. So one run, an interrupted and resumed run, and shards merged by
// concatenating their journals all give the same table from the same measurements.
//
// Per GPU name and shape bucket: the cases timed in the bucket, every candidate that passed its
// checks and timed every one of those cases, ranked by the sum of its `us_single` over them; the
// best one, its times, and the baseline's (the space's base config).
import { stableJson } from '../../dsl/plan/kernelPlan.ts';
import { bucketKey, gpuSlug, shapeBucket, type ShapeBucket } from './buckets.ts';
import type { BenchRecord, CaseShape, JournalRecord } from './journal.ts';

export const TABLE_SCHEMA = 'mlagen-tuning/1';

export interface CaseTime {
  caseId: string;
  shape: CaseShape;
  bestUs: number;
  defaultUs: number | null;
  flops: number | null;
  bytes: number | null;
}

export interface TableEntry {
  key: string;
  bucket: ShapeBucket;
  cases: CaseTime[];
  best: { variantId: string; us: number };
  default: { variantId: string; us: number | null };
  /** default us / best us (null when the baseline did not time every case of the bucket). */
  speedup: number | null;
  /** The next candidates, best first (at most 4). */
  runnersUp: { variantId: string; us: number }[];
  /** Candidates that timed every case of the bucket. */
  ranked: number;
}

export interface TuningTable {
  schema: typeof TABLE_SCHEMA;
  gpu: string;
  gpuSlug: string;
  /** What the times are: median of one call per L2-flushed replay, microseconds. */
  metric: 'us_single';
  baseline: string | null;
  ceilings: { copyGbps: number | null; matmulTflops: number | null } | null;
  entries: TableEntry[];
  /** Settings of every variant an entry names. */
  variants: Record<string, Record<string, unknown>>;
  /** Candidates that failed to build or failed a check on this GPU, with the first reason. */
  rejected: { variantId: string; reason: string }[];
  /** Points the DSL rejected before compiling. */
  pruned: { variantId: string; reason: string }[];
  /** Candidates measured (timed at least one case) on this GPU. */
  measured: number;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A canonical JSON string (sorted keys, as plans are hashed): equal values, equal strings. */
export function canonical(v: unknown): string {
  return stableJson(v) ?? 'null';
}

/** Of several values, the least by `score`, ties broken by canonical text: independent of order. */
function least<T>(items: readonly T[], score: (t: T) => number): T {
  return [...items].sort((a, b) => score(a) - score(b) || byString(canonical(a), canonical(b)))[0]!;
}

function firstReason(reasons: readonly string[]): string {
  return [...reasons].sort(byString)[0] ?? '';
}

const usable = (r: BenchRecord): boolean => r.status === 'pass' && typeof r.usSingle === 'number' && Number.isFinite(r.usSingle) && r.usSingle > 0;

/** One table per GPU name found in the records, sorted by slug. */
export function buildTables(records: readonly JournalRecord[]): TuningTable[] {
  const gpus = new Set<string>();
  for (const r of records) if (r.type === 'bench' || r.type === 'check' || r.type === 'ceilings') gpus.add(r.gpu);
  return [...gpus]
    .sort(byString)
    .map((gpu) => buildTable(records, gpu))
    .sort((a, b) => byString(a.gpuSlug, b.gpuSlug));
}

export function buildTable(records: readonly JournalRecord[], gpu: string): TuningTable {
  // Candidates, baseline and pruned points (deduplicated by id).
  const settings = new Map<string, Record<string, unknown>[]>();
  const baselines = new Set<string>();
  const prunedReasons = new Map<string, string[]>();
  const buildErrors = new Map<string, string[]>();
  const builtOk = new Set<string>();
  const checkFailures = new Map<string, string[]>();
  const copy: number[] = [];
  const matmul: number[] = [];
  const bench = new Map<string, BenchRecord[]>(); // variant \0 case -> records

  for (const r of records) {
    switch (r.type) {
      case 'candidate':
        settings.set(r.variantId, [...(settings.get(r.variantId) ?? []), r.settings]);
        if (r.baseline) baselines.add(r.variantId);
        break;
      case 'pruned':
        prunedReasons.set(r.variantId, [...(prunedReasons.get(r.variantId) ?? []), r.reason]);
        settings.set(r.variantId, [...(settings.get(r.variantId) ?? []), r.settings]);
        break;
      case 'build':
        if (r.ok) builtOk.add(r.variantId);
        else buildErrors.set(r.variantId, [...(buildErrors.get(r.variantId) ?? []), r.errors.join('\n') || 'build failed']);
        break;
      case 'ceilings':
        if (r.gpu !== gpu) break;
        if (r.copyGbps !== null && Number.isFinite(r.copyGbps)) copy.push(r.copyGbps);
        if (r.matmulTflops !== null && Number.isFinite(r.matmulTflops)) matmul.push(r.matmulTflops);
        break;
      case 'check':
        if (r.gpu !== gpu || r.status === 'no-gpu' || r.status === 'pass') break;
        checkFailures.set(r.variantId, [...(checkFailures.get(r.variantId) ?? []), `check ${r.caseId}: ${r.status}${r.message ? `: ${r.message}` : ''}`]);
        break;
      case 'bench':
        if (r.gpu !== gpu || r.status === 'no-gpu') break;
        bench.set(`${r.variantId}\u0000${r.caseId}`, [...(bench.get(`${r.variantId}\u0000${r.caseId}`) ?? []), r]);
        break;
      case 'run':
        break;
    }
  }

  const rejected = new Map<string, string>();
  for (const [id, errs] of buildErrors) if (!builtOk.has(id)) rejected.set(id, `build: ${firstReason(errs)}`);
  for (const [id, reasons] of checkFailures) if (!rejected.has(id)) rejected.set(id, firstReason(reasons));

  // One measurement per (variant, case): the fastest passing one (repeats come from merged shards).
  const best = new Map<string, BenchRecord>();
  for (const [key, rs] of bench) {
    const ok = rs.filter(usable);
    if (ok.length === 0) continue;
    const variant = key.split('\u0000')[0]!;
    if (rejected.has(variant)) continue;
    best.set(key, least(ok, (r) => r.usSingle!));
  }

  // Bucket -> case -> variant -> record.
  const buckets = new Map<string, { bucket: ShapeBucket; cases: Map<string, Map<string, BenchRecord>> }>();
  for (const r of best.values()) {
    const bucket = shapeBucket({ batch: r.shape.b, sQ: r.shape.sQ, hQ: r.shape.hQ, contextLength: r.shape.sk, dtype: r.shape.dtype });
    const key = bucketKey(bucket);
    const b = buckets.get(key) ?? { bucket, cases: new Map() };
    buckets.set(key, b);
    const c = b.cases.get(r.caseId) ?? new Map<string, BenchRecord>();
    b.cases.set(r.caseId, c);
    c.set(r.variantId, r);
  }

  const baseline = [...baselines].sort(byString)[0] ?? null;
  const entries: TableEntry[] = [];
  for (const [key, { bucket, cases }] of [...buckets].sort((a, b) => byString(a[0], b[0]))) {
    const caseIds = [...cases.keys()].sort(byString);
    const variants = new Set<string>();
    for (const m of cases.values()) for (const v of m.keys()) variants.add(v);
    const eligible = [...variants].filter((v) => caseIds.every((c) => cases.get(c)!.has(v)));
    if (eligible.length === 0) continue;
    const total = (v: string): number => caseIds.reduce((s, c) => s + cases.get(c)!.get(v)!.usSingle!, 0);
    const ranking = eligible.map((variantId) => ({ variantId, us: total(variantId) })).sort((a, b) => a.us - b.us || byString(a.variantId, b.variantId));
    const top = ranking[0]!;
    const baseUs = baseline && eligible.includes(baseline) ? total(baseline) : null;
    entries.push({
      key,
      bucket,
      cases: caseIds.map((caseId) => {
        const rec = cases.get(caseId)!.get(top.variantId)!;
        const base = baseline ? cases.get(caseId)!.get(baseline) : undefined;
        return {
          caseId,
          shape: rec.shape,
          bestUs: rec.usSingle!,
          defaultUs: base?.usSingle ?? null,
          flops: rec.flops ?? null,
          bytes: rec.bytes ?? null,
        };
      }),
      best: top,
      default: { variantId: baseline ?? '', us: baseUs },
      speedup: baseUs === null ? null : baseUs / top.us,
      runnersUp: ranking.slice(1, 5),
      ranked: ranking.length,
    });
  }

  const named = new Set(entries.flatMap((e) => [e.best.variantId, e.default.variantId, ...e.runnersUp.map((r) => r.variantId)]));
  const variants: Record<string, Record<string, unknown>> = {};
  for (const id of [...named].sort(byString)) {
    const s = settings.get(id);
    if (s) variants[id] = least(s, () => 0);
  }
  const measured = new Set([...best.values()].map((r) => r.variantId)).size;

  return {
    schema: TABLE_SCHEMA,
    gpu,
    gpuSlug: gpuSlug(gpu),
    metric: 'us_single',
    baseline,
    ceilings: copy.length || matmul.length ? { copyGbps: copy.length ? Math.max(...copy) : null, matmulTflops: matmul.length ? Math.max(...matmul) : null } : null,
    entries,
    variants,
    rejected: [...rejected].sort((a, b) => byString(a[0], b[0])).map(([variantId, reason]) => ({ variantId, reason })),
    pruned: [...prunedReasons].sort((a, b) => byString(a[0], b[0])).map(([variantId, reasons]) => ({ variantId, reason: firstReason(reasons) })),
    measured,
  };
}

/** The table as written to disk (stable key order from construction, two-space indent). */
export function tableJson(t: TuningTable): string {
  return `${JSON.stringify(t, null, 2)}\n`;
}
