// The variants a torch package is built from: generated/manifest.ts gives the ids and the dispatch order,
// each generated/<id>/plan.json the bounds the variant accepts, mlagen.h the C entry points to rename.
// Everything the templates print is computed here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { manifestRows, type ManifestRow } from '../harness/paths.ts';

import { ENTRY_POINTS, renamedEntryPoint } from '../../dsl/render/entryPoints.ts';
import { pageMultipleOf } from '../../dsl/kernels/mlaDecode.ts';
import { plansAlike } from '../../dsl/schedule/splitKv.ts';

export interface Range {
  min: number;
  max: number;
}

/** How a variant dtype appears in the C ABI, in torch's C++ and in Python. */
export interface DtypeNames {
  /** mlagen/abi.h enumerator, e.g. MLAGEN_BF16. */
  abi: string;
  /** Python spelling, e.g. torch.bfloat16. */
  torch: string;
}

export const TORCH_DTYPES: Readonly<Record<string, DtypeNames>> = {
  bf16: { abi: 'MLAGEN_BF16', torch: 'torch.bfloat16' },
  fp16: { abi: 'MLAGEN_FP16', torch: 'torch.float16' },
  fp8_e4m3: { abi: 'MLAGEN_FP8_E4M3', torch: 'torch.float8_e4m3fn' },
};

export interface TorchVariant {
  id: string;
  planHash: string;
  qDtype: string;
  kvDtype: string;
  outDtype: string;
  pageSize: number;
  /** With pageSize 0: the page sizes it takes at launch are the multiples of this (dsl pageMultipleOf). */
  pageMultiple: number;
  dQk: number;
  dV: number;
  hKv: number;
  sQ: Range;
  hQ: Range;
  /** Query rows s_q*h_q this variant is picked for (the manifest's `rows`, a tuner's preference). */
  rows: Range;
  schedule: { blockM: number; blockN: number; fixedOverheadBlocks: number };
  nvccFlags: string[];
  /** Every extern "C" entry point of the variant's mlagen.h, and the name it gets inside the extension. */
  renames: Array<{ from: string; to: string }>;
}

export class TorchEmitError extends Error {
  override name = 'TorchEmitError';
}

/** The name an entry point of one variant gets in the extension: `<variant id>_<entry point>`. */
export const renamedSymbol = renamedEntryPoint;

interface PlanJson {
  planHash: string;
  build?: { nvccFlags?: string[] };
  config: {
    problem: {
      qDtype: string;
      kvDtype: string;
      outDtype?: string;
      pageSize: number;
      dQk: number;
      dV: number;
      hKv: number;
      hQ: Range;
      sQ: Range;
    };
    schedule: { blockM: number; blockN: number; fixedOverheadBlocks: number };
    tile?: { blockM: number; blockN: number };
    kvLoader?: 'tma' | 'cp.async';
  };
}

