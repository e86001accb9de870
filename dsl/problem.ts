// The problem a kernel variant solves: MLA decode over a paged KV cache.
import { Checker } from './errors.ts';

export type DType = 'bf16' | 'fp16' | 'fp8_e4m3' | 'fp32';

export const DTYPE_BYTES: Record<DType, number> = { bf16: 2, fp16: 2, fp8_e4m3: 1, fp32: 4 };

/** C++ element type and the PTX spelling of each dtype. */
export const DTYPE_CUDA: Record<DType, { cType: string; ptx: string; abi: string }> = {
  bf16: { cType: '__nv_bfloat16', ptx: 'bf16', abi: 'MLAGEN_BF16' },
  fp16: { cType: '__half', ptx: 'f16', abi: 'MLAGEN_FP16' },
  fp8_e4m3: { cType: '__nv_fp8_e4m3', ptx: 'e4m3', abi: 'MLAGEN_FP8_E4M3' },
  fp32: { cType: 'float', ptx: 'f32', abi: 'MLAGEN_FP32' },
};

export interface Range {
  min: number;
  max: number;
}

export interface MlaProblem {
  /** Width of K: latent + RoPE columns (576 for DeepSeek V3). */
  dQk: number;
  /** Width of V: the first dV columns of the same cached row (512). dQk - dV is the RoPE part. */
  dV: number;
  /** Query heads served, checked at launch against this range. */
  hQ: Range;
  /** KV heads: MLA caches one latent head. */
  hKv: number;
  /** New query tokens per request (MTP depth), checked at launch. */
  sQ: Range;
  /** Tokens per KV-cache page; 0: given at launch (any with kvLoader 'cp.async', a multiple of the KV step with TMA). */
  pageSize: number;
  qDtype: DType;
  /**
   * The cache's elements: qDtype, or fp8_e4m3 with one scale per call (mlagen_decode_params.kv_scale: K and V are
   * kv_scale x the cache), widened to qDtype in shared memory by the producer warpgroup (split-n with TMA only).
   */
  kvDtype: DType;
  outDtype: DType;
  // The causal mask and the softmax scale are chosen per call (mlagen_decode_params), as in FlashMLA's API:
  // every variant serves both, so they are not part of the problem a variant is generated for.
}

export const DEEPSEEK_MLA: MlaProblem = {
  dQk: 576,
  dV: 512,
  hQ: { min: 1, max: 128 },
  hKv: 1,
  // Up to 128 query tokens (16384 rows at h_q 128), checked on the H100 in both schedules (session 8).
  sQ: { min: 1, max: 128 },
  pageSize: 64,
  qDtype: 'bf16',
  kvDtype: 'bf16',
  outDtype: 'bf16',
};

const isPosInt = (v: number) => Number.isInteger(v) && v > 0;

export function validateProblem(p: MlaProblem, c: Checker): void {
  c.require(isPosInt(p.dQk) && p.dQk % 64 === 0, 'dQk', `${p.dQk} must be a positive multiple of 64`);
  c.require(isPosInt(p.dV) && p.dV % 64 === 0, 'dV', `${p.dV} must be a positive multiple of 64`);
  c.require(p.dV <= p.dQk, 'dV', `${p.dV} > dQk ${p.dQk}: V is a prefix of the cached K row`);
  c.require(p.hKv === 1, 'hKv', `${p.hKv} is not supported: MLA decode caches one latent head (hKv = 1)`);
  for (const [name, r] of [['hQ', p.hQ], ['sQ', p.sQ]] as const) {
    if (c.require(isPosInt(r.min) && isPosInt(r.max), name, `range ${r.min}..${r.max} must hold positive integers`))
      c.require(r.min <= r.max, name, `range ${r.min}..${r.max} is empty`);
  }
  c.require(Number.isInteger(p.pageSize) && p.pageSize >= 0, 'pageSize', `${p.pageSize} must be a positive integer, or 0: any page size, given at launch`);
  c.require(p.qDtype === 'bf16' || p.qDtype === 'fp16', 'qDtype', `${p.qDtype} is not supported: bf16 or fp16`);
  c.require(p.outDtype === p.qDtype, 'outDtype', `${p.outDtype} must equal qDtype ${p.qDtype}`);
  c.require(
    p.kvDtype === p.qDtype || p.kvDtype === 'fp8_e4m3',
    'kvDtype',
    `${p.kvDtype} must equal qDtype ${p.qDtype} or be fp8_e4m3`,
  );
}
