// Warpgroup MMA (wgmma.mma_async, sm_90a): shapes, operand sources, and shared-memory descriptors.
// Checked in hardware terms when built; the descriptor bits are computed here, not in CUDA.
import type { Checker } from '../errors.ts';
import type { DType } from '../problem.ts';
import { DTYPE_BYTES, DTYPE_CUDA } from '../problem.ts';
import type { SmemTile } from '../layout/smemTile.ts';
import { SWIZZLE_BYTES, SWIZZLE_DESC_CODE } from '../layout/swizzle.ts';

export type Major = 'K' | 'MN';

export interface WgmmaShape {
  /** Name used for the generated wrapper, e.g. qk or pv. */
  name: string;
  m: 64;
  n: number;
  k: number;
  dtype: DType;
  /** A from shared memory (SS) or registers (RS). */
  aSource: 'smem' | 'regs';
  aMajor: Major;
  bMajor: Major;
}

/** fp32 accumulator registers per thread: m64 x n spread over 128 threads. */
export const accumulatorRegs = (s: WgmmaShape) => (s.m * s.n) / 128;

/** k per instruction: 32 bytes of the operand type. */
export const wgmmaK = (dtype: DType) => 32 / DTYPE_BYTES[dtype];

export function validateWgmma(s: WgmmaShape, c: Checker): void {
  c.require(
    Number.isInteger(s.n) && s.n >= 8 && s.n <= 256 && s.n % 8 === 0,
    'n',
    `expects 8 <= N <= 256 and N % 8 == 0, got ${s.n}`,
  );
  c.require(s.k === wgmmaK(s.dtype), 'k', `${s.k} must be ${wgmmaK(s.dtype)} for ${s.dtype} operands`);
  const sixteenBit = DTYPE_BYTES[s.dtype] === 2;
  if (!sixteenBit) {
    c.require(s.aMajor === 'K', 'aMajor', `MN-major A needs a 16-bit type, got ${s.dtype}`);
    c.require(s.bMajor === 'K', 'bMajor', `MN-major B needs a 16-bit type, got ${s.dtype}`);
  }
  if (s.aSource === 'regs') c.require(s.aMajor === 'K', 'aMajor', 'A from registers is always K-major');
}

/** PTX mnemonic, e.g. wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 */
export function wgmmaMnemonic(s: WgmmaShape): string {
  const t = DTYPE_CUDA[s.dtype].ptx;
  return `wgmma.mma_async.sync.aligned.m${s.m}n${s.n}k${s.k}.f32.${t}.${t}`;
}

/**
 * The constant part of a shared-memory matrix descriptor (bits 14..63): leading and stride byte
 * offsets and the swizzle mode. The start address (bits 0..13, address >> 4) is added on the device.
 */
export interface DescriptorFields {
  leadingByteOffset: number;
  strideByteOffset: number;
  swizzle: SmemTile['swizzle'];
}

export function encodeDescriptor(f: DescriptorFields, startAddress = 0): bigint {
  const enc = (v: number) => BigInt((v >> 4) & 0x3fff);
  return (
    enc(startAddress) |
    (enc(f.leadingByteOffset) << 16n) |
    (enc(f.strideByteOffset) << 32n) |
    (BigInt(SWIZZLE_DESC_CODE[f.swizzle]) << 62n)
  );
}

/**
 * Descriptor fields for an operand stored as an SmemTile.
 * K-major (rows = M or N, K contiguous): 8-row core groups are one span x 8 rows apart (SBO);
 *   LBO is unused with a swizzle and set to 1 (16 B) as the PTX ISA recommends.
 * MN-major (rows = K, M/N contiguous): LBO = distance between column blocks along M/N,
 *   SBO = distance between 8-row groups along K.
 */
export function descriptorFor(tile: SmemTile, major: Major): DescriptorFields {
  const span = SWIZZLE_BYTES[tile.swizzle];
  if (major === 'K') return { leadingByteOffset: 16, strideByteOffset: 8 * span, swizzle: tile.swizzle };
  return { leadingByteOffset: tile.blockBytes, strideByteOffset: 8 * span, swizzle: tile.swizzle };
}

/**
 * Byte offsets of the operand for each k-step of a GEMM over `kTotal`, K-major: k advances inside a
 * span (32 B per step) and then jumps one column block. MN-major: k advances 16 rows (2 core groups).
 */
export function kStepOffsets(tile: SmemTile, major: Major, kTotal: number, kStep: number): number[] {
  const elem = DTYPE_BYTES[tile.dtype];
  const span = SWIZZLE_BYTES[tile.swizzle];
  const out: number[] = [];
  for (let k0 = 0; k0 < kTotal; k0 += kStep) {
    if (major === 'K') {
      const block = Math.floor(k0 / tile.blockCols);
      out.push(block * tile.blockBytes + (k0 % tile.blockCols) * elem);
    } else {
      out.push(k0 * span);
    }
  }
  return out;
}

/** What the wgmma partial prints: register operand lists computed here so the template only prints. */
export interface WgmmaWrapper {
  fn: string;
  mnemonic: string;
  accRegs: number;
  /** "{%0, %1, ...}" */
  accList: string;
  /** '"+f"(d[0]), "+f"(d[1]), ...' */
  accConstraints: string;
  aOperand: string;
  bOperand: string;
  scaleOperand: string;
  /** "%4, %5, %6, %7" for RS: the A fragment registers. */
  aRegs: string;
  aConstraints: string;
  transA: number;
  transB: number;
  rs: boolean;
}

export function wgmmaWrapper(s: WgmmaShape): WgmmaWrapper {
  const acc = accumulatorRegs(s);
  const idx = Array.from({ length: acc }, (_, i) => i);
  const rs = s.aSource === 'regs';
  let next = acc;
  const aRegs = rs ? [0, 1, 2, 3].map(() => `%${next++}`).join(', ') : '';
  const aOperand = rs ? `{${aRegs}}` : `%${next++}`;
  const bOperand = `%${next++}`;
  const scaleOperand = `%${next++}`;
  return {
    fn: `wgmma_${s.name}_m${s.m}n${s.n}k${s.k}_${rs ? 'rs' : 'ss'}`,
    mnemonic: wgmmaMnemonic(s),
    accRegs: acc,
    accList: `{${idx.map((i) => `%${i}`).join(', ')}}`,
    accConstraints: idx.map((i) => `"+f"(d[${i}])`).join(', '),
    aOperand,
    bOperand,
    scaleOperand,
    aRegs,
    aConstraints: rs ? [0, 1, 2, 3].map((i) => `"r"(a[${i}])`).join(', ') : '',
    transA: s.aMajor === 'MN' ? 1 : 0,
    transB: s.bMajor === 'MN' ? 1 : 0,
    rs,
  };
}