/** The extern "C" functions mlagen.h declares (`mlagen_xxx(` at the start of a declaration). */
export function declaredEntryPoints(header: string): string[] {
  const names = new Set<string>();
  for (const line of header.split('\n')) {
    if (/^\s*(\/\/|\/\*|\*|#)/.test(line)) continue;
    const m = /^\s*[A-Za-z_][\w\s*]*?\b(mlagen_[a-z0-9_]+)\s*\(/.exec(line);
    if (m) names.add(m[1]!);
  }
  return [...names];
}

/** Loads the variants named (default: every manifest variant), in dispatch order (see dispatchOrder). */
export async function loadTorchVariants(root: string, ids?: readonly string[]): Promise<TorchVariant[]> {
  const manifest = await manifestRows(root);
  if (manifest.length === 0) throw new TorchEmitError('generated/manifest.ts lists no variant: run `mlagen generate` first');
  const wanted = ids && ids.length > 0 ? [...ids] : manifest.map((m) => m.id);
  const seen = new Set<string>();
  const out: TorchVariant[] = [];
  for (const id of wanted) {
    if (seen.has(id)) throw new TorchEmitError(`--variants: ${id} is named twice`);
    seen.add(id);
    const row = manifest.find((m) => m.id === id);
    if (!row) throw new TorchEmitError(`--variants: ${id} is not in generated/manifest.ts (known: ${manifest.map((m) => m.id).join(', ')})`);
    out.push(loadVariant(root, row));
  }
  checkSharedSchedule(out);
  return dispatchOrder(out);
}

/**
 * The order the glue tries variants in: the narrowest `rows` range first (a tuned variant for some query-row counts
 * wins over a general one of the same dtype wherever both serve), ties in the order given (manifest or --variants).
 */
export function dispatchOrder(variants: readonly TorchVariant[]): TorchVariant[] {
  const span = (v: TorchVariant) => v.rows.max - v.rows.min;
  return variants
    .map((v, i) => ({ v, i }))
    .sort((a, b) => span(a.v) - span(b.v) || a.i - b.i)
    .map((x) => x.v);
}

function loadVariant(root: string, row: ManifestRow): TorchVariant {
  const dir = join(root, 'generated', row.id);
  for (const f of ['plan.json', 'decode.cu', 'mlagen.h'])
    if (!existsSync(join(dir, f))) throw new TorchEmitError(`generated/${row.id}/${f} is missing: run \`mlagen generate\``);
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as PlanJson;
  const p = plan.config.problem;
  for (const [field, dtype] of [['qDtype', p.qDtype], ['kvDtype', p.kvDtype], ['outDtype', p.outDtype ?? p.qDtype]] as const) {
    if (!TORCH_DTYPES[dtype])
      throw new TorchEmitError(
        `${row.id}: ${field} ${dtype} has no torch mapping (the torch package serves ${Object.keys(TORCH_DTYPES).join(', ')})`,
      );
  }
  const declared = declaredEntryPoints(readFileSync(join(dir, 'mlagen.h'), 'utf8'));
  const missing = ENTRY_POINTS.filter((e) => !declared.includes(e));
  if (missing.length) throw new TorchEmitError(`generated/${row.id}/mlagen.h does not declare ${missing.join(', ')}`);
  const rows = row.rows ?? { min: p.sQ.min * p.hQ.min, max: p.sQ.max * p.hQ.max };
  return {
    id: row.id,
    planHash: plan.planHash,
    qDtype: p.qDtype,
    kvDtype: p.kvDtype,
    outDtype: p.outDtype ?? p.qDtype,
    pageSize: p.pageSize,
    pageMultiple: pageMultipleOf({
      problem: { pageSize: p.pageSize },
      kvLoader: plan.config.kvLoader ?? 'tma',
      tile: { blockN: plan.config.tile?.blockN ?? plan.config.schedule.blockN },
    }),
    dQk: p.dQk,
    dV: p.dV,
    hKv: p.hKv,
    sQ: { ...p.sQ },
    hQ: { ...p.hQ },
    rows: { min: rows.min, max: rows.max },
    // num_sm_parts counts m-blocks of the tile (decode.cu's ROWS_PER_M_BLOCK), the walk uses the schedule's KV block.
    schedule: { ...plan.config.schedule, blockM: plan.config.tile?.blockM ?? plan.config.schedule.blockM },
    nvccFlags: [...(plan.build?.nvccFlags ?? ['-std=c++17', '-O3'])],
    renames: declared.map((from) => ({ from, to: renamedSymbol(row.id, from) })),
  };
}

/**
 * FlashMLA's get_mla_metadata knows neither the dtype nor the variant the decode will pick, so all variants of one
 * package must plan the split-KV schedule alike: same KV block and split cost, and the same SM parts for every row
 * count: a variant with fewer rows per m-block than the largest (mathSchedule 'transposed') may serve only rows that
 * fit one of its m-blocks, where every variant plans one m-block per part.
 */
export function checkSharedSchedule(variants: readonly TorchVariant[]): void {
  const [first, ...rest] = variants;
  if (!first) throw new TorchEmitError('no variant to emit');
  const key = (v: TorchVariant) => `blockN ${v.schedule.blockN}, fixedOverheadBlocks ${v.schedule.fixedOverheadBlocks}`;
  for (const v of rest) {
    if (key(v) !== key(first))
      throw new TorchEmitError(
        `${v.id} schedules split-KV with ${key(v)} but ${first.id} with ${key(first)}: get_mla_metadata cannot serve both; ` +
          'emit them into separate packages (--variants)',
      );
  }
  const widest = Math.max(...variants.map((v) => v.schedule.blockM));
  for (const v of variants) {
    if (!plansAlike(v.schedule.blockM, widest, v.rows.max))
      throw new TorchEmitError(
        `${v.id} takes ${v.schedule.blockM} rows per m-block but serves rows up to ${v.rows.max}; beside variants of ${widest} ` +
          `rows per m-block it may serve at most ${v.schedule.blockM} (get_mla_metadata plans one set of SM parts for all): ` +
          'emit them into separate packages (--variants)',
      );
  }
}
