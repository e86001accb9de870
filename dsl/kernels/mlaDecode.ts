// The MLA decode kernel for sm_90a, as a DSL value: problem, tiles, TMA pipeline, wgmma shapes,
// warpgroup roles and split-KV schedule. `lowerMlaDecode` validates it and lowers it to a KernelPlan.
//
// Per CTA: BLOCK_M query rows (s_q*h_q flattened) of one request range of one SM part.
//   producer warpgroup : TMA-loads BLOCK_N-token K/V tiles through the block table into `kvStages` stages
//   consumer warpgroups: each computes S = Q K^T for its slice of the BLOCK_N keys (qkSplit 'n'),
//                        the row max is exchanged through shared memory, P goes to shared memory,
//                        then each computes O[:, its dv slice] += P V[:, its dv slice].
import { Checker } from '../errors.ts';
import type { MlaProblem } from '../problem.ts';
import { DEEPSEEK_MLA, DTYPE_BYTES, DTYPE_CUDA, validateProblem } from '../problem.ts';
import { rowCopyShare, smemTile, validateTile } from '../layout/smemTile.ts';
import { SWIZZLE_BITS, SWIZZLE_BYTES } from '../layout/swizzle.ts';
import { SM90 } from '../sm90/device.ts';
import type { NamedBarrier } from '../sm90/mbarrier.ts';
import type { WarpgroupRole } from '../sm90/roles.ts';
import { entryRegisterCap, roleThreads, validateRoles } from '../sm90/roles.ts';
import { tmaBox, tmaBoxForTile, validateTmaBox } from '../sm90/tma.ts';
import type { WgmmaShape } from '../sm90/wgmma.ts';
import { accumulatorRegs, descriptorFor, encodeDescriptor, kStepOffsets, validateWgmma, wgmmaK, wgmmaWrapper } from '../sm90/wgmma.ts';
import type { PipelinePart } from '../pipeline/pipeline.ts';
import { pipelineBarriers, validatePipeline } from '../pipeline/pipeline.ts';
import type { SplitKvSchedule } from '../schedule/splitKv.ts';
import { validateSplitKvSchedule } from '../schedule/splitKv.ts';
import { planSmem } from '../plan/smemPlan.ts';
import type { KernelPlan, PlanSection } from '../plan/kernelPlan.ts';
import { constant } from '../plan/kernelPlan.ts';

export interface MlaDecodeConfig {
  problem: MlaProblem;
  /** Query rows per CTA (wgmma M; with mathSchedule 'transposed' wgmma N) and KV tokens per pipeline step. */
  tile: { blockM: number; blockN: number };
  /** Shared-memory stages of K/V tiles in flight. */
  kvStages: number;
  /** Consumer warpgroups; they split O's dv columns between them (2; 'transposed': 1). */
  consumers: number;
  /**
   * How the consumers share the work of one KV step:
   *  'split-n': each computes S for half of the step's keys; row maxima are exchanged, P is shared.
   *  'seesaw':  steps alternate between the consumers; the owner computes all of S for its step and
   *             hands P to the other, so softmax of one overlaps the other's GEMMs.
   *  'transposed': one consumer computes S^T = K Q^T and O^T += V^T P^T, so the step's keys and dv are wgmma's M
   *             and the CTA's query rows (tile.blockM, a multiple of 8) its N: for few rows, no padding to 64.
   */
  mathSchedule: 'split-n' | 'seesaw' | 'transposed';
  /**
   * seesaw only: when consumer 1 issues S_B = Q K_B^T. 'early': beside consumer 0's S_A (both products
   * at once, interleaved on the tensor cores); 'queued': once consumer 0 has issued S_A, so S_A retires
   * first and consumer 0's softmax runs under S_B; 'late': after its P_A.V_AR.
   */
  seesawSecondQk: 'early' | 'queued' | 'late';
  /**
   * seesaw only: how a consumer hands its row statistics and its P tile to the other. 'sync': both
   * meet at a barrier.sync; 'arrive': the writer arrives (barrier.arrive) and runs on, only the reader waits,
   * so the writer is never held by the reader's own TMA waits.
   */
  seesawHandoff: 'sync' | 'arrive';
  /**
   * seesaw only: the order S = Q K^T walks a stage's parts (L, R), which is also the order the
   * producer refills them. 'columns': left to right; 'arrival': the order the previous pair
   * releases them (stage 1's R before its L).
   */
  qkOrder: 'columns' | 'arrival';
  /**
   * seesaw only: lazy rescaling, in log2 units. The running row max that serves as the exponent base moves
   * only when a step's max exceeds it by more than this, so P <= 2^slack and O is rescaled only in the few
   * steps where some row's base moved (a warp skips the multiply when none of its rows did). 0: the base
   * follows every increase of the max.
   */
  seesawRescaleSlack: number;
  /** setmaxnreg budgets. */
  registers: { producer: number; consumer: number };
  schedule: SplitKvSchedule;
  /**
   * L2 policy of the K/V TMA loads. 'auto': evict_last when several m-block CTAs of an SM part re-read each
   * tile (more than BLOCK_M query rows), evict_normal when one CTA reads it; decided at launch from the grid.
   */
  l2Hint: 'auto' | 'evict_first' | 'evict_last' | 'evict_normal';
  /**
   * How K/V tiles reach shared memory. 'tma': one TMA box per page (part) and column block, so pages of 8 tokens
   * or more. 'cp.async': every producer thread copies 16-byte chunks of its step rows through the block table, row
   * by row, so any page size works, one token per page included (split-n only).
   */
  kvLoader: 'tma' | 'cp.async';
  /**
   * The dtype of the tiles the wgmma reads (Q, K/V, P): the queries' ('query'), or with an fp8_e4m3 cache and bf16 queries
   * 'fp16': the cache then widens by the hardware conversion (one instruction a pair; sm_90 has none to bf16) and each
   * piece's Q tile is converted to fp16 once, so Q must lie within fp16's range (|q| < 65504; larger becomes inf).
   */
  mathDtype: 'query' | 'fp16';
  allowSpills: boolean;
}

