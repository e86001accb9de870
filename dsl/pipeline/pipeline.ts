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
  /** Arrivals that release a stage: one per consumer warp. */
  consumerArrivals: number;
}

export function validatePipeline(p: Pipeline, c: Checker): void {
  c.require(Number.isInteger(p.stages) && p.stages >= 1 && p.stages <= 8, 'stages', `${p.stages} must be in 1..8`);
  // mbarrier tx-count is 20 bits: at most 2^20 - 1 bytes in flight per phase.
  c.require(p.stageBytes < 1 << 20, 'stageBytes', `${p.stageBytes} B > ${(1 << 20) - 1} B an mbarrier can count`);
}

export function pipelineBarriers(p: Pipeline): MBarrier[] {
  return [
    { name: `${p.name}Full`, count: p.stages, arrivals: 1, txBytes: p.stageBytes, meaning: 'stage data landed (TMA tx bytes)' },
    { name: `${p.name}Empty`, count: p.stages, arrivals: p.consumerArrivals, txBytes: 0, meaning: 'consumers released the stage' },
  ];
}

/**
 * Barriers of a pipeline whose stages are released in parts: each part (a range of column blocks)
 * has its own full barrier (TMA tx bytes of that part) and its own empty barrier (arrivals of the
 * consumer that reads it last), so the producer refills a part as soon as its last reader is done.
 */
export interface PipelinePart {
  name: string;
  txBytes: number;
  consumerArrivals: number;
  readers: string;
}

export function partedPipelineBarriers(p: Pipeline, parts: readonly PipelinePart[]): MBarrier[] {
  return parts.flatMap((part) => [
    { name: `${p.name}Full${part.name}`, count: p.stages, arrivals: 1, txBytes: part.txBytes, meaning: `part ${part.name} of the stage landed (TMA tx bytes)` },
    { name: `${p.name}Empty${part.name}`, count: p.stages, arrivals: part.consumerArrivals, txBytes: 0, meaning: `${part.readers} released part ${part.name}` },
  ]);
}
