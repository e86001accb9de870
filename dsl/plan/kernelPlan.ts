// The KernelPlan: a plain, serializable description of one variant that templates read.
// All arithmetic is done before it is built; templates only loop and print.
import { createHash } from 'node:crypto';
import type { MlaDecodeConfig } from '../kernels/mlaDecode.ts';
import type { MBarrier, NamedBarrier } from '../sm90/mbarrier.ts';
import type { WarpgroupRole } from '../sm90/roles.ts';
import type { TmaBox } from '../sm90/tma.ts';
import type { WgmmaShape, WgmmaWrapper } from '../sm90/wgmma.ts';
import type { SmemPlan } from './smemPlan.ts';

/** A computed number: printed as a named constexpr with its derivation, echoed by a static_assert. */
export interface PlanConstant {
  name: string;
  type: 'int' | 'int64_t' | 'uint32_t' | 'uint64_t' | 'float';
  /** C++ literal. */
  value: string;
  /** How it was derived, in words or arithmetic. */
  why: string;
  /** A C++ expression over earlier constants that must equal it (static_assert); omitted for inputs. */
  check?: string;
}

export interface PlanArray {
  name: string;
  type: 'uint32_t' | 'int';
  values: number[];
  why: string;
}

export interface PlanSection {
  /** The DSL object the constants come from, named in the generated comments. */
  dsl: string;
  constants: PlanConstant[];
  arrays: PlanArray[];
}

export interface ResourceFigures {
  threads: number;
  smemBytes: number;
  smemLimit: number;
  entryRegisterCap: number;
  registerBudget: number;
  namedBarriers: number;
  mbarriers: number;
}

export interface KernelPlan {
  variantId: string;
  kernelName: string;
  /** The DSL config that produced the plan, for the banner. */
  config: MlaDecodeConfig;
  /** C++ types: the inputs', the output's, and `math`, the dtype of the tiles the wgmma reads. */
  types: { q: string; math: string; kv: string; out: string; qAbi: string; kvAbi: string; outAbi: string };
  sections: PlanSection[];
  wgmma: (WgmmaShape & WgmmaWrapper & { dslPath: string })[];
  tma: TmaBox[];
  smem: SmemPlan;
  mbarriers: MBarrier[];
  namedBarriers: NamedBarrier[];
  roles: WarpgroupRole[];
  schedule: { blockN: number; fixedOverheadBlocks: number; blockM: number };
  resources: ResourceFigures;
  build: { allowSpills: boolean; allowLocalMemory: boolean; allowSerializedWgmma: boolean; nvccFlags: string[] };
}

/** A short, stable content hash of the plan (the hash field itself excluded). */
export function planHash(plan: KernelPlan): string {
  return createHash('sha256').update(stableJson(plan)).digest('hex').slice(0, 12);
}

/** JSON with sorted keys, so the same plan always hashes the same. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export const constant = (
  name: string,
  value: number | bigint,
  why: string,
  check?: string,
  type: PlanConstant['type'] = 'int',
): PlanConstant => ({
  name,
  type,
  value: typeof value === 'bigint' ? `0x${value.toString(16).toUpperCase()}ull` : String(value),
  why,
  ...(check ? { check } : {}),
});
