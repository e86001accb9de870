import { describe, expect, it } from 'vitest';
import { Checker, DslError, DslErrors } from '../../dsl/errors.ts';
import {
  DEFAULT_SPLIT_KV_SCHEDULE,
  SCHED_METADATA_SIZE,
  numSmParts,
  payloadFromUnits,
  planSplitKv,
  plansAlike,
  splitPieces,
  validateSplitKvSchedule,
  type SplitKvPlan,
  type SplitKvSchedule,
} from '../../dsl/schedule/splitKv.ts';
import { prng } from '../../scripts/harness/prng.ts';

const intIn = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/** Seqlens with many zeros, short requests, and lengths at and around 64-token page boundaries. */
function randomSeqlens(rand: () => number, batch: number): number[] {
  const style = rand();
  return Array.from({ length: batch }, () => {
    const pick = rand();
    if (pick < 0.25) return 0;
    if (pick < 0.45) return intIn(rand, 1, 200);
    if (pick < 0.7) return 64 * intIn(rand, 1, 1024) + intIn(rand, -1, 1);
    if (pick < 0.8) return [65536, 65535, 65537, 64, 63, 65][intIn(rand, 0, 5)]!;
    // Some batches are uniform-ish, others very skewed.
    return style < 0.5 ? intIn(rand, 0, 65536) : intIn(rand, 0, 4096);
  });
}

const ceilDiv = (a: number, b: number) => Math.floor((a + b - 1) / b);

/** Checks every property of a plan, computing the expectations independently of the planner. */
function checkPlan(seqlens: readonly number[], parts: number, schedule: SplitKvSchedule, plan: SplitKvPlan): void {
  const { blockN, fixedOverheadBlocks: overhead } = schedule;
  const batch = seqlens.length;
  const { metadata, numSplits } = plan;
  expect(metadata.length).toBe(parts * SCHED_METADATA_SIZE);
  expect(numSplits.length).toBe(batch + 1);
  expect(numSplits[0]).toBe(0);

  // Rows: reserved slots are zero; empty parts are exactly the FlashMLA empty row, and only at the end.
  let firstEmpty = parts;
  for (let p = 0; p < parts; p++) {
    const row = Array.from(metadata.subarray(p * 8, p * 8 + 8));
    expect(row.slice(5), `part ${p} reserved slots`).toEqual([0, 0, 0]);
    if (row[0] === batch) {
      expect(row, `empty part ${p}`).toEqual([batch, 0, batch - 1, seqlens[batch - 1], 0, 0, 0, 0]);
      firstEmpty = Math.min(firstEmpty, p);
    } else {
      expect(firstEmpty, `part ${p} has work after empty part ${firstEmpty}`).toBe(parts);
      expect(row[2]!, `part ${p} end_idx`).toBeGreaterThanOrEqual(row[0]!);
      expect(row[2]!).toBeLessThan(batch);
    }
  }
  expect(firstEmpty, 'part 0 holds work').toBeGreaterThan(0);

  // Coverage: walking the pieces in part order visits every token of every request exactly once.
  const pieces = splitPieces(plan, seqlens, schedule);
  let req = 0;
  let token = 0;
  let nextSplit = 0;
  for (const piece of pieces) {
    if (piece.batchIdx !== req) {
      expect(token, `request ${req} fully covered before request ${piece.batchIdx}`).toBe(seqlens[req]);
      expect(nextSplit, `request ${req} piece count`).toBe(numSplits[req + 1]! - numSplits[req]!);
      expect(piece.batchIdx, 'requests in order, none skipped').toBe(req + 1);
      req++;
      token = 0;
      nextSplit = 0;
    }
    const len = seqlens[req]!;
    expect(piece.beginToken, `request ${req} piece ${nextSplit} begins where the last ended`).toBe(token);
    expect(piece.beginToken % blockN, 'pieces begin on a block boundary').toBe(0);
    expect(piece.endToken === len || piece.endToken % blockN === 0, 'pieces end on a block boundary or the end').toBe(true);
    if (len > 0) expect(piece.endToken, 'non-empty requests get non-empty pieces').toBeGreaterThan(piece.beginToken);
    else expect([piece.beginToken, piece.endToken, piece.splitIdx], 'an empty request is one empty piece').toEqual([0, 0, 0]);
    expect(piece.endToken).toBeLessThanOrEqual(len);
    expect(piece.splitIdx, 'split indices count up from 0').toBe(nextSplit);
    expect(piece.blocks).toBe(ceilDiv(piece.endToken - piece.beginToken, blockN));
    token = piece.endToken;
    nextSplit++;
  }
  expect(req, 'last request reached').toBe(batch - 1);
  expect(token).toBe(seqlens[batch - 1]);
  expect(nextSplit).toBe(numSplits[batch]! - numSplits[batch - 1]!);
  // Every cut opens at most one extra piece per SM part: the workspace of batch + num_sm_parts suffices.
  expect(pieces.length).toBe(numSplits[batch]);
  expect(pieces.length).toBeLessThanOrEqual(batch + parts - 1);

  // Balance. Each part gets at most `payload` units (blocks + overhead per piece). A part is only
  // closed early when what is left of it (at most one overhead) cannot hold a block, so every part
  // before the last busy one is filled to within one overhead of the payload.
  const units = seqlens.map((len) => ceilDiv(len, blockN) + overhead);
  const total = units.reduce((sum, u) => sum + u, 0);
  const even = ceilDiv(total, parts);
  const flashMla = Math.max(even + overhead, 2 * overhead);
  const longest = Math.max(...units);
  // FlashMLA's payload, unless the longest request exceeds it by at most one more overhead.
  const payload = longest > flashMla && longest <= even + 2 * overhead ? longest : flashMla;
  const load = new Array<number>(parts).fill(0);
  for (const piece of pieces) load[piece.smPart]! += piece.blocks + overhead;
  const lastBusy = Math.max(...pieces.map((piece) => piece.smPart));
  for (let p = 0; p < parts; p++) {
    expect(load[p]!, `part ${p} load`).toBeLessThanOrEqual(payload);
    if (p < lastBusy) expect(load[p]!, `part ${p} load`).toBeGreaterThanOrEqual(payload - overhead);
  }
}

