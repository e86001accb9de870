// Which variant serves which shape: the dispatcher library routes each mlagen_decode call by q dtype, KV cache
// dtype, KV page size and query rows (s_q*h_q/h_kv) to one catalogue variant; a variant for any page size (pageSize 0)
// serves the page sizes no other variant of the dtypes has. Rules are checked here: every dtype and
// page size of the catalogue must be covered for every row count exactly once, and all routed variants must
// share one split-KV schedule and head dims (the metadata is planned once for all of them; it does not
// depend on the page size); a variant with fewer rows per CTA (mathSchedule 'transposed') may take only row counts
// that fit one of its CTAs, where every variant plans the same SM parts.
import { Checker } from './errors.ts';
import type { MlaDecodeConfig } from './kernels/mlaDecode.ts';
import { DEFAULT_MLA_DECODE, pageMultipleOf, variantId } from './kernels/mlaDecode.ts';
import type { DType, Range } from './problem.ts';
import { plansAlike } from './schedule/splitKv.ts';

export const DISPATCH_ID = 'mla_sm90_dispatch';

export interface DispatchPolicy {
  /** Query rows s_q*h_q/h_kv this schedule serves. */
  rows: Range;
  mathSchedule: MlaDecodeConfig['mathSchedule'];
  /** The variant's tile.blockM, where a group may hold several of the schedule ('transposed'). */
  blockM?: number;
  why: string;
}

export interface DispatchRule {
  variantId: string;
  dtype: DType;
  /** The cache's dtype: dtype's own, or fp8_e4m3. */
  kvDtype: DType;
  /** The page size served; 0 with pageMultiple k: every page size that is a multiple of k. */
  pageSize: number;
  pageMultiple: number;
  rows: Range;
  why: string;
}

/**
 * The policy applies per (dtype, page size). A page size whose variants lack a schedule the policy names
 * takes the one it has for those rows (a catalogue may ship, say, 16-token pages in split-n only); a
 * schedule no page size of the dtype has is an error.
 */
