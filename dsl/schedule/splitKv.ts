// The split-KV schedule of MLA decode (FlashMLA semantics, get_mla_metadata of FlashMLA 261330b).
//
// Work is measured in "units": one unit per KV block of `blockN` tokens, plus `fixedOverheadBlocks`
// units for every piece (the cost of loading Q, the epilogue and, for split requests, the combine).
// Every SM part receives at most `payload` units. Requests are walked in order; a request that does
// not fit in what is left of a part is cut at a block boundary, and the rest goes to the next part.
// One departure from FlashMLA, in the payload: when the longest request is over FlashMLA's payload by at
// most one overhead, the payload grows to hold it whole (see splitKvPayload).
//
// This is the reference: templates/include/mlagen/sched_metadata.cuh computes the same arrays on
// the device, bit for bit, and the GPU tests compare the two.
import type { Checker } from '../errors.ts';

/** DSL value: how the KV axis is cut into pieces. */
export interface SplitKvSchedule {
  /** Tokens per KV block, the unit of work and the granularity of cuts. */
  readonly blockN: number;
  /** Extra cost, in blocks, that every piece pays on top of its KV blocks. */
  readonly fixedOverheadBlocks: number;
  /** Query rows (s_q * h_q / h_kv) one CTA handles; decides how many CTAs share an SM part. */
  readonly blockM: number;
}

export const DEFAULT_SPLIT_KV_SCHEDULE: SplitKvSchedule = { blockN: 64, fixedOverheadBlocks: 5, blockM: 64 };

/** Slots of one metadata row (mirror of the MLAGEN_SCHED_* enum in abi.h). */
export const SCHED_SLOT = { beginIdx: 0, beginSeqlen: 1, endIdx: 2, endSeqlen: 3, beginSplit: 4 } as const;
export const SCHED_METADATA_SIZE = 8;

const INT32_MAX = 2 ** 31 - 1;
const isInt = (v: number) => Number.isInteger(v);

/** Limits chosen so every quantity of the device walk fits its integer type. */
export const SPLIT_KV_LIMITS = {
  blockN: { min: 16, max: 256, multipleOf: 16 },
  blockM: { min: 8, max: 256, multipleOf: 8 },
  fixedOverheadBlocks: { min: 0, max: 1024 },
} as const;

export function validateSplitKvSchedule(s: SplitKvSchedule, checker: Checker): void {
  const { blockN, blockM, fixedOverheadBlocks } = SPLIT_KV_LIMITS;
  const stepped = (field: 'blockN' | 'blockM', v: number, lim: { min: number; max: number; multipleOf: number }) =>
    checker.require(
      isInt(v) && v >= lim.min && v <= lim.max && v % lim.multipleOf === 0,
      field,
      `${v} must be a multiple of ${lim.multipleOf} in ${lim.min}..${lim.max}`,
    );
  // blockN cuts the cache into tiles TMA and wgmma load whole (16-row granularity).
  stepped('blockN', s.blockN, blockN);
  // blockM is a whole number of 8-row groups: wgmma M (64) for split-n and the seesaw, wgmma N for 'transposed'.
  stepped('blockM', s.blockM, blockM);
  checker.require(
    isInt(s.fixedOverheadBlocks) &&
      s.fixedOverheadBlocks >= fixedOverheadBlocks.min &&
      s.fixedOverheadBlocks <= fixedOverheadBlocks.max,
    'fixedOverheadBlocks',
    `${s.fixedOverheadBlocks} must be an integer in ${fixedOverheadBlocks.min}..${fixedOverheadBlocks.max}`,
  );
}

/** Exact ceil(a / b) for non-negative safe integers (float division alone may round up to an integer). */
function ceilDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  while (q * b < a) q++;
  while (q > 0 && (q - 1) * b >= a) q--;
  return q;
}

function requirePosInt(name: string, v: number): void {
  if (!isInt(v) || v < 1 || v > INT32_MAX) throw new Error(`${name}: ${v} must be a positive 32-bit integer`);
}

