// TMA (cp.async.bulk.tensor) boxes. Tensor maps are encoded at launch (the global address and
// strides are only known then); their box shape, swizzle and element type are fixed here.
import type { Checker } from '../errors.ts';
import type { DType } from '../problem.ts';
import { DTYPE_BYTES } from '../problem.ts';
import type { SmemTile } from '../layout/smemTile.ts';
import { SWIZZLE_BYTES, SWIZZLE_TMA_ENUM } from '../layout/swizzle.ts';
import { SM90 } from './device.ts';

export interface TmaBox {
  name: string;
  dtype: DType;
  /** Innermost first, in elements: [cols, rows, 1 ...]. */
  box: number[];
  swizzle: SmemTile['swizzle'];
  swizzleEnum: string;
  bytes: number;
  /**
   * L2 policy of the loads. 'auto': evict_last when several m-block CTAs of an SM part re-read each tile,
   * evict_normal when one CTA reads it (decided at launch from the grid).
   */
  l2Hint: 'auto' | 'evict_first' | 'evict_last' | 'evict_normal';
}

/** A box of `cols` x `rows` elements of one page (the third dimension), landing with `swizzle`. */
export function tmaBox(name: string, dtype: DType, cols: number, rows: number, swizzle: SmemTile['swizzle'], l2Hint: TmaBox['l2Hint']): TmaBox {
  return { name, dtype, box: [cols, rows, 1], swizzle, swizzleEnum: SWIZZLE_TMA_ENUM[swizzle], bytes: cols * rows * DTYPE_BYTES[dtype], l2Hint };
}

/** The box that lands `rows` rows of one column block of `tile`, in the tile's own layout. */
export function tmaBoxForTile(name: string, tile: SmemTile, rows: number, l2Hint: TmaBox['l2Hint']): TmaBox {
  return tmaBox(name, tile.dtype, tile.blockCols, rows, tile.swizzle, l2Hint);
}

export function validateTmaBox(b: TmaBox, c: Checker): void {
  b.box.forEach((d, i) =>
    c.require(Number.isInteger(d) && d >= 1 && d <= SM90.tmaMaxBoxDim, `box[${i}]`, `${d} must be in 1..${SM90.tmaMaxBoxDim}`),
  );
  const innerBytes = (b.box[0] ?? 0) * DTYPE_BYTES[b.dtype];
  c.require(innerBytes % 16 === 0, 'box[0]', `${innerBytes} B inner extent must be a multiple of 16 B`);
  if (b.swizzle !== 'none')
    c.require(
      innerBytes <= SWIZZLE_BYTES[b.swizzle],
      'box[0]',
      `${innerBytes} B inner extent > ${SWIZZLE_BYTES[b.swizzle]} B span of the ${b.swizzle} swizzle`,
    );
}