export function dispatchRules(catalogue: readonly MlaDecodeConfig[], policy: readonly DispatchPolicy[]): DispatchRule[] {
  const c = new Checker(['dispatch']);
  const rules: DispatchRule[] = [];
  // Routes are per (q dtype, cache dtype): a 16-bit cache in the queries' dtype, or an fp8 one.
  const pairs = [...new Map(catalogue.map((v) => [`${v.problem.qDtype}/${v.problem.kvDtype}`, { dtype: v.problem.qDtype, kvDtype: v.problem.kvDtype }])).values()];
  const mainPage = DEFAULT_MLA_DECODE.problem.pageSize;
  for (const { dtype, kvDtype } of pairs) {
    const ofDtype = catalogue.filter((v) => v.problem.qDtype === dtype && v.problem.kvDtype === kvDtype);
    const dtypeName = kvDtype === dtype ? dtype : `${dtype} > kv ${kvDtype}`;
    // Groups by the pages served: one size, or (pageSize 0) every multiple of pageMultipleOf. The default page size
    // first: tools that look at one route (check, bench) take the first; then the other fixed sizes; then the variants
    // that take the size at launch, the largest multiple first: the library takes the first route that matches, so a
    // page size goes to its own variant, else to TMA boxes where it is a multiple of the step, else to the cp.async loader.
    const groupOf = (v: MlaDecodeConfig) => ({ page: v.problem.pageSize, multiple: pageMultipleOf(v) });
    const order = (g: { page: number; multiple: number }): [number, number] =>
      g.page === mainPage ? [0, 0] : g.page > 0 ? [1, g.page] : g.multiple > 1 ? [2, -g.multiple] : [3, 0];
    const nameOf = (g: { page: number; multiple: number }) => `${g.page}/${g.multiple}`;
    const groups = [...new Map(ofDtype.map((v) => [nameOf(groupOf(v)), groupOf(v)])).values()].sort((a, b) => {
      const [oa, ob] = [order(a), order(b)];
      return oa[0] - ob[0] || oa[1] - ob[1];
    });
    for (const { page, multiple: pageMultiple } of groups) {
      const group = ofDtype.filter((v) => nameOf(groupOf(v)) === nameOf({ page, multiple: pageMultiple }));
      const where = groups.length > 1 ? `${dtypeName} > page ${pageText(page, pageMultiple)}` : dtypeName;
      const maxRows = Math.max(...group.map((v) => v.problem.hQ.max * v.problem.sQ.max));
      let next = 1;
      for (const p of [...policy].sort((x, y) => x.rows.min - y.rows.min)) {
        let v = group.find((x) => x.mathSchedule === p.mathSchedule && (p.blockM === undefined || x.tile.blockM === p.blockM));
        let why = p.why;
        const splitN = group.find((x) => x.mathSchedule === 'split-n');
        if (!v && p.mathSchedule === 'transposed' && splitN) {
          // Few rows: where the group has no such transposed variant, split-n (the schedule those rows had before).
          v = splitN;
          why = `no transposed variant${p.blockM ? ` of ${p.blockM} rows` : ''} for ${where}: split-n`;
        } else if (!v && ofDtype.some((x) => x.mathSchedule === p.mathSchedule)) {
          v = group[0]!;
          why = `no ${p.mathSchedule} variant for pages of ${pageText(page, pageMultiple)} tokens: ${v.mathSchedule}`;
        } else if (!v && kvDtype !== dtype) {
          // An fp8 cache is widened by the split-n producer only: its variants take every row count.
          v = group[0]!;
          why = `no ${p.mathSchedule} variant for a ${kvDtype} cache: ${v.mathSchedule}`;
        }
        if (!c.require(!!v, `${dtypeName} > ${p.mathSchedule}`, `no catalogue variant has this schedule for ${dtypeName}`)) continue;
        c.require(p.rows.min === next, `${where} > rows`, `${p.mathSchedule} starts at ${p.rows.min}, but rows ${next}.. are not covered (or covered twice)`);
        const rule = { variantId: variantId(v!), dtype, kvDtype, pageSize: page, pageMultiple, rows: { min: p.rows.min, max: Math.min(p.rows.max, maxRows) }, why };
        const last = rules[rules.length - 1];
        const continues =
          last &&
          last.variantId === rule.variantId &&
          last.dtype === dtype &&
          last.kvDtype === kvDtype &&
          last.pageSize === page &&
          last.pageMultiple === pageMultiple &&
          last.rows.max + 1 === rule.rows.min;
        if (continues) {
          last.rows = { min: last.rows.min, max: rule.rows.max };
          last.why = `${last.why}; from ${rule.rows.min} rows: ${why}`;
        } else rules.push(rule);
        next = p.rows.max + 1;
      }
      c.require(next > maxRows, `${where} > rows`, `rows ${next}..${maxRows} are served by no rule`);
    }
  }
  const routed = catalogue.filter((v) => rules.some((r) => r.variantId === variantId(v)));
  const key = (v: MlaDecodeConfig) => JSON.stringify([v.schedule.blockN, v.schedule.fixedOverheadBlocks, v.problem.dV, v.problem.dQk]);
  c.require(new Set(routed.map(key)).size <= 1, 'variants', 'routed variants must share schedule and head dims (one metadata serves them all)');
  // The metadata counts SM parts with the planner's (the first routed variant's) rows per CTA; a variant with other
  // rows per CTA agrees with it only where both need one CTA per part.
  const planner = routed[0];
  for (const r of rules) {
    const v = routed.find((x) => variantId(x) === r.variantId)!;
    if (!planner) continue;
    const fits = Math.min(v.schedule.blockM, planner.schedule.blockM);
    c.require(
      plansAlike(v.schedule.blockM, planner.schedule.blockM, r.rows.max),
      `${r.variantId} > rows`,
      `routed for rows ${r.rows.min}..${r.rows.max}, but with ${v.schedule.blockM} rows per CTA (the metadata plans ${planner.schedule.blockM}) it may take at most ${fits}`,
    );
  }
  c.throwIfAny();
  return rules;
}

/**
 * `first` for the row counts it covers (from 1 up), then `rest` for the rows above them (an entry of `rest` that
 * starts lower is trimmed): how the transposed schedule's few-row routes go in front of a tuned policy.
 */
export function policyWithFirst(first: readonly DispatchPolicy[], rest: readonly DispatchPolicy[]): DispatchPolicy[] {
  const top = Math.max(0, ...first.map((p) => p.rows.max));
  const trimmed = rest.filter((p) => p.rows.max > top).map((p) => ({ ...p, rows: { min: Math.max(p.rows.min, top + 1), max: p.rows.max } }));
  return [...first.map((p) => ({ ...p, rows: { ...p.rows } })), ...trimmed];
}

