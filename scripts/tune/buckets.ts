// Shape buckets: the tuning table is keyed by GPU and by a coarse shape, so that a launch can look
// up a variant from (batch, s_q·h_q, context length) without having seen that exact shape.
// Each dimension is rounded to the nearest power of two in log space (4096 and 4100 share a bucket;
// the edges lie at 2^(k+1/2)), then clamped to a range.

export interface ShapeQuery {
  batch: number;
  sQ: number;
  hQ: number;
  /** Mean cached tokens per request (total_kv / batch). */
  contextLength: number;
  dtype?: 'bf16' | 'fp16';
}

export interface ShapeBucket {
  dtype: 'bf16' | 'fp16';
  /** Nearest power of two of the batch size, 1..4096. */
  batch: number;
  /** Nearest power of two of s_q·h_q (query rows per request), 1..4096. */
  rows: number;
  /** Nearest power of two of the mean context length, 64..1048576. */
  context: number;
}

export const BUCKET_RANGES = {
  batch: [1, 4096],
  rows: [1, 4096],
  context: [64, 1 << 20],
} as const;

/** 2^round(log2 v), clamped to [min, max] (both powers of two). */
export function log2Bucket(v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v <= min) return min;
  const p = 2 ** Math.round(Math.log2(v));
  return Math.min(max, Math.max(min, p));
}

export function shapeBucket(s: ShapeQuery): ShapeBucket {
  return {
    dtype: s.dtype ?? 'bf16',
    batch: log2Bucket(s.batch, ...BUCKET_RANGES.batch),
    rows: log2Bucket(s.sQ * s.hQ, ...BUCKET_RANGES.rows),
    context: log2Bucket(s.contextLength, ...BUCKET_RANGES.context),
  };
}

/** `bf16_b128_r32_kv8192`: the key of a bucket in tuning tables and dispatchers. */
export function bucketKey(b: ShapeBucket): string {
  return `${b.dtype}_b${b.batch}_r${b.rows}_kv${b.context}`;
}

export function parseBucketKey(key: string): ShapeBucket | undefined {
  const m = /^(bf16|fp16)_b(\d+)_r(\d+)_kv(\d+)$/.exec(key);
  if (!m) return undefined;
  return { dtype: m[1] as 'bf16' | 'fp16', batch: Number(m[2]), rows: Number(m[3]), context: Number(m[4]) };
}

/** Distance between buckets in powers of two, summed over the dimensions (another dtype: infinite). */
export function bucketDistance(a: ShapeBucket, b: ShapeBucket): number {
  if (a.dtype !== b.dtype) return Infinity;
  const d = (x: number, y: number) => Math.abs(Math.log2(x) - Math.log2(y));
  return d(a.batch, b.batch) + d(a.rows, b.rows) + d(a.context, b.context);
}

/** `nvidia-h100-80gb-hbm3` from "NVIDIA H100 80GB HBM3": the tuning file's name. */
export function gpuSlug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'unknown-gpu';
}
