import { describe, expect, it } from 'vitest';

import { matrixCases } from '../../scripts/harness/cases.ts';
import { bucketDistance, bucketKey, gpuSlug, log2Bucket, parseBucketKey, shapeBucket } from '../../scripts/tune/buckets.ts';

describe('shape buckets', () => {
  it('rounds to the nearest power of two in log space and clamps', () => {
    expect(log2Bucket(4096, 64, 1 << 20)).toBe(4096);
    expect(log2Bucket(4100, 64, 1 << 20)).toBe(4096); // a varlen mean just above sk stays in sk's bucket
    expect(log2Bucket(5792, 64, 1 << 20)).toBe(4096); // edges at 2^(k+1/2) = 5792.6
    expect(log2Bucket(5793, 64, 1 << 20)).toBe(8192);
    expect(log2Bucket(3000, 64, 1 << 20)).toBe(4096);
    expect(log2Bucket(0, 64, 1 << 20)).toBe(64);
    expect(log2Bucket(NaN, 1, 4096)).toBe(1);
    expect(log2Bucket(1e9, 1, 4096)).toBe(4096);
    expect(log2Bucket(20, 1, 4096)).toBe(16);
  });

  it('keys batch, s_q*h_q and context length (and the dtype)', () => {
    const b = shapeBucket({ batch: 128, sQ: 2, hQ: 16, contextLength: 8192 });
    expect(b).toEqual({ dtype: 'bf16', batch: 128, rows: 32, context: 8192 });
    expect(bucketKey(b)).toBe('bf16_b128_r32_kv8192');
    expect(parseBucketKey('bf16_b128_r32_kv8192')).toEqual(b);
    expect(parseBucketKey('b128')).toBeUndefined();
    // s_q=1,h_q=32 and s_q=2,h_q=16 serve the same rows per request: one bucket.
    expect(bucketKey(shapeBucket({ batch: 128, sQ: 1, hQ: 32, contextLength: 8192 }))).toBe('bf16_b128_r32_kv8192');
    expect(bucketKey(shapeBucket({ batch: 128, sQ: 1, hQ: 32, contextLength: 8192, dtype: 'fp16' }))).toBe('fp16_b128_r32_kv8192');
  });

  it('gives the 48 matrix cases 15 buckets (5 row counts x 3 context lengths)', () => {
    const keys = new Set(matrixCases().map((c) => bucketKey(shapeBucket({ batch: c.b, sQ: c.sQ, hQ: c.hQ, contextLength: c.sk }))));
    expect(keys.size).toBe(15);
  });

  it('measures distance in powers of two; another dtype is never near', () => {
    const a = shapeBucket({ batch: 128, sQ: 1, hQ: 16, contextLength: 4096 });
    expect(bucketDistance(a, shapeBucket({ batch: 64, sQ: 1, hQ: 64, contextLength: 8192 }))).toBe(1 + 2 + 1);
    expect(bucketDistance(a, { ...a, dtype: 'fp16' })).toBe(Infinity);
  });

  it('slugs GPU names for file names', () => {
    expect(gpuSlug('NVIDIA H100 80GB HBM3')).toBe('nvidia-h100-80gb-hbm3');
    expect(gpuSlug('  NVIDIA H200 / NVL ')).toBe('nvidia-h200-nvl');
    expect(gpuSlug('???')).toBe('unknown-gpu');
  });
});