/** A route's pages in words: `64`, `any`, or `64n` (every multiple of 64). */
export function pageText(pageSize: number, pageMultiple: number): string {
  return pageSize > 0 ? `${pageSize}` : pageMultiple === 1 ? 'any' : `${pageMultiple}n`;
}

/** What the routing needs of a tuning table (written by `mlagen tune`, scripts/tune/table.ts). */
export interface TuningEvidence {
  gpu: string;
  entries: readonly {
    bucket: { dtype: string; rows: number };
    best: { variantId: string; us: number };
    runnersUp: readonly { variantId: string; us: number }[];
    /** The space's base config (us null when it did not time every case): kept even when it ranks below the runners-up. */
    default?: { variantId: string; us: number | null };
  }[];
  /** Settings of every variant an entry names, by DSL path. */
  variants: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Routing from a tuning table: per query-row bucket, the schedules' times (for the catalogue's split-KV
 * fixed cost, which one dispatcher shares) summed over the bucket's contexts; the seesaw takes a bucket
 * only when it wins by more than `margin` (run-to-run noise), else the simpler split-n keeps it. A bucket
 * of r rows serves the rows above the previous bucket up to r; the last one serves every larger count.
 * Buckets without both schedules timed fall back to `fallback`'s choice.
 */
export function policyFromTuning(
  table: TuningEvidence,
  fixedCost: number,
  fallback: readonly DispatchPolicy[],
  margin = 0.01,
): DispatchPolicy[] {
  const scheduleOf = (id: string): MlaDecodeConfig['mathSchedule'] | undefined => {
    const v = table.variants[id];
    if (!v || (v['schedule.fixedOverheadBlocks'] ?? fixedCost) !== fixedCost) return undefined;
    const s = v['mathSchedule'];
    return s === 'split-n' || s === 'seesaw' ? s : undefined;
  };
  const sums = new Map<number, { 'split-n': number; seesaw: number; both: number }>();
  for (const e of table.entries) {
    const times: Partial<Record<MlaDecodeConfig['mathSchedule'], number>> = {};
    // The runners-up stop at four; the default is listed apart, so a clear loser still counts.
    const ranked = [e.best, ...e.runnersUp, ...(e.default && e.default.us !== null ? [{ variantId: e.default.variantId, us: e.default.us }] : [])];
    for (const t of ranked) {
      const s = scheduleOf(t.variantId);
      if (s && times[s] === undefined) times[s] = t.us;
    }
    const acc = sums.get(e.bucket.rows) ?? { 'split-n': 0, seesaw: 0, both: 0 };
    if (times['split-n'] !== undefined && times.seesaw !== undefined) {
      acc['split-n'] += times['split-n'];
      acc.seesaw += times.seesaw;
      acc.both += 1;
    }
    sums.set(e.bucket.rows, acc);
  }
  const fallbackFor = (rows: number) => fallback.find((p) => rows >= p.rows.min && rows <= p.rows.max)?.mathSchedule ?? 'split-n';
  const buckets = [...sums.keys()].sort((a, b) => a - b);
  if (buckets.length === 0) return [...fallback];
  const policy: DispatchPolicy[] = [];
  buckets.forEach((rows, i) => {
    const s = sums.get(rows)!;
    const gain = s.both ? s['split-n'] / s.seesaw - 1 : 0;
    const schedule: MlaDecodeConfig['mathSchedule'] = !s.both ? fallbackFor(rows) : gain > margin ? 'seesaw' : 'split-n';
    const min = i === 0 ? 1 : buckets[i - 1]! + 1;
    const max = i === buckets.length - 1 ? 1 << 20 : rows;
    const why = s.both
      ? `tuned on ${table.gpu}: at ${rows} rows the seesaw is ${(100 * gain).toFixed(1)} % ${gain >= 0 ? 'faster' : 'slower'} than split-n`
      : `no tuning data at ${rows} rows: default`;
    const last = policy[policy.length - 1];
    if (last && last.mathSchedule === schedule) {
      last.rows = { min: last.rows.min, max };
      last.why = `${last.why}; ${why}`;
    } else policy.push({ rows: { min, max }, mathSchedule: schedule, why });
  });
  return policy;
}
