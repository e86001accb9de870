// Where the dispatcher's routing comes from: the tuning table in generated/tuning/ (written by
// `mlagen tune`) when there is one — or the one MLAGEN_TUNING names, by GPU slug — else the
// catalogue's DISPATCH_POLICY.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE, DISPATCH_POLICY, FEW_ROWS_POLICY } from '../catalogue.ts';
import type { DispatchPolicy, TuningEvidence } from '../dispatch.ts';
import { policyFromTuning, policyWithFirst } from '../dispatch.ts';
import { REPO_ROOT } from './repoRoot.ts';

export interface RoutingSource {
  policy: DispatchPolicy[];
  /** Where it came from, for the generated banner. */
  source: string;
}

export function dispatchPolicy(root = REPO_ROOT, wanted = process.env.MLAGEN_TUNING): RoutingSource {
  const dir = join(root, 'generated', 'tuning');
  const tables = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  const pick = wanted ? tables.filter((f) => f === `${wanted}.json`) : tables;
  if (pick.length !== 1) {
    const why = pick.length === 0 ? 'no tuning table' : `${pick.length} tuning tables (set MLAGEN_TUNING to a GPU slug)`;
    return { policy: [...DISPATCH_POLICY], source: `dsl/catalogue.ts DISPATCH_POLICY (${why})` };
  }
  const table = JSON.parse(readFileSync(join(dir, pick[0]!), 'utf8')) as TuningEvidence;
  // dispatchRules makes the routed variants share one schedule (one metadata serves them all).
  const fixedCost = CATALOGUE[0]!.schedule.fixedOverheadBlocks;
  // The table times split-n against the seesaw; the few-row routes (transposed) go in front of what it picks.
  const tuned = policyFromTuning(table, fixedCost, DISPATCH_POLICY);
  return { policy: policyWithFirst(FEW_ROWS_POLICY, tuned), source: `generated/tuning/${pick[0]} (${table.gpu}), few rows: dsl/catalogue.ts FEW_ROWS_POLICY` };
}