describe('planSplitKv: hand-computed plans', () => {
  const plan = (seqlens: number[], parts: number, schedule = DEFAULT_SPLIT_KV_SCHEDULE) => {
    const p = planSplitKv(seqlens, { schedule, numSmParts: parts });
    return { metadata: Array.from(p.metadata), numSplits: Array.from(p.numSplits) };
  };

  it('cuts one long request across two parts', () => {
    // 20 blocks + 5 = 25 units, payload max(13 + 5, 10) = 18: 13 blocks, then the other 7.
    expect(plan([1280], 2)).toEqual({
      metadata: [0, 0, 0, 832, 0, 0, 0, 0, /**/ 0, 832, 0, 1280, 1, 0, 0, 0],
      numSplits: [0, 2],
    });
  });

  it('gives empty requests one piece and trailing parts empty rows', () => {
    // Units 5 + 7 + 5 = 17, payload max(5 + 5, 10) = 10. Part 0 keeps 5 units it cannot use
    // (a piece needs more than the overhead), request 2 does not fit the 3 units left in part 1.
    expect(plan([0, 100, 0], 4)).toEqual({
      metadata: [0, 0, 0, 0, 0, 0, 0, 0, /**/ 1, 0, 1, 100, 0, 0, 0, 0, /**/ 2, 0, 2, 0, 0, 0, 0, 0, /**/ 3, 0, 2, 0, 0, 0, 0, 0],
      numSplits: [0, 1, 2, 3],
    });
  });

  it('continues a request across three parts with its split index', () => {
    // Blocks 10, 31, 1: units 15 + 36 + 6 = 57, payload 19 + 5 = 24.
    // Part 0: request 0 (15), then 4 blocks of request 1. Part 1: 19 more blocks. Part 2: the last 8, and request 2.
    expect(plan([640, 1921, 64], 3)).toEqual({
      metadata: [0, 0, 1, 256, 0, 0, 0, 0, /**/ 1, 256, 1, 1472, 1, 0, 0, 0, /**/ 1, 1472, 2, 64, 2, 0, 0, 0],
      numSplits: [0, 1, 4, 5],
    });
  });

  it('raises the payload to the longest request when that is at most one overhead over it', () => {
    // 10 blocks each: units 15 + 15 = 30 on 4 parts, even share 8, FlashMLA's payload 13 would cut both
    // requests (8 + 2 blocks); 15 <= 8 + 10, so the payload is 15 and each request runs whole.
    expect(plan([640, 640], 4)).toEqual({
      metadata: [0, 0, 0, 640, 0, 0, 0, 0, /**/ 1, 0, 1, 640, 0, 0, 0, 0, /**/ 2, 0, 1, 640, 0, 0, 0, 0, /**/ 2, 0, 1, 640, 0, 0, 0, 0],
      numSplits: [0, 1, 2],
    });
  });

  it('puts everything in one part when there is one', () => {
    expect(plan([5, 0, 70000], 1)).toEqual({ metadata: [0, 0, 2, 70000, 0, 0, 0, 0], numSplits: [0, 1, 2, 3] });
  });

  it('honours a non-default block size and overhead', () => {
    // blockN 128, overhead 1: blocks 4 (500 tokens) and 1; units 5 + 2 = 7, payload max(4 + 1, 2) = 5.
    const schedule = { blockN: 128, fixedOverheadBlocks: 1, blockM: 64 };
    expect(plan([500, 1], 2, schedule)).toEqual({
      metadata: [0, 0, 0, 500, 0, 0, 0, 0, /**/ 1, 0, 1, 1, 0, 0, 0, 0],
      numSplits: [0, 1, 2],
    });
  });

  it('expands the metadata into pieces', () => {
    const seqlens = [640, 1921, 64];
    const p = planSplitKv(seqlens, { schedule: DEFAULT_SPLIT_KV_SCHEDULE, numSmParts: 3 });
    expect(splitPieces(p, seqlens, DEFAULT_SPLIT_KV_SCHEDULE)).toEqual([
      { smPart: 0, batchIdx: 0, splitIdx: 0, beginToken: 0, endToken: 640, blocks: 10 },
      { smPart: 0, batchIdx: 1, splitIdx: 0, beginToken: 0, endToken: 256, blocks: 4 },
      { smPart: 1, batchIdx: 1, splitIdx: 1, beginToken: 256, endToken: 1472, blocks: 19 },
      { smPart: 2, batchIdx: 1, splitIdx: 2, beginToken: 1472, endToken: 1921, blocks: 8 },
      { smPart: 2, batchIdx: 2, splitIdx: 0, beginToken: 0, endToken: 64, blocks: 1 },
    ]);
  });
});

