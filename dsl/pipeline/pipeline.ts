// A producer/consumer pipeline over shared-memory stages, in one vocabulary:
//
//   role      | call     | barrier          | meaning
//   ----------+----------+------------------+-------------------------------------------------
//   producer  | acquire  | wait empty[s]    | stage s is free (parity starts at 1: first pass is free)
//   producer  | commit   | expect_tx full[s]| arm full[s] with the bytes the TMA loads will deliver
//   consumer  | wait     | wait full[s]     | the bytes of stage s have landed
//   consumer  | release  | arrive empty[s]  | this consumer no longer reads stage s
//
// stage = iteration % stages; phase flips each time stage wraps to 0.
import type { Checker } from '../errors.ts';
import type { MBarrier } from '../sm90/mbarrier.ts';

export interface Pipeline {
  name: string;
  stages: number;
  /** Bytes one full stage carries (the most the producer can arm). */
  stageBytes: number;
  /**
   * A stage is released in parts (ranges of column blocks): each part has its own full barrier
   * (the TMA bytes of that part) and its own empty barrier (arrivals of the consumer that reads it
   * last), so the producer refills a part as soon as its last reader is done. One part: the whole stage.
   */
  parts: PipelinePart[];
}

export interface PipelinePart {
  name: string;
  /** Column blocks [firstBlock, endBlock) of the stage tile. */
  firstBlock: number;
  endBlock: number;
  /** Arrivals that release the part: one per warp of its last reader. */
  consumerArrivals: number;
  readers: string;
}

export function validatePipeline(p: Pipeline, c: Checker): void {
  c.require(Number.isInteger(p.stages) && p.stages >= 1 && p.stages <= 8, 'stages', `${p.stages} must be in 1..8`);
  // mbarrier tx-count is 20 bits: at most 2^20 - 1 bytes in flight per phase.
  c.require(p.stageBytes < 1 << 20, 'stageBytes', `${p.stageBytes} B > ${(1 << 20) - 1} B an mbarrier can count`);
  c.require(p.parts.length >= 1, 'parts', 'a stage needs at least one part');
  const arrivals = new Set(p.parts.map((x) => x.consumerArrivals));
  c.require(arrivals.size <= 1, 'parts', `all parts must take the same number of releasing arrivals, got ${[...arrivals].join(', ')}`);
}

/**
 * How the producer fills a stage: TMA boxes counted in bytes; cp.async copies, one arrival per copying thread; or
 * ('tma-widen', an FP8 cache) TMA boxes landing `landBytes` per stage on a landed barrier, widened in place by the
 * producer's warps, each of which then arrives on full.
 */
export type PipelineFill = { kind: 'tma' } | { kind: 'cp.async'; threads: number } | { kind: 'tma-widen'; warps: number; landBytes: number };

/**
 * full[part][stage] and empty[part][stage] as two arrays. With TMA, also a staging barrier the producer alone
 * uses for a step that ends mid-block: it lands that step there, zeroes the rows past seqlen, and only then
 * arrives on full (unused slots may hold NaN, and 0 x NaN = NaN in P.V). cp.async zero-fills those rows itself.
 */
export function pipelineBarriers(p: Pipeline, fill: PipelineFill = { kind: 'tma' }): MBarrier[] {
  const count = p.stages * p.parts.length;
  const names = p.parts.map((x) => x.name).join('/');
  const empty: MBarrier = { name: `${p.name}Empty`, count, arrivals: p.parts[0]?.consumerArrivals ?? 0, txBytes: 0, meaning: `[part ${names}][stage]: ${p.parts.map((x) => x.readers).join('; ')} released it` };
  if (fill.kind === 'tma-widen')
    return [
      { name: `${p.name}Full`, count, arrivals: fill.warps, txBytes: 0, meaning: `[part ${names}][stage]: every producer warp widened its share of the step` },
      empty,
      { name: `${p.name}Landed`, count: p.stages, arrivals: 1, txBytes: fill.landBytes, meaning: '[stage]: the fp8 bytes of the step landed (TMA tx bytes), for the producer to widen' },
    ];
  if (fill.kind === 'cp.async')
    return [
      { name: `${p.name}Full`, count, arrivals: fill.threads, txBytes: 0, meaning: `[part ${names}][stage]: every copying thread's cp.async of the part landed` },
      empty,
    ];
  return [
    { name: `${p.name}Full`, count, arrivals: 1, txBytes: p.stageBytes, meaning: `[part ${names}][stage]: the part landed (TMA tx bytes)` },
    empty,
    { name: `${p.name}Staging`, count: 1, arrivals: 1, txBytes: p.stageBytes, meaning: 'producer only: a step ending mid-block lands here first, then rows past seqlen are zeroed' },
  ];
}
