import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../dsl/config.ts';
import { dslErrorMessages } from '../../dsl/errors.ts';
import { DEFAULT_MLA_DECODE, lowerMlaDecode, pageMultipleOf, variantId, widenSyncBlocks } from '../../dsl/kernels/mlaDecode.ts';
import { CATALOGUE } from '../../dsl/catalogue.ts';
import { assertUniqueIds } from '../../dsl/render/generate.ts';
import { parseSpaceJson, pruneSpace } from '../../dsl/tune/space.ts';

/** The messages a config is rejected with ([] when it lowers). */
function rejection(partial: object): string[] {
  try {
    lowerMlaDecode(resolveConfig(partial as never));
    return [];
  } catch (e) {
    const messages = dslErrorMessages(e);
    if (!messages) throw e;
    return messages;
  }
}

/** The rendered constant `name` of a config's plan (undefined when the plan has none). */
const constantOf = (partial: object, name: string) =>
  lowerMlaDecode(resolveConfig(partial as never)).sections.flatMap((s) => s.constants).find((k) => k.name === name);

/** The rendered array `name` of a config's plan. */
const arrayOf = (partial: object, name: string) =>
  lowerMlaDecode(resolveConfig(partial as never)).sections.flatMap((s) => s.arrays).find((a) => a.name === name);

