// A shared-memory tile: rows x cols of one dtype, stored as column blocks one swizzle span wide.
// Each column block is `rows` rows of `spanBytes` contiguous bytes: exactly what one TMA box with
// that swizzle writes, and what a wgmma descriptor walks (K-major: 8-row groups 1 span apart).
import type { DType } from '../problem.ts';
import { DTYPE_BYTES } from '../problem.ts';
import type { Checker } from '../errors.ts';
import type { SwizzleMode } from './swizzle.ts';
import { deriveSwizzle, SWIZZLE_BYTES, swizzleAlignment, swizzleOffset } from './swizzle.ts';

export interface SmemTile {
  name: string;
  dtype: DType;
  rows: number;
  cols: number;
  swizzle: SwizzleMode;
  /** Columns in one column block (one swizzle span). */
  blockCols: number;
  /** Bytes of one column block: rows x span. */
  blockBytes: number;
  bytes: number;
  alignment: number;
}

export function smemTile(name: string, dtype: DType, rows: number, cols: number): SmemTile {
  const swizzle = deriveSwizzle(dtype, cols);
  const spanBytes = SWIZZLE_BYTES[swizzle];
  const blockCols = spanBytes / DTYPE_BYTES[dtype];
  const blockBytes = rows * spanBytes;
  return {
    name,
    dtype,
    rows,
    cols,
    swizzle,
    blockCols,
    blockBytes,
    bytes: rows * cols * DTYPE_BYTES[dtype],
    alignment: swizzleAlignment(swizzle),
  };
}

export function validateTile(t: SmemTile, c: Checker): void {
  const rowBytes = t.cols * DTYPE_BYTES[t.dtype];
  c.require(Number.isInteger(t.rows) && t.rows > 0, 'rows', `${t.rows} must be a positive integer`);
  c.require(rowBytes % 16 === 0, 'cols', `${t.cols} x ${DTYPE_BYTES[t.dtype]} B = ${rowBytes} B is not a multiple of 16 B`);
  if (t.swizzle !== 'none')
    c.require(t.rows % 8 === 0, 'rows', `${t.rows} must be a multiple of 8 for a ${t.swizzle} swizzle (the pattern spans 8 rows)`);
}

/** Byte offset of element (row, col) inside the tile, swizzle applied. */
export function tileElementOffset(t: SmemTile, row: number, col: number): number {
  const elemBytes = DTYPE_BYTES[t.dtype];
  const block = Math.floor(col / t.blockCols);
  const inBlock = (col % t.blockCols) * elemBytes;
  const spanBytes = t.blockBytes / t.rows;
  return block * t.blockBytes + swizzleOffset(t.swizzle, row * spanBytes + inBlock);
}

/** How `threads` threads copy a tile's rows in 16-byte chunks (cp.async): the same threads on every row, the same chunks per thread. */
export interface RowCopyShare {
  threadsPerRow: number;
  rowChunks: number;
  chunksPerThread: number;
}

/**
 * The share of each row and thread when `threads` threads (`who`) copy tile `t`, rows of `rowName`; an uneven share
 * is an error on `field` (with `why` appended).
 */
export function rowCopyShare(t: SmemTile, threads: number, who: string, rowName: string, c: Checker, field: string, why = ''): RowCopyShare {
  const threadsPerRow = threads / t.rows;
  const rowChunks = (t.cols * DTYPE_BYTES[t.dtype]) / 16;
  const chunksPerThread = rowChunks / threadsPerRow;
  c.require(
    Number.isInteger(threadsPerRow) && Number.isInteger(chunksPerThread),
    field,
    `${t.rows} rows do not share the ${threads} ${who} threads evenly, with ${rowChunks} 16-byte chunks per ${rowName} row${why}`,
  );
  return { threadsPerRow, rowChunks, chunksPerThread };
}