export const DEFAULT_MLA_DECODE: MlaDecodeConfig = {
  problem: DEEPSEEK_MLA,
  tile: { blockM: 64, blockN: 64 },
  kvStages: 2,
  consumers: 2,
  mathSchedule: 'split-n',
  // Measured on b128 s_q2 sk8192 h_q128 (docs/perf/kernel-versions.md): 'early' 1132 us vs 'late' 1210 us;
  // later, in one run, 'queued' 1048-1057 us vs 'early' 1099-1107 us (-3 to -5 % at 256 rows, same below).
  seesawSecondQk: 'queued',
  // Measured (docs/perf/kernel-versions.md v6): 'arrive' and 'arrival' 3-8 % faster at 128-256 rows.
  seesawHandoff: 'arrive',
  qkOrder: 'arrival',
  // Measured in one run (docs/perf/kernel-versions.md, session 6): slack 8 vs 0, -4 to -7 % at 128-256 rows.
  seesawRescaleSlack: 8,
  registers: { producer: 40, consumer: 232 },
  schedule: { blockN: 64, fixedOverheadBlocks: 5, blockM: 64 },
  // Measured (docs/perf/kernel-versions.md, session 6): with several m-block CTAs evict_last beats evict_normal
  // by 4-8 % (evict_first no better); with one, evict_normal beats evict_last by ~1 % and evict_first loses 2-3 %.
  l2Hint: 'auto',
  kvLoader: 'tma',
  mathDtype: 'query',
  allowSpills: false,
};

const SCHEDULE_CODE: Record<MlaDecodeConfig['mathSchedule'], string> = { 'split-n': 'sn', seesaw: 'ss', transposed: 'tr' };
const MATH_SCHEDULES = Object.keys(SCHEDULE_CODE) as MlaDecodeConfig['mathSchedule'][];
/**
 * Per L2 hint: its id suffix, the rendered KV_L2_HINT (0 decides at launch, the others force one policy) and
 * the mlagen::L2Hint (ptx.cuh) that value must equal, asserted in the generated code.
 */
const L2_HINTS: Record<MlaDecodeConfig['l2Hint'], { code: string; value: number; cpp?: string }> = {
  auto: { code: 'l2a', value: 0 },
  evict_first: { code: 'l2f', value: 1, cpp: 'mlagen::kL2EvictFirst' },
  evict_last: { code: 'l2l', value: 2, cpp: 'mlagen::kL2EvictLast' },
  evict_normal: { code: 'l2n', value: 3, cpp: 'mlagen::kL2EvictNormal' },
};
const L2_HINT_NAMES = Object.keys(L2_HINTS) as MlaDecodeConfig['l2Hint'][];

/**
 * The id spells the configuration in a fixed order; folder, kernel symbol and bench records share it.
 * Tunables are appended only where they differ from the default, so the common ids stay short.
 */
export function variantId(c: MlaDecodeConfig): string {
  const p = c.problem;
  const d = DEFAULT_MLA_DECODE;
  const parts = [
    'mla_sm90',
    p.qDtype,
    `kv${p.kvDtype}`,
    `p${p.pageSize === 0 ? 'any' : p.pageSize}`,
    `m${c.tile.blockM}n${c.tile.blockN}`,
    `st${c.kvStages}`,
    `c${c.consumers}${SCHEDULE_CODE[c.mathSchedule] ?? c.mathSchedule}`,
  ];
  if (c.schedule.fixedOverheadBlocks !== d.schedule.fixedOverheadBlocks) parts.push(`fo${c.schedule.fixedOverheadBlocks}`);
  if (c.registers.producer !== d.registers.producer || c.registers.consumer !== d.registers.consumer)
    parts.push(`r${c.registers.producer}x${c.registers.consumer}`);
  if (c.mathSchedule === 'seesaw') {
    if (c.seesawSecondQk !== d.seesawSecondQk) parts.push(`qk${c.seesawSecondQk[0]}`);
    if (c.seesawHandoff !== d.seesawHandoff) parts.push(`h${c.seesawHandoff[0]}`);
    if (c.qkOrder !== d.qkOrder) parts.push(`o${c.qkOrder[0]}`);
    if (c.seesawRescaleSlack !== d.seesawRescaleSlack) parts.push(`rs${c.seesawRescaleSlack}`);
  }
  if (c.l2Hint !== d.l2Hint) parts.push(L2_HINTS[c.l2Hint]?.code ?? `l2${c.l2Hint}`);
  if (c.kvLoader === 'cp.async') parts.push('ldca');
  if (c.mathDtype === 'fp16') parts.push('mf16');
  // The problem's other fields, where they differ from DeepSeek's: each changes the rendered code.
  const dp = d.problem;
  if (p.dQk !== dp.dQk || p.dV !== dp.dV) parts.push(`d${p.dQk}v${p.dV}`);
  if (p.hQ.min !== dp.hQ.min || p.hQ.max !== dp.hQ.max) parts.push(`hq${p.hQ.min}to${p.hQ.max}`);
  if (p.sQ.min !== dp.sQ.min || p.sQ.max !== dp.sQ.max) parts.push(`sq${p.sQ.min}to${p.sQ.max}`);
  return parts.join('_');
}

/**
 * Which page sizes a variant takes at launch: its own (0 here), or with pageSize 0 every multiple of this, 1 for the
 * cp.async loader (any), the KV step for TMA (a box is one step of one page).
 */
export function pageMultipleOf(c: { problem: { pageSize: number }; kvLoader: string; tile: { blockN: number } }): number {
  if (c.problem.pageSize !== 0) return 0;
  return c.kvLoader === 'cp.async' ? 1 : c.tile.blockN;
}

const ROOT = 'mlaDecode';
/**
 * Where the producer threads must meet while widening a step in place, as a bit per column block: widened block cb
 * overwrites landed blocks up to 2 cb - blocks + 1; a thread has read one block ahead of the one it writes, so a meeting
 * before writing cb covers every block up to cb + 1. The widening starts with no meeting and adds one where a block
 * needs more than the last covered.
 */
export function widenSyncBlocks(blocks: number): number {
  let mask = 0;
  let covered = -1;
  for (let cb = 0; cb < blocks; ++cb) {
    if (2 * cb - blocks + 1 > covered) {
      mask |= 1 << cb;
      covered = Math.min(cb + 1, blocks - 1);
    }
  }
  return mask;
}

/**
 * Registers a producer thread needs to widen an fp8_e4m3 cache without spilling, measured with ptxas (session 10): the
 * widening loop spills at 56; pages smaller than the step (several boxes a step, their pages held) spill at 64.
 */
export function fp8ProducerRegisters(pageSize: number, blockN: number): number {
  return pageSize > 0 && pageSize < blockN ? 72 : 64;
}
const SECOND_QK: MlaDecodeConfig['seesawSecondQk'][] = ['early', 'queued', 'late'];