describe('payloadFromUnits', () => {
  it("is FlashMLA's payload unless the longest request is at most one overhead over it", () => {
    // 128 requests of 16384 tokens on 132 parts: 261 units each, even share 254, FlashMLA 259.
    expect(payloadFromUnits(128 * 261, 261, 5, 132)).toBe(261);
    expect(payloadFromUnits(128 * 261, 265, 5, 132)).toBe(259);  // 265 > 254 + 10: cut as FlashMLA does
    expect(payloadFromUnits(128 * 261, 259, 5, 132)).toBe(259);
    expect(payloadFromUnits(100, 3, 5, 4)).toBe(30);  // even 25 + 5
    expect(payloadFromUnits(4, 4, 5, 4)).toBe(10);    // at least two overheads
    expect(payloadFromUnits(40, 21, 0, 2)).toBe(20);  // no overhead: nothing to save, always cut
  });
});

describe('planSplitKv: properties on random batches', () => {
  const schedules: SplitKvSchedule[] = [
    DEFAULT_SPLIT_KV_SCHEDULE,
    { blockN: 16, fixedOverheadBlocks: 0, blockM: 64 },
    { blockN: 128, fixedOverheadBlocks: 1, blockM: 64 },
    { blockN: 64, fixedOverheadBlocks: 17, blockM: 128 },
  ];

  for (let seed = 1; seed <= 240; seed++) {
    const rand = prng(seed);
    // Mostly small batches, some up to 4096; SM parts from 1 to two H100s' worth.
    const batch = rand() < 0.85 ? intIn(rand, 1, 64) : intIn(rand, 65, 4096);
    const parts = [1, 2, 16, 33, 66, 132, intIn(rand, 1, 264)][intIn(rand, 0, 6)]!;
    const schedule = schedules[seed % schedules.length]!;
    it(`seed ${seed}: batch ${batch}, ${parts} parts, blockN ${schedule.blockN}, overhead ${schedule.fixedOverheadBlocks}`, () => {
      const seqlens = randomSeqlens(rand, batch);
      checkPlan(seqlens, parts, schedule, planSplitKv(seqlens, { schedule, numSmParts: parts }));
    });
  }

  it('covers batches of only empty requests', () => {
    for (const schedule of schedules)
      for (const parts of [1, 3, 132]) {
        const seqlens = new Array<number>(parts * 2 + 1).fill(0);
        checkPlan(seqlens, parts, schedule, planSplitKv(seqlens, { schedule, numSmParts: parts }));
      }
  });

  it('covers more parts than work, and int32-sized requests', () => {
    const huge = [2 ** 31 - 1, 2 ** 31 - 64, 0, 1];
    for (const parts of [1, 7, 132, 1000])
      checkPlan(huge, parts, DEFAULT_SPLIT_KV_SCHEDULE, planSplitKv(huge, { schedule: DEFAULT_SPLIT_KV_SCHEDULE, numSmParts: parts }));
    checkPlan([1], 132, DEFAULT_SPLIT_KV_SCHEDULE, planSplitKv([1], { schedule: DEFAULT_SPLIT_KV_SCHEDULE, numSmParts: 132 }));
  });

  it('accepts typed arrays', () => {
    const seqlens = Int32Array.from([65536, 65535, 65537, 0]);
    const plan = planSplitKv(seqlens, { schedule: DEFAULT_SPLIT_KV_SCHEDULE, numSmParts: 132 });
    checkPlan(Array.from(seqlens), 132, DEFAULT_SPLIT_KV_SCHEDULE, plan);
  });
});