/**
 * Whether a kernel of `blockM` rows per CTA can run on metadata planned with `plannerBlockM` for every row count up to
 * `rowsMax`: with equal rows per CTA always, else only where one CTA of each holds all the rows (both then plan the
 * same SM parts). The dispatcher and the torch package route a transposed variant (fewer rows) by it.
 */
export function plansAlike(blockM: number, plannerBlockM: number, rowsMax: number): boolean {
  return blockM === plannerBlockM || rowsMax <= Math.min(blockM, plannerBlockM);
}

/**
 * How many SM parts (rows of the metadata) the split kernel uses: the SMs left for each KV head,
 * divided by the CTAs one head's query rows need. At least 1.
 */
export function numSmParts(numSms: number, sQ: number, hQ: number, hKv: number, blockM: number): number {
  for (const [name, v] of [['numSms', numSms], ['sQ', sQ], ['hQ', hQ], ['hKv', hKv], ['blockM', blockM]] as const)
    requirePosInt(name, v);
  const rowsPerKvHead = Math.floor((sQ * hQ) / hKv);
  const ctasPerKvHead = Math.max(1, ceilDiv(rowsPerKvHead, blockM));
  return Math.max(1, Math.floor(Math.floor(numSms / hKv) / ctasPerKvHead));
}

/** Units of work a request costs when it is not split. */
const requestUnits = (seqlen: number, s: SplitKvSchedule) => ceilDiv(seqlen, s.blockN) + s.fixedOverheadBlocks;

/**
 * The most units any SM part receives: the even share plus one piece's overhead, at least two overheads.
 * The extra overhead pays for cuts (the piece after a cut pays the overhead again, or a part leaves up
 * to one overhead unused). Without it the walk can run out of parts: one 20-block request over 2 parts
 * with overhead 5 would get payload 13, two pieces of 8 blocks, and 4 blocks nobody computes.
 *
 * Unlike FlashMLA, a longest request that exceeds that by at most one more overhead sets the payload: cut,
 * it would leave a last piece of at most one overhead's blocks, paid for with another overhead, partials and
 * the combine. So 128 requests of 16384 tokens on 132 SM parts (261 units each, FlashMLA's payload 259) run
 * one per part instead of every one cut in two (-2 to -5 % measured, docs/perf/kernel-versions.md session 7).
 * Batches with a request longer than that (varlen) keep FlashMLA's payload.
 */
export function splitKvPayload(seqlens: ArrayLike<number>, schedule: SplitKvSchedule, parts: number): number {
  let total = 0;
  let longest = 0;
  for (let b = 0; b < seqlens.length; b++) {
    const units = requestUnits(seqlens[b]!, schedule);
    total += units;
    longest = Math.max(longest, units);
  }
  return payloadFromUnits(total, longest, schedule.fixedOverheadBlocks, parts);
}

/** splitKvPayload from the batch's total and longest units (the device metadata kernel computes the same). */
export function payloadFromUnits(totalUnits: number, longestUnits: number, overhead: number, parts: number): number {
  const even = ceilDiv(totalUnits, parts);
  const flashMla = Math.max(even + overhead, 2 * overhead);
  return longestUnits > flashMla && longestUnits <= even + 2 * overhead ? longestUnits : flashMla;
}

export interface SplitKvPlan {
  /** [numSmParts][8] rows: begin_idx, begin_seqlen, end_idx (inclusive), end_seqlen, begin_split_idx, 0, 0, 0. */
  readonly metadata: Int32Array;
  /** [batch + 1]: exclusive prefix sum of the number of pieces of each request. */
  readonly numSplits: Int32Array;
}

function checkSeqlens(seqlens: ArrayLike<number>): void {
  if (seqlens.length === 0) throw new Error('planSplitKv: the batch is empty (need at least one request)');
  for (let b = 0; b < seqlens.length; b++) {
    const v = seqlens[b]!;
    if (!isInt(v) || v < 0 || v > INT32_MAX)
      throw new Error(`planSplitKv: seqlens[${b}] = ${v} must be an integer in 0..${INT32_MAX}`);
  }
}