/** Validates the config and lowers it to a KernelPlan; throws DslError(s) naming each bad field. */
export function lowerMlaDecode(cfg: MlaDecodeConfig): KernelPlan {
  const c = new Checker([ROOT]);
  const p = cfg.problem;
  validateProblem(p, c.at('problem'));
  const { blockM, blockN } = cfg.tile;
  c.oneOf('mathSchedule', cfg.mathSchedule, MATH_SCHEDULES);
  const transposed = cfg.mathSchedule === 'transposed';
  const tc = c.at('tile');
  if (transposed) {
    // The query rows are wgmma N: a multiple of 8; the keys of a step are S^T's M.
    tc.require(Number.isInteger(blockM) && blockM >= 8 && blockM <= 64 && blockM % 8 === 0, 'blockM', `${blockM} must be a multiple of 8 in 8..64: mathSchedule 'transposed' makes the query rows wgmma N`);
    tc.require(blockN === 64, 'blockN', `${blockN} is not supported by mathSchedule 'transposed': a step's keys are S^T's wgmma M, 64`);
  } else tc.require(blockM === 64, 'blockM', `${blockM} is not supported: wgmma M is 64 per warpgroup (mathSchedule 'transposed' takes fewer rows)`);
  tc.require(Number.isInteger(blockN) && blockN >= 8 && blockN <= 256, 'blockN', `${blockN} must be an integer in 8..256`);
  c.oneOf('seesawSecondQk', cfg.seesawSecondQk, SECOND_QK);
  c.oneOf('seesawHandoff', cfg.seesawHandoff, ['sync', 'arrive']);
  c.oneOf('qkOrder', cfg.qkOrder, ['columns', 'arrival']);
  c.oneOf('l2Hint', cfg.l2Hint, L2_HINT_NAMES);
  c.oneOf('kvLoader', cfg.kvLoader, ['tma', 'cp.async']);
  const cpAsync = cfg.kvLoader === 'cp.async';
  if (cpAsync) {
    c.require(cfg.mathSchedule !== 'seesaw', 'kvLoader', `'cp.async' serves split-n and transposed only: the seesaw refills each stage in parts, through TMA`);
    c.require(cfg.l2Hint === 'auto', 'l2Hint', `'${cfg.l2Hint}' is a TMA load policy: kvLoader 'cp.async' copies with the default one ('auto')`);
  }
  const slack = cfg.seesawRescaleSlack;
  c.require(
    Number.isInteger(slack) && slack >= 0 && slack <= 14,
    'seesawRescaleSlack',
    `${slack} must be an integer in 0..14 (log2 units: P <= 2^slack must fit the 16-bit P of the P.V product, fp16 included)`,
  );
  if (transposed) c.require(cfg.consumers === 1, 'consumers', `${cfg.consumers} is not supported by mathSchedule 'transposed': one consumer warpgroup computes S^T and all of O^T`);
  else c.require(cfg.consumers === 2, 'consumers', `${cfg.consumers} is not supported: the template splits S and O between 2 consumer warpgroups`);
  // An FP8 cache lands in the upper half of a stage and the producer warpgroup widens it in place to the math dtype
  // (qDtype) for the consumers' 16-bit wgmma: one whole stage at a time, through TMA.
  const kvFp8 = p.kvDtype === 'fp8_e4m3';
  if (kvFp8) {
    c.require(cfg.mathSchedule !== 'seesaw', 'problem > kvDtype', `fp8_e4m3 is served by the split-n and transposed schedules only (their producer widens whole stages; the seesaw refills stages in parts)`);
    c.require(cfg.kvLoader === 'tma', 'kvLoader', `'${cfg.kvLoader}': an fp8_e4m3 cache lands through TMA, then the producer warpgroup widens it`);
    const need = fp8ProducerRegisters(p.pageSize, cfg.tile.blockN);
    c.require(
      cfg.registers.producer >= need,
      'registers > producer',
      `${cfg.registers.producer}: the producer widens fp8_e4m3 steps and needs at least ${need} registers (e.g. producer ${need}, consumer 216)`,
    );
  }
  c.require(cfg.schedule.blockN === blockN, 'schedule > blockN', `${cfg.schedule.blockN} must equal tile.blockN ${blockN}: splits fall on KV steps`);
  c.require(cfg.schedule.blockM === blockM, 'schedule > blockM', `${cfg.schedule.blockM} must equal tile.blockM ${blockM}`);
  const page = p.pageSize;
  // cp.async looks every row's page up on its own: any page size, fixed here or (0) given at launch. TMA boxes
  // never cross a page and land on whole 8-row swizzle atoms; with pageSize 0 they are one KV step of one page, so
  // the page size given at launch must be a multiple of the step (checked there).
  if (page !== 0 && !cpAsync)
    c.require(
      page % blockN === 0 || (blockN % page === 0 && page % 8 === 0),
      'problem > pageSize',
      `${page} does not divide the KV step tile.blockN = ${blockN} (nor is a multiple of it); pages smaller than the step must be multiples of 8 rows (kvLoader 'cp.async' takes any page size)`,
    );
  c.throwIfAny();

  // The Q, K/V and P tiles hold the math dtype: the cache's own, or for an FP8 cache (widened by the producer) qDtype or,
  // with mathDtype 'fp16', fp16.
  c.oneOf('mathDtype', cfg.mathDtype, ['query', 'fp16']);
  if (cfg.mathDtype === 'fp16')
    c.require(
      kvFp8 && p.qDtype === 'bf16',
      'mathDtype',
      `'fp16' serves an fp8_e4m3 cache with bf16 queries (here ${p.kvDtype} with ${p.qDtype}): other caches hold their own math dtype`,
    );
  const dt = kvFp8 ? (cfg.mathDtype === 'fp16' ? 'fp16' : p.qDtype) : p.kvDtype;
  const elem = DTYPE_BYTES[dt];
  const cacheElem = DTYPE_BYTES[p.kvDtype];
  const consumers = cfg.consumers;
  const seesaw = cfg.mathSchedule === 'seesaw';
  // split-n: each consumer computes S for its share of the step's keys; seesaw: the step's owner computes all of S.
  // transposed: S^T's N and O^T's N are the CTA's query rows.
  const qkN = transposed ? blockM : seesaw ? blockN : blockN / consumers;
  if (seesaw) c.require(cfg.kvStages === 2, 'kvStages', `${cfg.kvStages}: the seesaw schedule alternates 2 stages between its 2 consumers`);
  const pvN = transposed ? blockM : p.dV / consumers;
  const qTile = smemTile('q', dt, blockM, p.dQk);
  const kvTile = smemTile('kv', dt, blockN, p.dQk);
  const pTile = smemTile('p', dt, blockM, blockN);
  validateTile(qTile, c.at('smem', 'q'));
  validateTile(kvTile, c.at('smem', 'kv'));
  validateTile(pTile, c.at('smem', 'p'));
  // cp.async: the producer warpgroup copies each step's K/V rows.
  const kvCopy = cpAsync ? rowCopyShare(kvTile, SM90.warpgroupThreads, 'producer', 'K/V', c, 'tile > blockN', " (kvLoader 'cp.async')") : undefined;
  c.require(
    pTile.blockCols >= blockN,
    'tile > blockN',
    `${blockN} keys of ${dt} make a ${blockN * DTYPE_BYTES[dt]} B row of P: the templates keep a P row within one 128 B swizzle span`,
  );
  const span = SWIZZLE_BYTES[kvTile.swizzle];
  c.require(qTile.swizzle === '128B' && kvTile.swizzle === '128B', 'smem', `Q/KV tiles need a 128B swizzle, derived ${qTile.swizzle}/${kvTile.swizzle}`);
  if (transposed) c.require(kvTile.blockCols === 64, 'smem', `O^T's wgmma M tiles are 64 dv columns: one ${kvTile.blockCols}-column block each is needed`);
  else c.require(pvN % kvTile.blockCols === 0, 'consumers', `dv slice ${pvN} must be a multiple of the ${kvTile.blockCols}-column block`);

  const boxRows = page > 0 ? Math.min(page, blockN) : blockN;  // TMA, pageSize 0: pages are multiples of the step
  // FP8: a box lands one column block's fp8 bytes unswizzled (KV_LAND_ROW_BYTES per row); the producer swizzles as it widens.
  const kvBox = kvFp8 ? tmaBox('kv', p.kvDtype, kvTile.blockCols, boxRows, 'none', cfg.l2Hint) : tmaBoxForTile('kv', kvTile, boxRows, cfg.l2Hint);
  if (!cpAsync) validateTmaBox(kvBox, c.at('tma', 'kv'));
  // FP8: the step's fp8 bytes fill the upper half of its stage; the producer's 128 threads widen it column block by column
  // block, from the first, each block's 16-byte chunks shared evenly.
  const landBytes = blockN * p.dQk * cacheElem;
  const convertChunks = (blockN * kvTile.blockCols * cacheElem) / 16;
  if (kvFp8)
    c.require(
      Number.isInteger(convertChunks / SM90.warpgroupThreads),
      'tile > blockN',
      `${blockN} rows of a ${kvTile.blockCols}-column fp8 block are ${convertChunks} 16-byte chunks, not a multiple of the producer's ${SM90.warpgroupThreads} threads`,
    );

  const k = wgmmaK(dt);
  // transposed: S^T = K Q^T (A the K tile, B the Q tile, both K-major); O^T = V^T P^T (A the V tile read MN-major).
  const qk: WgmmaShape = { name: 'qk', m: 64, n: qkN, k, dtype: dt, aSource: 'smem', aMajor: 'K', bMajor: 'K' };
  const pv: WgmmaShape = transposed
    ? { name: 'pv', m: 64, n: pvN, k, dtype: dt, aSource: 'smem', aMajor: 'MN', bMajor: 'K' }
    : { name: 'pv', m: 64, n: pvN, k, dtype: dt, aSource: 'smem', aMajor: 'K', bMajor: 'MN' };
  // seesaw: the owner multiplies its own P straight from registers.
  const pvOwn: WgmmaShape = { ...pv, name: 'pv_own', aSource: 'regs' };
  const shapes = seesaw ? [qk, pv, pvOwn] : [qk, pv];
  for (const sh of shapes) validateWgmma(sh, c.at('wgmma', sh.name));
  validateSplitKvSchedule(cfg.schedule, c.at('schedule'));
  c.at('wgmma', 'pv').require(blockN % k === 0, 'k', `tile.blockN ${blockN} keys are not a whole number of k${k} steps`);

  const roles: WarpgroupRole[] = [
    {
      name: 'consumer',
      warpgroups: consumers,
      maxRegisters: cfg.registers.consumer,
      does: transposed ? 'S^T = K Q^T, online softmax along the keys, O^T += V^T P^T' : 'S = QK^T, online softmax, O += PV',
    },
    {
      name: 'producer',
      warpgroups: 1,
      maxRegisters: cfg.registers.producer,
      does: cpAsync
        ? 'cp.async copies of K/V rows through the block table (all 128 threads)'
        : kvFp8
          ? `TMA loads of fp8 K/V pages through the block table; all 128 threads widen each step to ${dt} in place`
          : 'TMA loads of K/V pages through the block table',
    },
  ];
  validateRoles(roles, c.at('registers'));
  const threads = roleThreads(roles);
  const consumerThreads = consumers * SM90.warpgroupThreads;
  // The consumers copy Q (cp.async, 16-byte chunks) with the same number of threads on every row.
  const qCopy = rowCopyShare(qTile, consumerThreads, 'consumer', 'Q', c, 'tile > blockM');
  const pvAcc = accumulatorRegs(pv);
  // transposed: O^T is D_V / 64 wgmma M tiles, all held by the one consumer.
  const pvMTiles = transposed ? p.dV / 64 : 1;
  // seesaw: P as bf16 A fragments for the RS product; transposed: each thread's row statistics and key limits.
  const pFragRegs = seesaw ? blockN / 4 : 0;
  const rowRegs = transposed ? 3 * (blockM / 4) : 0;
  c.require(
    pvAcc * pvMTiles + accumulatorRegs(qk) + pFragRegs + rowRegs + 40 <= cfg.registers.consumer,
    'registers > consumer',
    `${cfg.registers.consumer} leaves too little room: O ${transposed ? `${pvMTiles} x ${pvAcc}` : `slice ${pvAcc}`} + S ${accumulatorRegs(qk)} accumulators${pFragRegs ? ` + P ${pFragRegs}` : ''}${rowRegs ? ` + row statistics ${rowRegs}` : ''} + ~40 for addressing`,
  );

  // seesaw: a stage is refilled in parts, each as soon as its last reader is done with it.
  const lBlocks = pvN / kvTile.blockCols;
  const colBlocks = p.dQk / kvTile.blockCols;
  // Part L: consumer 0's V columns; part R: consumer 1's V columns and the RoPE columns.
  const warpsPerGroup = SM90.warpgroupThreads / 32;  // one releasing arrival per warp of the last reader
  const parts: PipelinePart[] = seesaw
    ? [
        { name: 'L', firstBlock: 0, endBlock: lBlocks, consumerArrivals: warpsPerGroup, readers: 'consumer 0 (its P.V on columns 0..dv/2)' },
        { name: 'R', firstBlock: lBlocks, endBlock: colBlocks, consumerArrivals: warpsPerGroup, readers: 'consumer 1 (its P.V on columns dv/2..dv)' },
      ]
    : [{ name: 'all', firstBlock: 0, endBlock: colBlocks, consumerArrivals: consumerThreads / 32, readers: 'every consumer warp' }];
  // The order S = Q K^T walks each stage's parts (and the producer refills them): stage 0 belongs to
  // consumer 0, stage 1 to consumer 1. 'arrival' follows the release order of the previous pair.
  const partOrder: number[][] = Array.from({ length: cfg.kvStages }, (_, stage) =>
    seesaw && cfg.qkOrder === 'arrival'
      ? (stage === 0 ? [0, 1] : [1, 0])
      : parts.map((_, i) => i),
  );
  const pipeline = { name: 'kv', stages: cfg.kvStages, stageBytes: kvTile.bytes, parts };
  validatePipeline(pipeline, c.at('pipeline'));
  const mbarriers = pipelineBarriers(
    pipeline,
    cpAsync
      ? { kind: 'cp.async', threads: SM90.warpgroupThreads }
      : kvFp8
        ? { kind: 'tma-widen', warps: SM90.warpgroupThreads / 32, landBytes }
        : { kind: 'tma' },
  );

  const smem = planSmem(
    [
      { name: 'q', bytes: qTile.bytes, alignment: qTile.alignment, holds: `Q tile ${blockM} x ${p.dQk} ${dt}, ${qTile.swizzle} swizzle` },
      { name: 'kv', bytes: kvTile.bytes * cfg.kvStages, alignment: kvTile.alignment, holds: `${cfg.kvStages} stages of K/V ${blockN} x ${p.dQk} ${dt}` },
      { name: 'p', bytes: pTile.bytes, alignment: pTile.alignment, holds: `P tile ${blockM} x ${blockN} ${dt}` },
      seesaw
        ? { name: 'rowMax', bytes: 2 * blockM * 4, alignment: 16, holds: 'row max after step A, and after step B, of a pair' }
        : transposed
          ? { name: 'rowMax', bytes: warpsPerGroup * blockM * 4, alignment: 16, holds: "per-warp row maxima of S^T (each warp holds 16 of a step's keys)" }
          : { name: 'rowMax', bytes: consumers * blockM * 4, alignment: 16, holds: 'per-consumer row maxima of S' },
      transposed
        ? { name: 'rowSum', bytes: warpsPerGroup * blockM * 4, alignment: 16, holds: 'per-warp row sums of P^T' }
        : { name: 'rowSum', bytes: consumers * blockM * 4, alignment: 16, holds: 'per-consumer row sums of P' },
      ...mbarriers.map((b) => ({ name: b.name, bytes: 8 * b.count, alignment: 8, holds: `${b.count} mbarriers: ${b.meaning}` })),
    ],
    c.at('smemPlan'),
  );
  c.throwIfAny();

  const named: NamedBarrier[] = transposed
    ? [
        { name: 'QReady', id: 1, threads: consumerThreads, meaning: 'Q tile written by the consumer, visible to wgmma' },
        { name: 'MaxReady', id: 2, threads: consumerThreads, meaning: "every warp published its keys' row maxima of the step" },
        { name: 'PReady', id: 3, threads: consumerThreads, meaning: 'P^T tile complete (every warp its keys), visible to wgmma' },
        { name: 'RowSumReady', id: 4, threads: consumerThreads, meaning: 'every warp published its row sums (epilogue)' },
        ...(kvFp8
          ? [{ name: 'LandedRead', id: 5, threads: SM90.warpgroupThreads, meaning: 'producer threads read the landed fp8 bytes the next widened column block overwrites' }]
          : []),
      ]
    : seesaw
    ? [
        { name: 'QReady', id: 1, threads: consumerThreads, meaning: 'Q tile written by the consumers, visible to wgmma' },
        { name: 'MaxReady0', id: 2, threads: consumerThreads, meaning: "consumer 0 published its step's row max (arrive 0, sync 1)" },
        { name: 'MaxReady1', id: 3, threads: consumerThreads, meaning: "consumer 1 published its step's row max (arrive 1, sync 0)" },
        { name: 'PReady0', id: 4, threads: consumerThreads, meaning: 'consumer 0 wrote its P tile, visible to wgmma (arrive 0, sync 1)' },
        { name: 'PReady1', id: 5, threads: consumerThreads, meaning: 'consumer 1 wrote its P tile, visible to wgmma (arrive 1, sync 0)' },
        { name: 'RowSumReady', id: 6, threads: consumerThreads, meaning: 'both consumers published their row sums (epilogue)' },
        ...(cfg.seesawSecondQk === 'queued'
          ? [{ name: 'QkAQueued', id: 7, threads: consumerThreads, meaning: "consumer 0 issued S_A: consumer 1 may issue S_B (arrive 0, sync 1)" }]
          : []),
      ]
    : [
        { name: 'QReady', id: 1, threads: consumerThreads, meaning: 'Q tile written by the consumers, visible to wgmma' },
        { name: 'RowMaxReady', id: 2, threads: consumerThreads, meaning: 'both consumers published their S row maxima' },
        { name: 'PReady', id: 3, threads: consumerThreads, meaning: 'P tile complete (both key slices), visible to wgmma' },
        { name: 'RowSumReady', id: 4, threads: consumerThreads, meaning: 'both consumers published their row sums (epilogue)' },
        ...(kvFp8
          ? [{ name: 'LandedRead', id: 5, threads: SM90.warpgroupThreads, meaning: 'producer threads read the landed fp8 bytes the next widened column block overwrites' }]
          : []),
      ];

  // The k-steps of both products, the same whichever operand of each is A (split-n, seesaw) or B (transposed).
  const qkSteps = [
    constant('QK_K_STEPS_PER_BLOCK', kvTile.blockCols / k, `COL_BLOCK_ELEMS / k${k}`, `COL_BLOCK_ELEMS / ${k}`),
    constant('QK_K_STEPS', p.dQk / k, `D_QK / k${k}`, `D_QK / ${k}`),
  ];
  const pvSteps = constant('PV_K_STEPS', blockN / k, `BLOCK_N / k${k}`, `BLOCK_N / ${k}`);

  const sections: PlanSection[] = [
    {
      dsl: 'problem',
      constants: [
        constant('D_QK', p.dQk, 'K width: latent + RoPE'),
        constant('D_V', p.dV, 'V width: the first D_V columns of each cached row'),
        constant('D_ROPE', p.dQk - p.dV, 'D_QK - D_V', 'D_QK - D_V'),
        constant(
          'PAGE_SIZE',
          page,
          page === 0
            ? `tokens per KV-cache page: 0, given at launch (mlagen_decode_params.page_size)${cpAsync ? ', any' : `, a multiple of ${blockN}`}`
            : 'tokens per KV-cache page',
        ),
        constant(
          'PAGE_MULTIPLE',
          pageMultipleOf(cfg),
          'with PAGE_SIZE 0, the page size given at launch must be a multiple of this (1: any; the KV step for TMA boxes); 0: fixed',
        ),
        constant('H_Q_MIN', p.hQ.min, 'smallest h_q accepted at launch'),
        constant('H_Q_MAX', p.hQ.max, 'largest h_q accepted at launch'),
        constant('S_Q_MIN', p.sQ.min, 'smallest s_q accepted at launch'),
        constant('S_Q_MAX', p.sQ.max, 'largest s_q accepted at launch'),
        constant('H_KV', p.hKv, 'one latent KV head'),
        constant('ELEM_BYTES', elem, `${dt} element of the Q, K/V and P tiles (the math dtype)`, 'int(sizeof(math_t))'),
        constant('KV_CACHE_ELEM_BYTES', cacheElem, `${p.kvDtype} element of the KV cache`, 'int(sizeof(kv_t))'),
      ],
      arrays: [],
    },
    {
      dsl: 'tile',
      constants: [
        constant('BLOCK_M', blockM, `query rows (s_q*h_q flattened) per CTA = wgmma ${transposed ? 'N' : 'M'}`),
        constant('BLOCK_N', blockN, 'KV tokens per pipeline step'),
        constant('SPAN_BYTES', span, `${kvTile.swizzle} swizzle span derived from ${dt} rows of ${p.dQk}`),
        constant('SWIZZLE_BITS', SWIZZLE_BITS[kvTile.swizzle], 'log2 of the 16-byte chunks a span permutes'),
        constant('COL_BLOCK_ELEMS', kvTile.blockCols, 'SPAN_BYTES / ELEM_BYTES', 'SPAN_BYTES / ELEM_BYTES'),
        constant('Q_COL_BLOCKS', p.dQk / qTile.blockCols, 'D_QK / COL_BLOCK_ELEMS', 'D_QK / COL_BLOCK_ELEMS'),
        constant('Q_COL_BLOCK_BYTES', qTile.blockBytes, 'BLOCK_M x SPAN_BYTES', 'BLOCK_M * SPAN_BYTES'),
        constant('Q_TILE_BYTES', qTile.bytes, `${blockM} rows x ${p.dQk} cols x ${elem} B`, 'BLOCK_M * D_QK * ELEM_BYTES'),
        constant('Q_ROW_CHUNKS', qCopy.rowChunks, '16-byte chunks of one Q row', 'D_QK * ELEM_BYTES / 16'),
        constant('Q_COPY_THREADS_PER_ROW', qCopy.threadsPerRow, 'consumer threads that copy one Q row', 'CONSUMER_THREADS / BLOCK_M'),
        constant('Q_CHUNKS_PER_THREAD', qCopy.chunksPerThread, '16-byte chunks of a Q row each copying thread takes', 'Q_ROW_CHUNKS / Q_COPY_THREADS_PER_ROW'),
        constant('KV_COL_BLOCKS', p.dQk / kvTile.blockCols, 'D_QK / COL_BLOCK_ELEMS', 'D_QK / COL_BLOCK_ELEMS'),
        constant('V_COL_BLOCKS', p.dV / kvTile.blockCols, 'D_V / COL_BLOCK_ELEMS', 'D_V / COL_BLOCK_ELEMS'),
        constant('KV_COL_BLOCK_BYTES', kvTile.blockBytes, 'BLOCK_N x SPAN_BYTES', 'BLOCK_N * SPAN_BYTES'),
        constant('KV_STAGE_BYTES', kvTile.bytes, `${blockN} rows x ${p.dQk} cols x ${elem} B`, 'BLOCK_N * D_QK * ELEM_BYTES'),
        constant('P_TILE_BYTES', pTile.bytes, `${blockM} x ${blockN} x ${DTYPE_BYTES[dt]} B`, 'BLOCK_M * BLOCK_N * ELEM_BYTES'),
        // The P tile's rows are BLOCK_N keys wide: its own swizzle span (64 keys of bf16 fill 128 B, 32 keys 64 B).
        constant('P_SPAN_BYTES', SWIZZLE_BYTES[pTile.swizzle], `${pTile.swizzle} swizzle span derived from ${dt} rows of ${blockN}`),
        constant('P_SWIZZLE_BITS', SWIZZLE_BITS[pTile.swizzle], 'log2 of the 16-byte chunks a P span permutes'),
      ],
      arrays: [],
    },
    // TMA only: the cp.async loader addresses rows itself.
    ...(cpAsync
      ? []
      : [
          {
            dsl: 'tma.kv',
            constants: [
              constant('KV_BOX_COLS', kvBox.box[0]!, 'one swizzle span of columns', 'COL_BLOCK_ELEMS'),
              constant(
                'KV_BOX_ROWS',
                boxRows,
                'a box never crosses a page: min(PAGE_SIZE, BLOCK_N), or BLOCK_N when the page size, given at launch, is a multiple of the step',
                'PAGE_SIZE > 0 && PAGE_SIZE < BLOCK_N ? PAGE_SIZE : BLOCK_N',
              ),
              constant('KV_ROW_BOXES', blockN / boxRows, 'BLOCK_N / KV_BOX_ROWS: pages (or page parts) per step', 'BLOCK_N / KV_BOX_ROWS'),
              constant('KV_BOX_BYTES', kvBox.bytes, 'KV_BOX_COLS x KV_BOX_ROWS x KV_CACHE_ELEM_BYTES', 'KV_BOX_COLS * KV_BOX_ROWS * KV_CACHE_ELEM_BYTES'),
              constant('KV_ROW_TX_BYTES', colBlocks * kvBox.bytes, 'bytes one row of boxes across all columns delivers', 'KV_COL_BLOCKS * KV_BOX_BYTES'),
              constant('KV_L2_HINT', L2_HINTS[kvBox.l2Hint].value, `L2 policy of the K/V loads ('${kvBox.l2Hint}'): 0 evict_last with several m-block CTAs (they re-read K/V) else evict_normal, 1 evict_first, 2 evict_last, 3 evict_normal`, L2_HINTS[kvBox.l2Hint].cpp),
            ],
            arrays: [],
          },
        ]),
    ...(kvFp8
      ? [
          {
            dsl: 'kvWiden',
            constants: [
              constant('KV_LAND_BYTES', landBytes, 'fp8 bytes of one step: BLOCK_N x D_QK', 'BLOCK_N * D_QK * KV_CACHE_ELEM_BYTES'),
              constant('KV_LAND_OFFSET', kvTile.bytes - landBytes, 'the step lands at the end of its stage, so widening from the first column block never overwrites bytes not yet read', 'KV_STAGE_BYTES - KV_LAND_BYTES'),
              constant('KV_LAND_ROW_BYTES', kvTile.blockCols * cacheElem, 'one landed row of a column block (unswizzled)', 'COL_BLOCK_ELEMS * KV_CACHE_ELEM_BYTES'),
              constant('KV_LAND_ROW_CHUNKS', (kvTile.blockCols * cacheElem) / 16, '16-byte chunks of one landed row', 'KV_LAND_ROW_BYTES / 16'),
              constant('KV_LAND_BLOCK_BYTES', blockN * kvTile.blockCols * cacheElem, 'one landed column block', 'BLOCK_N * KV_LAND_ROW_BYTES'),
              constant('WIDEN_CHUNKS_PER_THREAD', convertChunks / SM90.warpgroupThreads, "16-byte fp8 chunks of a column block each producer thread widens", 'KV_LAND_BLOCK_BYTES / 16 / 128'),
              constant(
                'WIDEN_SYNC_BLOCKS',
                widenSyncBlocks(colBlocks),
                'bit cb: the producer threads meet before writing column block cb, which overwrites landed blocks up to 2 cb - KV_COL_BLOCKS + 1, not all read (each thread reads one block ahead) at the last meeting',
                undefined,
                'uint32_t',
              ),
            ],
            arrays: [],
          },
        ]
      : []),
    ...(kvCopy
      ? [
          {
            dsl: 'kvLoader',
            constants: [
              constant('KV_COPY_THREADS_PER_ROW', kvCopy.threadsPerRow, 'producer threads that copy one K/V row of a step', '128 / BLOCK_N'),
              constant('KV_ROW_CHUNKS', kvCopy.rowChunks, '16-byte chunks of one K/V row', 'D_QK * ELEM_BYTES / 16'),
              constant('KV_CHUNKS_PER_THREAD', kvCopy.chunksPerThread, 'chunks of its row each copying thread takes', 'KV_ROW_CHUNKS / KV_COPY_THREADS_PER_ROW'),
            ],
            arrays: [],
          },
        ]
      : []),
    {
      dsl: 'pipeline.kv',
      constants: [
        constant('KV_STAGES', cfg.kvStages, 'K/V tiles in flight'),
        constant('KV_PARTS', parts.length, `parts a stage is released in: ${parts.map((x) => x.name).join(', ')}`),
        constant(
          'KV_FULL_ARRIVALS',
          mbarriers[0]!.arrivals,
          cpAsync
            ? 'every producer thread arrives once its copies of the stage have landed'
            : kvFp8
              ? 'each producer warp arrives once it widened its share of the stage'
              : 'the producer arms each part of a stage once',
        ),
        constant('KV_EMPTY_ARRIVALS', parts[0]!.consumerArrivals, `one arrival per warp of the part's last reader`),
        ...(seesaw
          ? [
              constant('QK_GROUPS', parts.length, 'wgmma commit groups of one S = Q K^T: one per part, each after its wait', 'KV_PARTS'),
            ]
          : []),
      ],
      // The TMA producer's tables (the cp.async producer fills a stage whole, in step order).
      arrays: cpAsync
        ? []
        : [
            {
              name: 'KV_PART_ORDER',
              type: 'int',
              values: partOrder.flat(),
              why: `[stage][i]: the part S = Q K^T takes i-th on each stage, and the order the producer refills them (qkOrder '${cfg.qkOrder}')`,
            },
            { name: 'KV_PART_FIRST_BLOCK', type: 'int', values: parts.map((x) => x.firstBlock), why: 'first column block of each part' },
            { name: 'KV_PART_END_BLOCK', type: 'int', values: parts.map((x) => x.endBlock), why: 'one past the last column block of each part' },
            {
              name: 'KV_PART_ROW_TX_BYTES',
              type: 'int',
              values: parts.map((x) => (x.endBlock - x.firstBlock) * kvBox.bytes),
              why: 'bytes one row of boxes of each part delivers: its column blocks x KV_BOX_BYTES',
            },
          ],
    },
    {
      dsl: 'roles',
      constants: [
        constant('CONSUMER_WARPGROUPS', consumers, transposed ? 'one: S^T, the softmax and all of O^T' : 'split S columns and O columns'),
        constant('CONSUMER_THREADS', consumerThreads, 'CONSUMER_WARPGROUPS x 128', 'CONSUMER_WARPGROUPS * 128'),
        constant('PRODUCER_WARPGROUP', consumers, 'the warpgroup after the consumers', 'CONSUMER_WARPGROUPS'),
        constant('THREADS', threads, 'all warpgroups x 128', '(CONSUMER_WARPGROUPS + 1) * 128'),
        constant('PRODUCER_REGISTERS', cfg.registers.producer, 'setmaxnreg.dec for the TMA warpgroup'),
        constant('CONSUMER_REGISTERS', cfg.registers.consumer, 'setmaxnreg.inc for the math warpgroups'),
      ],
      arrays: [],
    },
    transposed ? transposedWgmmaSection() : {
      dsl: 'wgmma',
      constants: [
        seesaw
          ? constant('QK_N', qkN, "the step owner computes all of the step's keys", 'BLOCK_N')
          : constant('QK_N', qkN, 'keys per consumer: BLOCK_N / CONSUMER_WARPGROUPS', 'BLOCK_N / CONSUMER_WARPGROUPS'),
        ...qkSteps,
        constant('QK_ACC', accumulatorRegs(qk), '64 x QK_N fp32 over 128 threads', 'BLOCK_M * QK_N / 128'),
        // split-n only: the seesaw's step owner reads every key row.
        ...(seesaw ? [] : [constant('QK_B_CONSUMER_OFFSET', qkN * span, "byte offset of a consumer's first key row in each column block", 'QK_N * SPAN_BYTES')]),
        constant('QK_A_DESC', encodeDescriptor(descriptorFor(qTile, 'K')), `Q K-major ${qTile.swizzle}: SBO 8 rows x span`, undefined, 'uint64_t'),
        constant('QK_B_DESC', encodeDescriptor(descriptorFor(kvTile, 'K')), `K K-major ${kvTile.swizzle}: SBO 8 rows x span`, undefined, 'uint64_t'),
        constant('PV_N', pvN, 'dv columns per consumer: D_V / CONSUMER_WARPGROUPS', 'D_V / CONSUMER_WARPGROUPS'),
        pvSteps,
        constant('PV_ACC', pvAcc, '64 x PV_N fp32 over 128 threads', 'BLOCK_M * PV_N / 128'),
        constant('PV_B_CONSUMER_OFFSET', (pvN / kvTile.blockCols) * kvTile.blockBytes, "byte offset of a consumer's first V column block", '(PV_N / COL_BLOCK_ELEMS) * KV_COL_BLOCK_BYTES'),
        constant('PV_A_DESC', encodeDescriptor(descriptorFor(pTile, 'K')), `P K-major ${pTile.swizzle}`, undefined, 'uint64_t'),
        constant('PV_B_DESC', encodeDescriptor(descriptorFor(kvTile, 'MN')), `V MN-major ${kvTile.swizzle}: LBO one column block, SBO 8 rows`, undefined, 'uint64_t'),
      ],
      arrays: [
        // Q's column blocks are BLOCK_M rows deep, K's BLOCK_N: one table per tile.
        { name: 'QK_A_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(qTile, 'K', p.dQk, k), why: 'byte offset of each k-step in the Q tile' },
        { name: 'QK_B_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(kvTile, 'K', p.dQk, k), why: 'byte offset of each k-step in the K tile' },
        { name: 'PV_A_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(pTile, 'K', blockN, k), why: 'byte offset of each k-step in the P tile' },
        { name: 'PV_B_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(kvTile, 'MN', blockN, k), why: 'byte offset of each k-step (16 key rows) in the V tile' },
      ],
    },
    ...(seesaw
      ? [
          {
            dsl: 'softmax',
            constants: [
              constant('RESCALE_SLACK_LOG2', cfg.seesawRescaleSlack, "the exponent base moves only when a step's row max exceeds it by more than this (log2): P <= 2^slack", undefined, 'float'),
            ],
            arrays: [],
          },
        ]
      : []),
    {
      dsl: 'smemPlan',
      constants: [
        ...smem.buffers.map((b) => constant(`SMEM_${snake(b.name)}_OFFSET`, b.offset, `${b.holds}; ${b.bytes} B aligned to ${b.alignment}`)),
        constant('SMEM_BASE_ALIGN', Math.max(...smem.buffers.map((b) => b.alignment)), 'alignment the dynamic smem base is rounded up to'),
        constant('SMEM_BYTES', smem.totalBytes, `end of the last buffer + alignment slack, <= ${smem.limit}`),
      ],
      arrays: [],
    },
    {
      dsl: 'schedule',
      constants: [
        constant('SCHED_BLOCK_N', cfg.schedule.blockN, 'tokens per scheduling unit', 'BLOCK_N'),
        constant('SCHED_FIXED_OVERHEAD', cfg.schedule.fixedOverheadBlocks, 'cost of one split, in KV blocks'),
      ],
      arrays: [],
    },
  ];

  // mathSchedule 'transposed': S^T = K Q^T has the K tile as A and Q as B; O^T = V^T P^T reads V as A, MN-major,
  // one 64-column block per M tile, and P^T (query rows x keys, K-major) as B.
  function transposedWgmmaSection(): PlanSection {
    return {
      dsl: 'wgmma',
      constants: [
        constant('QK_N', qkN, "S^T's N: the CTA's query rows", 'BLOCK_M'),
        ...qkSteps,
        constant('QK_ACC', accumulatorRegs(qk), '64 keys x BLOCK_M rows fp32 over 128 threads', 'BLOCK_N * BLOCK_M / 128'),
        constant('QK_A_DESC', encodeDescriptor(descriptorFor(kvTile, 'K')), `K K-major ${kvTile.swizzle}: SBO 8 rows x span`, undefined, 'uint64_t'),
        constant('QK_B_DESC', encodeDescriptor(descriptorFor(qTile, 'K')), `Q K-major ${qTile.swizzle}: SBO 8 rows x span`, undefined, 'uint64_t'),
        constant('ROWS_PER_THREAD', blockM / 4, 'query rows of a thread in the S^T and O^T fragments: 8 j + 2 (lane % 4) + c', 'BLOCK_M / 4'),
        constant('PV_M_TILES', pvMTiles, "O^T's wgmma M tiles: 64 dv columns each, one column block", 'D_V / COL_BLOCK_ELEMS'),
        pvSteps,
        constant('PV_ACC', pvAcc, '64 dv x BLOCK_M rows fp32 over 128 threads, per M tile', 'COL_BLOCK_ELEMS * BLOCK_M / 128'),
        constant('PV_A_DESC', encodeDescriptor(descriptorFor(kvTile, 'MN')), `V MN-major ${kvTile.swizzle}: SBO 8 rows`, undefined, 'uint64_t'),
        constant('PV_B_DESC', encodeDescriptor(descriptorFor(pTile, 'K')), `P^T K-major ${pTile.swizzle}`, undefined, 'uint64_t'),
      ],
      arrays: [
        { name: 'QK_A_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(kvTile, 'K', p.dQk, k), why: 'byte offset of each k-step in the K tile' },
        { name: 'QK_B_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(qTile, 'K', p.dQk, k), why: 'byte offset of each k-step in the Q tile' },
        { name: 'PV_A_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(kvTile, 'MN', blockN, k), why: 'byte offset of each k-step (16 key rows) in the V tile' },
        { name: 'PV_B_K_OFFSETS', type: 'uint32_t', values: kStepOffsets(pTile, 'K', blockN, k), why: 'byte offset of each k-step in the P^T tile' },
      ],
    };
  }

  const id = variantId(cfg);
  return {
    variantId: id,
    kernelName: `${id}_kernel`,
    config: cfg,
    types: {
      q: DTYPE_CUDA[p.qDtype].cType,
      math: DTYPE_CUDA[dt].cType,
      kv: DTYPE_CUDA[p.kvDtype].cType,
      out: DTYPE_CUDA[p.outDtype].cType,
      qAbi: DTYPE_CUDA[p.qDtype].abi,
      kvAbi: DTYPE_CUDA[p.kvDtype].abi,
      outAbi: DTYPE_CUDA[p.outDtype].abi,
    },
    sections,
    wgmma: shapes.map((sh) => ({ ...sh, ...wgmmaWrapper(sh), dslPath: `${ROOT} > wgmma > ${sh.name}` })),
    tma: cpAsync ? [] : [kvBox],
    smem,
    mbarriers,
    namedBarriers: named,
    roles,
    schedule: { ...cfg.schedule },
    resources: {
      threads,
      smemBytes: smem.totalBytes,
      smemLimit: smem.limit,
      entryRegisterCap: entryRegisterCap(threads),
      registerBudget: roles.reduce((n, r) => n + r.warpgroups * 128 * r.maxRegisters, 0),
      namedBarriers: named.length,
      mbarriers: mbarriers.reduce((n, b) => n + b.count, 0),
    },
    build: { allowSpills: cfg.allowSpills, allowLocalMemory: cfg.allowSpills, allowSerializedWgmma: false, nvccFlags: ['-std=c++17', '-O3'] },
  };
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