describe('planSplitKv: rejected input', () => {
  const opts = { schedule: DEFAULT_SPLIT_KV_SCHEDULE, numSmParts: 4 };
  it.each([
    [[], /batch is empty/],
    [[64, -1], /seqlens\[1\] = -1/],
    [[1.5], /seqlens\[0\] = 1.5/],
    [[NaN], /seqlens\[0\] = NaN/],
    [[2 ** 31], /seqlens\[0\] = 2147483648/],
  ])('%j', (seqlens, message) => {
    expect(() => planSplitKv(seqlens, opts)).toThrow(message);
  });
  it('rejects a bad number of parts', () => {
    expect(() => planSplitKv([1], { ...opts, numSmParts: 0 })).toThrow(/numSmParts: 0/);
    expect(() => planSplitKv([1], { ...opts, numSmParts: 2.5 })).toThrow(/numSmParts: 2.5/);
  });
});

describe('numSmParts', () => {
  it.each([
    // numSms, sQ, hQ, hKv, blockM, expected
    [132, 1, 128, 1, 64, 66],
    [132, 2, 128, 1, 64, 33],
    [132, 1, 16, 1, 64, 132],
    [132, 4, 128, 1, 64, 16],
    [132, 1, 128, 1, 128, 132],
    [78, 1, 64, 1, 64, 78],
    [8, 1, 128, 16, 64, 1], // fewer SMs than KV heads: still one part
    [132, 1, 1, 2, 64, 66], // fewer query heads than KV heads
  ])('%i SMs, s_q %i, h_q %i, h_kv %i, blockM %i -> %i', (numSms, sQ, hQ, hKv, blockM, expected) => {
    expect(numSmParts(numSms, sQ, hQ, hKv, blockM)).toBe(expected);
  });
  it('rejects non-positive arguments', () => {
    expect(() => numSmParts(0, 1, 128, 1, 64)).toThrow(/numSms: 0/);
    expect(() => numSmParts(132, 1, 128, 1, 0)).toThrow(/blockM: 0/);
  });
});

describe('validateSplitKvSchedule', () => {
  const problems = (s: SplitKvSchedule) => {
    const checker = new Checker(['mlaDecode', 'schedule']);
    validateSplitKvSchedule(s, checker);
    return checker.errors.map((e) => e.message);
  };
  it('accepts the default', () => {
    expect(problems(DEFAULT_SPLIT_KV_SCHEDULE)).toEqual([]);
  });
  it('names field, value and limit', () => {
    expect(problems({ blockN: 40, fixedOverheadBlocks: -1, blockM: 12 })).toEqual([
      'mlaDecode > schedule > blockN: 40 must be a multiple of 16 in 16..256',
      'mlaDecode > schedule > blockM: 12 must be a multiple of 8 in 8..256',
      'mlaDecode > schedule > fixedOverheadBlocks: -1 must be an integer in 0..1024',
    ]);
    expect(problems({ blockN: 512, fixedOverheadBlocks: 2.5, blockM: 0 })).toHaveLength(3);
  });
  it('reports through throwIfAny', () => {
    const one = new Checker(['s']);
    validateSplitKvSchedule({ ...DEFAULT_SPLIT_KV_SCHEDULE, blockN: 0 }, one);
    expect(() => one.throwIfAny()).toThrow(DslError);
    const two = new Checker(['s']);
    validateSplitKvSchedule({ ...DEFAULT_SPLIT_KV_SCHEDULE, blockN: 0, blockM: 1 }, two);
    expect(() => two.throwIfAny()).toThrow(DslErrors);
  });
});

describe('plansAlike', () => {
  it("lets fewer rows per CTA run on the planner's metadata only where one CTA of each holds the rows", () => {
    expect(plansAlike(64, 64, 1 << 20)).toBe(true);
    expect(plansAlike(16, 64, 16)).toBe(true);
    expect(plansAlike(16, 64, 17)).toBe(false);
    expect(plansAlike(32, 64, 32)).toBe(true);
    expect(plansAlike(128, 64, 64)).toBe(true);
    expect(plansAlike(128, 64, 65)).toBe(false);
  });
});