describe('mlaDecode lowering', () => {
  it('lowers the default to a plan that fits the SM', () => {
    const plan = lowerMlaDecode(DEFAULT_MLA_DECODE);
    expect(plan.variantId).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn');
    expect(variantId(DEFAULT_MLA_DECODE)).toBe(plan.variantId);
    expect(plan.resources).toMatchObject({ threads: 384, entryRegisterCap: 168, registerBudget: 64512 });
    expect(plan.resources.smemBytes).toBeLessThanOrEqual(232448);
    // Buffers never overlap and respect their alignment.
    const bufs = [...plan.smem.buffers].sort((a, b) => a.offset - b.offset);
    for (let i = 0; i < bufs.length; ++i) {
      expect(bufs[i]!.offset % bufs[i]!.alignment).toBe(0);
      if (i > 0) expect(bufs[i]!.offset).toBeGreaterThanOrEqual(bufs[i - 1]!.offset + bufs[i - 1]!.bytes);
    }
    const full = plan.mbarriers.find((b) => b.name === 'kvFull')!;
    expect(full).toMatchObject({ count: 2, arrivals: 1, txBytes: 64 * 576 * 2 });
    expect(plan.mbarriers.find((b) => b.name === 'kvEmpty')).toMatchObject({ count: 2, arrivals: 8 });
  });

  it('splits a page smaller than the KV step into several TMA boxes', () => {
    const plan = lowerMlaDecode(resolveConfig({ problem: { pageSize: 16 } }));
    const kv = plan.tma[0]!;
    expect(kv.box).toEqual([64, 16, 1]);
    const tma = plan.sections.find((s) => s.dsl === 'tma.kv')!.constants;
    expect(tma.find((c) => c.name === 'KV_ROW_BOXES')!.value).toBe('4');
  });

  // A KV step of 32 keys rendered with Q's offsets in K (one shared table) and a 128 B P span: every check
  // failed on the H100 (docs/perf/kernel-versions.md, session 8). Q and K now have a table each, P its own span.
  it('gives Q and a KV step narrower than it their own k-step offsets, and P its own swizzle span', () => {
    const n32 = { tile: { blockN: 32 }, schedule: { blockN: 32 }, kvStages: 4 };
    // k-step 4 opens the second 64-column block: BLOCK_M = 64 rows x 128 B into Q, BLOCK_N = 32 rows x 128 B into K.
    expect(arrayOf(n32, 'QK_A_K_OFFSETS')!.values.slice(3, 6)).toEqual([96, 8192, 8224]);
    expect(arrayOf(n32, 'QK_B_K_OFFSETS')!.values.slice(3, 6)).toEqual([96, 4096, 4128]);
    expect([constantOf(n32, 'P_SPAN_BYTES')!.value, constantOf(n32, 'P_SWIZZLE_BITS')!.value]).toEqual(['64', '2']);
    expect(constantOf({ tile: { blockN: 16 }, schedule: { blockN: 16 }, kvStages: 6 }, 'P_SPAN_BYTES')!.value).toBe('32');
    expect(arrayOf({}, 'QK_A_K_OFFSETS')!.values).toEqual(arrayOf({}, 'QK_B_K_OFFSETS')!.values);
    expect(constantOf({}, 'P_SPAN_BYTES')!.value).toBe('128');
  });

  it('takes any page size with the cp.async loader, not for the seesaw', () => {
    for (const pageSize of [1, 3, 48, 100]) expect(rejection({ kvLoader: 'cp.async', problem: { pageSize } }), `page ${pageSize}`).toEqual([]);
    expect(rejection({ problem: { pageSize: 3 } })).toEqual([
      "mlaDecode > problem > pageSize: 3 does not divide the KV step tile.blockN = 64 (nor is a multiple of it); pages smaller than the step must be multiples of 8 rows (kvLoader 'cp.async' takes any page size)",
    ]);
    expect(rejection({ kvLoader: 'cp.async', mathSchedule: 'seesaw' })).toEqual([
      "mlaDecode > kvLoader: 'cp.async' serves split-n and transposed only: the seesaw refills each stage in parts, through TMA",
    ]);
    expect(rejection({ kvLoader: 'bulk' })).toEqual(["mlaDecode > kvLoader: 'bulk' is not one of 'tma', 'cp.async'"]);
    expect(rejection({ kvLoader: 'cp.async', l2Hint: 'evict_first' })).toEqual([
      "mlaDecode > l2Hint: 'evict_first' is a TMA load policy: kvLoader 'cp.async' copies with the default one ('auto')",
    ]);
    const plan = lowerMlaDecode(resolveConfig({ kvLoader: 'cp.async', problem: { pageSize: 1 } }));
    expect(plan.tma).toEqual([]);
    expect(plan.sections.map((s) => s.dsl)).not.toContain('tma.kv');
    // Full counts one arrival per copying thread and no bytes; no staging barrier (cp.async zero-fills the tail rows).
    expect(plan.mbarriers.map((b) => [b.name, b.arrivals, b.txBytes])).toEqual([
      ['kvFull', 128, 0],
      ['kvEmpty', 8, 0],
    ]);
    expect(lowerMlaDecode(DEFAULT_MLA_DECODE).mbarriers.map((b) => b.name)).toEqual(['kvFull', 'kvEmpty', 'kvStaging']);
    expect(constantOf({ kvLoader: 'cp.async' }, 'KV_FULL_ARRIVALS')!.value).toBe('128');
    expect(constantOf({}, 'KV_FULL_ARRIVALS')!.value).toBe('1');
    expect(constantOf({ kvLoader: 'cp.async', tile: { blockN: 32 }, kvStages: 4 }, 'KV_CHUNKS_PER_THREAD')!.value).toBe('18');
  });

  it('takes the page size at launch (pageSize 0): any with cp.async, multiples of the KV step with TMA', () => {
    expect(rejection({ kvLoader: 'cp.async', problem: { pageSize: 0 } })).toEqual([]);
    expect(rejection({ problem: { pageSize: 0 } })).toEqual([]);
    expect(rejection({ mathSchedule: 'seesaw', problem: { pageSize: 0 } })).toEqual([]);
    expect(lowerMlaDecode(resolveConfig({ problem: { pageSize: 0 } })).variantId).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn');
    // TMA: a box is one step of one page.
    expect(constantOf({ problem: { pageSize: 0 } }, 'KV_BOX_ROWS')!.value).toBe('64');
    expect(constantOf({ problem: { pageSize: 0 } }, 'KV_ROW_BOXES')!.value).toBe('1');
    expect(pageMultipleOf(resolveConfig({ problem: { pageSize: 0 } }))).toBe(64);
    expect(pageMultipleOf(resolveConfig({ problem: { pageSize: 0 }, tile: { blockN: 32 } }))).toBe(32);
    expect(pageMultipleOf(resolveConfig({ kvLoader: 'cp.async', problem: { pageSize: 0 } }))).toBe(1);
    expect(pageMultipleOf(resolveConfig({ problem: { pageSize: 128 } }))).toBe(0);
    expect(rejection({ kvLoader: 'cp.async', problem: { pageSize: -1 } })).toEqual([
      'mlaDecode > problem > pageSize: -1 must be a positive integer, or 0: any page size, given at launch',
    ]);
    const any = lowerMlaDecode(resolveConfig({ kvLoader: 'cp.async', problem: { pageSize: 0 } }));
    expect(any.variantId).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn_ldca');
    expect(constantOf({ kvLoader: 'cp.async', problem: { pageSize: 0 } }, 'PAGE_SIZE')!.value).toBe('0');
  });

  it('rejects a P row wider than one swizzle span, naming the field', () => {
    expect(rejection({ tile: { blockN: 128 }, schedule: { blockN: 128 }, kvStages: 1, problem: { pageSize: 128 } })).toContain(
      'mlaDecode > tile > blockN: 128 keys of bf16 make a 256 B row of P: the templates keep a P row within one 128 B swizzle span',
    );
  });

  it('rejects an smem plan over budget, naming the plan and the limit', () => {
    expect(rejection({ kvStages: 3 })).toMatchInlineSnapshot(`
      [
        "mlaDecode > smemPlan > total: 305192 B > 232448 B available (q 73728 + kv 221184 + p 8192 + rowMax 512 + rowSum 512 + kvFull 24 + kvEmpty 24 + kvStaging 8 + 1008 alignment slack)",
      ]
    `);
  });

  it('rejects a wgmma N that is not a multiple of 8', () => {
    const msgs = rejection({ tile: { blockN: 40 }, schedule: { blockN: 40 }, problem: { pageSize: 8 } });
    expect(msgs).toContain('mlaDecode > wgmma > qk > n: expects 8 <= N <= 256 and N % 8 == 0, got 20');
    expect(msgs).toContain('mlaDecode > wgmma > pv > k: tile.blockN 40 keys are not a whole number of k16 steps');
  });

  it('rejects a page size that does not divide the KV step', () => {
    expect(rejection({ problem: { pageSize: 48 } })).toMatchInlineSnapshot(`
      [
        "mlaDecode > problem > pageSize: 48 does not divide the KV step tile.blockN = 64 (nor is a multiple of it); pages smaller than the step must be multiples of 8 rows (kvLoader 'cp.async' takes any page size)",
      ]
    `);
    expect(rejection({ problem: { pageSize: 128 } })).toEqual([]);
  });

  it('rejects register budgets setmaxnreg cannot take', () => {
    expect(rejection({ registers: { consumer: 250 } })).toEqual([
      'mlaDecode > registers > roles[0:consumer] > maxRegisters: setmaxnreg expects a multiple of 8 in 24..256, got 250',
      'mlaDecode > registers > registers: roles ask for 69120 registers (sum of warpgroups x 128 x maxRegisters) > 64512 the CTA holds (168 at entry x 384 threads); setmaxnreg.inc would wait forever',
    ]);
    // 65536 fit the SM, but the CTA was launched with 168 x 384 = 64512: the consumers' setmaxnreg.inc
    // would wait forever (this hung on the H100 before the model knew it).
    expect(rejection({ registers: { consumer: 232, producer: 48 } })).toEqual([
      'mlaDecode > registers > registers: roles ask for 65536 registers (sum of warpgroups x 128 x maxRegisters) > 64512 the CTA holds (168 at entry x 384 threads); setmaxnreg.inc would wait forever',
    ]);
    expect(rejection({ registers: { consumer: 240, producer: 24 } })).toEqual([]);
  });

  it('reports several problems at once', () => {
    const msgs = rejection({ problem: { dQk: 500, hKv: 2, qDtype: 'fp32' } });
    expect(msgs).toEqual([
      'mlaDecode > problem > dQk: 500 must be a positive multiple of 64',
      'mlaDecode > problem > dV: 512 > dQk 500: V is a prefix of the cached K row',
      'mlaDecode > problem > hKv: 2 is not supported: MLA decode caches one latent head (hKv = 1)',
      'mlaDecode > problem > qDtype: fp32 is not supported: bf16 or fp16',
      'mlaDecode > problem > outDtype: bf16 must equal qDtype fp32',
      'mlaDecode > problem > kvDtype: bf16 must equal qDtype fp32 or be fp8_e4m3',
    ]);
  });

  it('lowers an FP8 KV cache for split-n with TMA: stages in the math dtype, the step landing in their upper half', () => {
    const fp8 = { problem: { kvDtype: 'fp8_e4m3' }, registers: { producer: 64, consumer: 216 } };
    const plan = lowerMlaDecode(resolveConfig(fp8 as never));
    expect(plan.variantId).toBe('mla_sm90_bf16_kvfp8_e4m3_p64_m64n64_st2_c2sn_r64x216');
    expect(plan.types).toMatchObject({ q: '__nv_bfloat16', kv: '__nv_fp8_e4m3', kvAbi: 'MLAGEN_FP8_E4M3' });
    const value = (name: string) => Number(constantOf(fp8, name)!.value);
    expect([value('ELEM_BYTES'), value('KV_CACHE_ELEM_BYTES'), value('KV_STAGE_BYTES')]).toEqual([2, 1, 64 * 576 * 2]);
    // The step's 64 x 576 fp8 bytes end where the stage ends; 9 column blocks widen in order, the threads meeting from block 4.
    expect([value('KV_LAND_BYTES'), value('KV_LAND_OFFSET'), value('KV_LAND_ROW_BYTES'), value('KV_LAND_BLOCK_BYTES')]).toEqual([36864, 36864, 64, 4096]);
    // Widened block cb overwrites landed blocks up to 2 cb - 8; reading one block ahead, the threads meet before blocks 4 and 7.
    expect([value('WIDEN_CHUNKS_PER_THREAD'), value('WIDEN_SYNC_BLOCKS'), value('KV_BOX_BYTES'), value('KV_ROW_TX_BYTES')]).toEqual([2, (1 << 4) | (1 << 7), 4096, 36864]);
    // One block overwrites its own landing; two: the second overwrites both; five: block 2 overwrites landed 0 (read by
    // all at its meeting, with 3 read ahead), block 4 overwrites 3 and 4.
    expect([1, 2, 4, 5, 8, 9].map(widenSyncBlocks)).toEqual([0b1, 0b10, 0b100, 0b10100, 0b10010000, 0b10010000]);
    expect(plan.tma[0]).toMatchObject({ dtype: 'fp8_e4m3', box: [64, 64, 1], swizzle: 'none' });
    // full: one arrival per producer warp; landed: the TMA bytes of a step; no staging barrier (the widening zeroes rows).
    expect(plan.mbarriers.map((b) => [b.name, b.count, b.arrivals, b.txBytes])).toEqual([
      ['kvFull', 2, 4, 0],
      ['kvEmpty', 2, 8, 0],
      ['kvLanded', 2, 1, 36864],
    ]);
    expect(plan.namedBarriers.find((b) => b.name === 'LandedRead')).toMatchObject({ id: 5, threads: 128 });
    // fp16 queries widen to fp16; 16-token pages land four boxes a step.
    expect(lowerMlaDecode(resolveConfig({ ...fp8, problem: { kvDtype: 'fp8_e4m3', qDtype: 'fp16', outDtype: 'fp16' } } as never)).variantId).toBe(
      'mla_sm90_fp16_kvfp8_e4m3_p64_m64n64_st2_c2sn_r64x216',
    );
    expect(Number(constantOf({ problem: { kvDtype: 'fp8_e4m3', pageSize: 16 }, registers: { producer: 72, consumer: 216 } }, 'KV_ROW_BOXES')!.value)).toBe(4);
  });

  it("computes an FP8 cache with bf16 queries in fp16 where asked (mathDtype 'fp16'), and nowhere else", () => {
    const cfg = { problem: { kvDtype: 'fp8_e4m3' }, mathDtype: 'fp16', registers: { producer: 64, consumer: 216 } };
    const plan = lowerMlaDecode(resolveConfig(cfg as never));
    expect(plan.variantId).toBe('mla_sm90_bf16_kvfp8_e4m3_p64_m64n64_st2_c2sn_r64x216_mf16');
    expect(plan.types).toMatchObject({ q: '__nv_bfloat16', math: '__half', kv: '__nv_fp8_e4m3', out: '__nv_bfloat16' });
    expect(plan.wgmma.map((w) => w.dtype)).toEqual(['fp16', 'fp16']);
    expect(plan.smem.buffers.find((b) => b.name === 'q')!.holds).toContain('fp16');
    // Every other variant computes in its own dtype.
    expect(lowerMlaDecode(DEFAULT_MLA_DECODE).types.math).toBe('__nv_bfloat16');
    expect(rejection({ mathDtype: 'fp16' })).toEqual([
      "mlaDecode > mathDtype: 'fp16' serves an fp8_e4m3 cache with bf16 queries (here bf16 with bf16): other caches hold their own math dtype",
    ]);
    expect(rejection({ ...cfg, problem: { kvDtype: 'fp8_e4m3', qDtype: 'fp16', outDtype: 'fp16' } })).toEqual([
      "mlaDecode > mathDtype: 'fp16' serves an fp8_e4m3 cache with bf16 queries (here fp8_e4m3 with fp16): other caches hold their own math dtype",
    ]);
    expect(rejection({ mathDtype: 'fp32' })).toEqual(["mlaDecode > mathDtype: 'fp32' is not one of 'query', 'fp16'"]);
  });

  it('refuses an FP8 KV cache where nothing widens it, naming the field', () => {
    expect(rejection({ problem: { kvDtype: 'fp8_e4m3' } })).toEqual([
      'mlaDecode > registers > producer: 40: the producer widens fp8_e4m3 steps and needs at least 64 registers (e.g. producer 64, consumer 216)',
    ]);
    // Pages smaller than the step hold a page per box in the producer: more registers.
    expect(rejection({ problem: { kvDtype: 'fp8_e4m3', pageSize: 16 }, registers: { producer: 64, consumer: 216 } })).toEqual([
      'mlaDecode > registers > producer: 64: the producer widens fp8_e4m3 steps and needs at least 72 registers (e.g. producer 72, consumer 216)',
    ]);
    const regs = { registers: { producer: 64, consumer: 216 } };
    expect(rejection({ ...regs, mathSchedule: 'seesaw', problem: { kvDtype: 'fp8_e4m3' } })).toEqual([
      'mlaDecode > problem > kvDtype: fp8_e4m3 is served by the split-n and transposed schedules only (their producer widens whole stages; the seesaw refills stages in parts)',
    ]);
    expect(rejection({ ...regs, kvLoader: 'cp.async', problem: { kvDtype: 'fp8_e4m3', pageSize: 0 } })).toEqual([
      "mlaDecode > kvLoader: 'cp.async': an fp8_e4m3 cache lands through TMA, then the producer warpgroup widens it",
    ]);
  });

  it("plans the transposed schedule: the rows are wgmma N, one consumer holds all of O^T", () => {
    const t = { mathSchedule: 'transposed', consumers: 1, tile: { blockM: 16, blockN: 64 } };
    const plan = lowerMlaDecode(resolveConfig(t));
    expect(plan.variantId).toBe('mla_sm90_bf16_kvbf16_p64_m16n64_st2_c1tr');
    expect(plan.wgmma.map((w) => [w.name, w.mnemonic, w.transA, w.transB, w.accRegs])).toEqual([
      ['qk', 'wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16', 0, 0, 8],
      ['pv', 'wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16', 1, 0, 8],
    ]);
    expect(plan.schedule.blockM).toBe(16);
    expect(plan.resources.threads).toBe(256);
    const c = (name: string) => plan.sections.flatMap((x) => x.constants).find((k) => k.name === name)?.value;
    expect([c('ROWS_PER_THREAD'), c('PV_M_TILES'), c('PV_ACC'), c('QK_ACC'), c('Q_TILE_BYTES')]).toEqual(['4', '8', '8', '8', '18432']);
    // A is the K tile for S^T (K-major) and the V tile for O^T (MN-major): the split-n B descriptors.
    const sn = lowerMlaDecode(resolveConfig({})).sections.flatMap((x) => x.constants);
    expect(c('QK_A_DESC')).toBe(sn.find((k) => k.name === 'QK_B_DESC')!.value);
    expect(c('PV_A_DESC')).toBe(sn.find((k) => k.name === 'PV_B_DESC')!.value);
    expect(plan.namedBarriers.map((b) => [b.name, b.threads])).toEqual([['QReady', 128], ['MaxReady', 128], ['PReady', 128], ['RowSumReady', 128]]);
  });

  it('refuses transposed configs it cannot render, naming the field', () => {
    const t = { mathSchedule: 'transposed', consumers: 1, tile: { blockM: 16, blockN: 64 } };
    expect(rejection({ ...t, tile: { blockM: 12, blockN: 64 } })).toContain(
      "mlaDecode > tile > blockM: 12 must be a multiple of 8 in 8..64: mathSchedule 'transposed' makes the query rows wgmma N",
    );
    expect(rejection({ ...t, tile: { blockM: 16, blockN: 32 } })).toContain(
      "mlaDecode > tile > blockN: 32 is not supported by mathSchedule 'transposed': a step's keys are S^T's wgmma M, 64",
    );
    expect(rejection({ ...t, consumers: 2 })).toEqual([
      "mlaDecode > consumers: 2 is not supported by mathSchedule 'transposed': one consumer warpgroup computes S^T and all of O^T",
    ]);
    expect(rejection({ tile: { blockM: 16, blockN: 64 } })).toContain(
      "mlaDecode > tile > blockM: 16 is not supported: wgmma M is 64 per warpgroup (mathSchedule 'transposed' takes fewer rows)",
    );
    // 64 rows: all of O^T (8 tiles x 32) does not fit one warpgroup's registers.
    expect(rejection({ ...t, tile: { blockM: 64, blockN: 64 } })).toContain(
      'mlaDecode > registers > consumer: 232 leaves too little room: O 8 x 32 + S 32 accumulators + row statistics 48 + ~40 for addressing',
    );
    // Shared memory is checked before anything renders: three stages of 16 rows do not fit.
    expect(rejection({ ...t, kvStages: 3 }).join('\n')).toMatch(/smemPlan > total: 243240 B > 232448 B available/);
    expect(rejection({ mathSchedule: 'diagonal' })).toContain("mlaDecode > mathSchedule: 'diagonal' is not one of 'split-n', 'seesaw', 'transposed'");
  });

  it('renders the L2 hint as the number the producer decodes, and rejects unknown hints', () => {
    const hint = (c: object) => constantOf(c, 'KV_L2_HINT')!.value;
    expect([hint({}), hint({ l2Hint: 'evict_first' }), hint({ l2Hint: 'evict_last' }), hint({ l2Hint: 'evict_normal' })]).toEqual(['0', '1', '2', '3']);
    // A forced policy is asserted against the device header's numbering in the generated code.
    const check = (c: object) => constantOf(c, 'KV_L2_HINT')!.check;
    expect([check({}), check({ l2Hint: 'evict_normal' })]).toEqual([undefined, 'mlagen::kL2EvictNormal']);
    expect(rejection({ l2Hint: 'evict_sometimes' })).toEqual([
      "mlaDecode > l2Hint: 'evict_sometimes' is not one of 'auto', 'evict_first', 'evict_last', 'evict_normal'",
    ]);
  });

  it('rejects seesaw choices outside their sets, naming the field', () => {
    expect(rejection({ mathSchedule: 'seesaw', seesawHandoff: 'barrier', qkOrder: 'random' })).toEqual([
      "mlaDecode > seesawHandoff: 'barrier' is not one of 'sync', 'arrive'",
      "mlaDecode > qkOrder: 'random' is not one of 'columns', 'arrival'",
    ]);
  });

  it('bounds the seesaw\'s rescale slack and renders it only for the seesaw', () => {
    const msg = (v: number) =>
      `mlaDecode > seesawRescaleSlack: ${v} must be an integer in 0..14 (log2 units: P <= 2^slack must fit the 16-bit P of the P.V product, fp16 included)`;
    expect(rejection({ mathSchedule: 'seesaw', seesawRescaleSlack: 15 })).toEqual([msg(15)]);
    expect(rejection({ mathSchedule: 'seesaw', seesawRescaleSlack: -1 })).toEqual([msg(-1)]);
    expect(rejection({ mathSchedule: 'seesaw', seesawRescaleSlack: 2.5 })).toEqual([msg(2.5)]);
    expect(rejection({ seesawRescaleSlack: 'lazy' })).toEqual(['mlaDecode > seesawRescaleSlack: expected a number, got "lazy"']);
    const slack = (c: object) => constantOf(c, 'RESCALE_SLACK_LOG2');
    expect(slack({ mathSchedule: 'seesaw' })).toMatchObject({ type: 'float', value: '8' });
    expect(slack({ mathSchedule: 'seesaw', seesawRescaleSlack: 0 })).toMatchObject({ value: '0' });
    expect(slack({})).toBeUndefined();
  });

  it('lowers the seesaw with its parts in the order they are released', () => {
    const arrays = (c: object) =>
      Object.fromEntries(lowerMlaDecode(resolveConfig(c as never)).sections.flatMap((s) => s.arrays.map((x) => [x.name, x.values])));
    // stage 0: L (consumer 0's P.V) then R; stage 1: R (consumer 1's P.V) then L.
    expect(arrays({ mathSchedule: 'seesaw' })['KV_PART_ORDER']).toEqual([0, 1, 1, 0]);
    expect(arrays({ mathSchedule: 'seesaw', qkOrder: 'columns' })['KV_PART_ORDER']).toEqual([0, 1, 0, 1]);
    expect(arrays({})['KV_PART_ORDER']).toEqual([0, 0]);
  });

  it('lets the schedule follow a user config\'s tile, and names both fields when they disagree', () => {
    expect(resolveConfig({ tile: { blockN: 32 } }).schedule).toMatchObject({ blockN: 32, blockM: 64 });
    expect(resolveConfig({ tile: { blockN: 32 }, schedule: { fixedOverheadBlocks: 10 } }).schedule).toMatchObject({ blockN: 32, fixedOverheadBlocks: 10 });
    expect(rejection({ tile: { blockN: 32 }, schedule: { blockN: 64 } })).toContain(
      'mlaDecode > schedule > blockN: 64 must equal tile.blockN 32: splits fall on KV steps',
    );
  });

  it('rejects unknown fields and wrong types in a user config', () => {
    expect(rejection({ tile: { blockK: 64 } })).toEqual([
      'mlaDecode > tile > blockK: unknown field (known: blockM, blockN)',
    ]);
    expect(rejection({ kvStages: 'two' })).toEqual(['mlaDecode > kvStages: expected a number, got "two"']);
    expect(rejection({ mathSchedule: 'seesaw', seesawSecondQk: 'after' })).toEqual([
      "mlaDecode > seesawSecondQk: 'after' is not one of 'early', 'queued', 'late'",
    ]);
  });
});