export function planSplitKv(
  seqlens: ArrayLike<number>,
  opts: { schedule: SplitKvSchedule; numSmParts: number },
): SplitKvPlan {
  const { schedule, numSmParts: parts } = opts;
  const { blockN, fixedOverheadBlocks: overhead } = schedule;
  checkSeqlens(seqlens);
  requirePosInt('planSplitKv: numSmParts', parts);
  if (!isInt(blockN) || blockN < 1 || !isInt(overhead) || overhead < 0)
    throw new Error(`planSplitKv: schedule ${JSON.stringify(schedule)} is invalid (see validateSplitKvSchedule)`);

  const batch = seqlens.length;
  const blocksOf = (b: number) => ceilDiv(seqlens[b]!, blockN);
  const payload = splitKvPayload(seqlens, schedule, parts);
  const metadata = new Int32Array(parts * SCHED_METADATA_SIZE);
  const numSplits = new Int32Array(batch + 1);

  // Walk state: the next request, the block it resumes at, and the index of its next piece.
  let idx = 0;
  let block = 0;
  let splitIdx = 0;
  let cumSplits = 0;
  for (let part = 0; part < parts; part++) {
    const row = part * SCHED_METADATA_SIZE;
    metadata[row + SCHED_SLOT.beginIdx] = idx;
    metadata[row + SCHED_SLOT.beginSeqlen] = block * blockN;
    metadata[row + SCHED_SLOT.beginSplit] = splitIdx;
    let remain = payload;
    while (idx < batch) {
      const cost = blocksOf(idx) - block + overhead;
      if (remain >= cost) {
        cumSplits += splitIdx + 1;
        numSplits[idx + 1] = cumSplits;
        remain -= cost;
        idx++;
        block = 0;
        splitIdx = 0;
        continue;
      }
      // Cut only when the piece would hold at least one block beyond its overhead.
      if (remain - overhead > 0) {
        block += remain - overhead;
        splitIdx++;
      }
      break;
    }
    const endsInside = block > 0;
    metadata[row + SCHED_SLOT.endIdx] = endsInside ? idx : idx - 1;
    metadata[row + SCHED_SLOT.endSeqlen] = endsInside ? block * blockN : seqlens[idx - 1]!;
  }
  // The payload leaves room for every cut's extra overhead, so the walk always finishes.
  if (idx !== batch || block !== 0 || splitIdx !== 0)
    throw new Error(`planSplitKv: internal error, ${batch - idx} requests left after ${parts} SM parts`);
  return { metadata, numSplits };
}

/** One contiguous range of one request's tokens, processed by one SM part. */
export interface SplitPiece {
  readonly smPart: number;
  readonly batchIdx: number;
  /** Index among the request's pieces; its partial lives at numSplits[batchIdx] + splitIdx. */
  readonly splitIdx: number;
  readonly beginToken: number;
  /** Exclusive. */
  readonly endToken: number;
  /** KV blocks the piece loads (its cost is this plus the schedule's fixed overhead). */
  readonly blocks: number;
}

/** Expands the metadata the way the split kernel reads it: every request of every part, in order. */
export function splitPieces(plan: SplitKvPlan, seqlens: ArrayLike<number>, schedule: SplitKvSchedule): SplitPiece[] {
  const pieces: SplitPiece[] = [];
  const parts = plan.metadata.length / SCHED_METADATA_SIZE;
  for (let part = 0; part < parts; part++) {
    const row = plan.metadata.subarray(part * SCHED_METADATA_SIZE, (part + 1) * SCHED_METADATA_SIZE);
    const beginIdx = row[SCHED_SLOT.beginIdx]!;
    const endIdx = row[SCHED_SLOT.endIdx]!;
    for (let b = beginIdx; b <= endIdx; b++) {
      const beginToken = b === beginIdx ? row[SCHED_SLOT.beginSeqlen]! : 0;
      const endToken = b === endIdx ? row[SCHED_SLOT.endSeqlen]! : seqlens[b]!;
      pieces.push({
        smPart: part,
        batchIdx: b,
        splitIdx: b === beginIdx ? row[SCHED_SLOT.beginSplit]! : 0,
        beginToken,
        endToken,
        blocks: ceilDiv(endToken, schedule.blockN) - Math.floor(beginToken / schedule.blockN),
      });
    }
  }
  return pieces;
}
