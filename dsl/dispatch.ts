// Which variant serves which shape: the dispatcher library routes each mlagen_decode call by q dtype
// and query rows (s_q*h_q/h_kv) to one catalogue variant. Rules are checked here: every dtype of the
// catalogue must be covered for every row count exactly once, and all routed variants must share one
// split-KV schedule and page size (the metadata is planned once for all of them).
import { Checker } from './errors.ts';
import type { MlaDecodeConfig } from './kernels/mlaDecode.ts';
import { variantId } from './kernels/mlaDecode.ts';
import type { DType, Range } from './problem.ts';

export const DISPATCH_ID = 'mla_sm90_dispatch';

export interface DispatchPolicy {
  /** Query rows s_q*h_q/h_kv this schedule serves. */
  rows: Range;
  mathSchedule: MlaDecodeConfig['mathSchedule'];
  why: string;
}

export interface DispatchRule {
  variantId: string;
  dtype: DType;
  rows: Range;
  why: string;
}

export function dispatchRules(catalogue: readonly MlaDecodeConfig[], policy: readonly DispatchPolicy[]): DispatchRule[] {
  const c = new Checker(['dispatch']);
  const rules: DispatchRule[] = [];
  const dtypes = [...new Set(catalogue.map((v) => v.problem.qDtype))];
  for (const dtype of dtypes) {
    const ofDtype = catalogue.filter((v) => v.problem.qDtype === dtype);
    const maxRows = Math.max(...ofDtype.map((v) => v.problem.hQ.max * v.problem.sQ.max));
    let next = 1;
    for (const p of [...policy].sort((x, y) => x.rows.min - y.rows.min)) {
      const v = ofDtype.find((x) => x.mathSchedule === p.mathSchedule);
      if (!c.require(!!v, `${dtype} > ${p.mathSchedule}`, `no catalogue variant has this schedule for ${dtype}`)) continue;
      c.require(p.rows.min === next, `${dtype} > rows`, `${p.mathSchedule} starts at ${p.rows.min}, but rows ${next}.. are not covered (or covered twice)`);
      rules.push({ variantId: variantId(v!), dtype, rows: { min: p.rows.min, max: Math.min(p.rows.max, maxRows) }, why: p.why });
      next = p.rows.max + 1;
    }
    c.require(next > maxRows, `${dtype} > rows`, `rows ${next}..${maxRows} are served by no rule`);
  }
  const routed = catalogue.filter((v) => rules.some((r) => r.variantId === variantId(v)));
  const key = (v: MlaDecodeConfig) => JSON.stringify([v.schedule, v.problem.pageSize, v.problem.dV, v.problem.dQk]);
  c.require(new Set(routed.map(key)).size <= 1, 'variants', 'routed variants must share schedule, page size and head dims (one metadata serves them all)');
  c.throwIfAny();
  return rules;
}