describe('variant ids', () => {
  it('spell the configuration in a fixed order, tunables only where they differ from the default', () => {
    const id = (over: object) => variantId(resolveConfig(over as never));
    expect(id({})).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn');
    expect(id({ mathSchedule: 'seesaw' })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss');
    expect(id({ schedule: { fixedOverheadBlocks: 3 }, registers: { producer: 24, consumer: 240 } })).toBe(
      'mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn_fo3_r24x240',
    );
    expect(id({ problem: { pageSize: 16 }, kvStages: 1, l2Hint: 'evict_first' })).toBe('mla_sm90_bf16_kvbf16_p16_m64n64_st1_c2sn_l2f');
    // 'auto' (the default) picks the L2 policy at launch; the forced policies are spelled out.
    expect(id({ l2Hint: 'evict_last' })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn_l2l');
    expect(id({ mathSchedule: 'seesaw', l2Hint: 'evict_normal' })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss_l2n');
    // seesaw knobs appear only on seesaw variants, and only where they differ from the default.
    expect(id({ mathSchedule: 'seesaw', seesawHandoff: 'sync', qkOrder: 'columns', seesawSecondQk: 'late' })).toBe(
      'mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss_qkl_hs_oc',
    );
    expect(id({ mathSchedule: 'seesaw', seesawSecondQk: 'early' })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss_qke');
    expect(id({ mathSchedule: 'seesaw', seesawRescaleSlack: 0 })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss_rs0');
    expect(id({ seesawRescaleSlack: 0 })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn');
    expect(id({ seesawHandoff: 'sync', qkOrder: 'columns' })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn');
  });

  it('spell the problem\'s fields that change the code, so that two problems never share an id', () => {
    const id = (problem: object) => variantId(resolveConfig({ problem } as never));
    expect(id({ dQk: 320, dV: 256 })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn_d320v256');
    expect(id({ hQ: { min: 1, max: 64 }, sQ: { min: 1, max: 2 } })).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn_hq1to64_sq1to2');
    // The causal mask and the softmax scale are per call, not part of a variant: naming them is an error.
    expect(rejection({ problem: { causal: false } })[0]).toMatch(/^mlaDecode > problem > causal: unknown field/);
    // A tune space over the problem keeps every point (ids are how it drops duplicates).
    expect(pruneSpace(parseSpaceJson({ params: { 'problem.dV': [256, 512] }, replace: true })).candidates).toHaveLength(2);
  });

  it('are unique across the catalogue, and a duplicate is an error naming both entries', () => {
    expect(() => assertUniqueIds(CATALOGUE.map(lowerMlaDecode))).not.toThrow();
    const twice = [DEFAULT_MLA_DECODE, DEFAULT_MLA_DECODE].map(lowerMlaDecode);
    expect(() => assertUniqueIds(twice)).toThrow('catalogue: entries 0 and 1 both lower to variant mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn');
  });
});
