import { describe, expect, it } from 'vitest';
import { Checker } from '../../dsl/errors.ts';
import { smemTile } from '../../dsl/layout/smemTile.ts';
import type { WgmmaShape } from '../../dsl/sm90/wgmma.ts';
import { descriptorFor, encodeDescriptor, kStepOffsets, validateWgmma, wgmmaWrapper } from '../../dsl/sm90/wgmma.ts';

const shape = (over: Partial<WgmmaShape>): WgmmaShape => ({
  name: 'qk', m: 64, n: 64, k: 16, dtype: 'bf16', aSource: 'smem', aMajor: 'K', bMajor: 'K', ...over,
});

const errorsOf = (s: WgmmaShape) => {
  const c = new Checker(['mlaDecode', 'wgmma', s.name]);
  validateWgmma(s, c);
  return c.errors.map((e) => e.message);
};

describe('wgmma shapes', () => {
  it('accepts the shapes the kernel uses', () => {
    expect(errorsOf(shape({ n: 32 }))).toEqual([]);
    expect(errorsOf(shape({ name: 'pv', n: 256, bMajor: 'MN' }))).toEqual([]);
  });

  it('rejects N in hardware terms, naming the DSL path', () => {
    expect(errorsOf(shape({ n: 100 }))).toMatchInlineSnapshot(`
      [
        "mlaDecode > wgmma > qk > n: expects 8 <= N <= 256 and N % 8 == 0, got 100",
      ]
    `);
    expect(errorsOf(shape({ n: 264 }))[0]).toContain('got 264');
    expect(errorsOf(shape({ n: 0 }))[0]).toContain('got 0');
  });

  it('rejects k and majorness the instruction does not have', () => {
    expect(errorsOf(shape({ k: 32 }))).toEqual(['mlaDecode > wgmma > qk > k: 32 must be 16 for bf16 operands']);
    expect(errorsOf(shape({ dtype: 'fp8_e4m3', k: 32, bMajor: 'MN' }))).toEqual([
      'mlaDecode > wgmma > qk > bMajor: MN-major B needs a 16-bit type, got fp8_e4m3',
    ]);
  });
});

describe('shared-memory descriptors', () => {
  const kv = smemTile('kv', 'bf16', 64, 576);

  it('encodes K-major 128B: LBO 16 B, SBO 1024 B, swizzle code 1', () => {
    const d = encodeDescriptor(descriptorFor(kv, 'K'));
    expect(d).toBe((1n << 16n) | (64n << 32n) | (1n << 62n));
    expect(d.toString(16)).toBe('4000004000010000');
  });

  it('encodes MN-major 128B: LBO = one column block (8 KB), SBO = 8 rows', () => {
    const d = encodeDescriptor(descriptorFor(kv, 'MN'));
    expect((d >> 16n) & 0x3fffn).toBe(8192n >> 4n);
    expect((d >> 32n) & 0x3fffn).toBe(1024n >> 4n);
    expect(d >> 62n).toBe(1n);
  });

  it('puts the start address in bits 0..13 as address >> 4', () => {
    const d = encodeDescriptor(descriptorFor(kv, 'K'), 0x12340);
    expect(d & 0x3fffn).toBe(0x1234n);
  });

  it('walks K in 32-byte steps inside a span, then jumps a column block', () => {
    const offs = kStepOffsets(kv, 'K', 576, 16);
    expect(offs).toHaveLength(36);
    expect(offs.slice(0, 6)).toEqual([0, 32, 64, 96, 8192, 8224]);
    expect(offs[35]).toBe(8 * 8192 + 96);
  });

  it('walks MN-major K in 16-row steps', () => {
    expect(kStepOffsets(kv, 'MN', 64, 16)).toEqual([0, 2048, 4096, 6144]);
  });
});

describe('wgmma wrapper text', () => {
  it('numbers accumulators, descriptors and the scale predicate consecutively', () => {
    const w = wgmmaWrapper(shape({ n: 8 }));
    expect(w.fn).toBe('wgmma_qk_m64n8k16_ss');
    expect(w.accList).toBe('{%0, %1, %2, %3}');
    expect([w.aOperand, w.bOperand, w.scaleOperand]).toEqual(['%4', '%5', '%6']);
    const rs = wgmmaWrapper(shape({ n: 8, aSource: 'regs' }));
    expect(rs.aOperand).toBe('{%4, %5, %6, %7}');
    expect([rs.bOperand, rs.scaleOperand]).toEqual(['%8', '%9']);
  });
});
