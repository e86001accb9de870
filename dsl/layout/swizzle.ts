// Shared-memory swizzles of Hopper's TMA and wgmma: XOR of the 16-byte chunk index within a
// row segment by the row index (CuTe's Swizzle<B,4,3>). Derived from dtype and row width, never chosen by hand.
import type { DType } from '../problem.ts';
import { DTYPE_BYTES } from '../problem.ts';

export type SwizzleMode = 'none' | '32B' | '64B' | '128B';

/** Bytes of one swizzle span (the row segment whose 16-byte chunks are permuted). */
export const SWIZZLE_BYTES: Record<SwizzleMode, number> = { none: 16, '32B': 32, '64B': 64, '128B': 128 };

/** log2 of the number of 16-byte chunks permuted (CuTe's B in Swizzle<B,4,3>). */
export const SWIZZLE_BITS: Record<SwizzleMode, number> = { none: 0, '32B': 1, '64B': 2, '128B': 3 };

/** Encoding of the mode in a wgmma shared-memory descriptor (bits 62..63). */
export const SWIZZLE_DESC_CODE: Record<SwizzleMode, number> = { none: 0, '128B': 1, '64B': 2, '32B': 3 };

/** Encoding of the mode in CUtensorMap (CU_TENSOR_MAP_SWIZZLE_*). */
export const SWIZZLE_TMA_ENUM: Record<SwizzleMode, string> = {
  none: 'CU_TENSOR_MAP_SWIZZLE_NONE',
  '32B': 'CU_TENSOR_MAP_SWIZZLE_32B',
  '64B': 'CU_TENSOR_MAP_SWIZZLE_64B',
  '128B': 'CU_TENSOR_MAP_SWIZZLE_128B',
};

/**
 * The widest swizzle whose span divides the row: the 128/64/32-byte ladder.
 * A tile stored as column blocks of one span each gets conflict-free 16-byte accesses.
 */
export function deriveSwizzle(dtype: DType, rowElems: number): SwizzleMode {
  const rowBytes = rowElems * DTYPE_BYTES[dtype];
  for (const mode of ['128B', '64B', '32B'] as const) if (rowBytes % SWIZZLE_BYTES[mode] === 0) return mode;
  return 'none';
}

/**
 * Swizzled byte offset for a byte offset within a tile whose base is aligned to 8 spans:
 * bits [4, 4+B) ^= bits [7, 7+B).
 */
export function swizzleOffset(mode: SwizzleMode, byteOffset: number): number {
  const b = SWIZZLE_BITS[mode];
  if (b === 0) return byteOffset;
  const mask = ((1 << b) - 1) << 7;
  return byteOffset ^ ((byteOffset & mask) >> 3);
}

/** The alignment a swizzled tile's base needs: the pattern repeats every 8 rows of one span. */
export function swizzleAlignment(mode: SwizzleMode): number {
  return mode === 'none' ? 16 : SWIZZLE_BYTES[mode] * 8;
}
