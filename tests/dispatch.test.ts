import { describe, expect, it } from 'vitest';
import { CATALOGUE, DISPATCH_POLICY } from '../dsl/catalogue.ts';
import { dispatchRules, policyFromTuning } from '../dsl/dispatch.ts';
import { pageMultipleOf } from '../dsl/kernels/mlaDecode.ts';
import { dslErrorMessages } from '../dsl/errors.ts';

const messages = (f: () => unknown): string[] => {
  try {
    f();
    return [];
  } catch (e) {
    const messages = dslErrorMessages(e);
    if (!messages) throw e;
    return messages;
  }
};

describe('dispatch rules', () => {
  it('route every dtype, page size and row count of the catalogue to exactly one variant', () => {
    const rules = dispatchRules(CATALOGUE, DISPATCH_POLICY);
    const groups = [...new Set(CATALOGUE.map((v) => `${v.problem.qDtype}/${v.problem.kvDtype}/${v.problem.pageSize}/${pageMultipleOf(v)}`))];
    expect(groups.sort()).toEqual([
      'bf16/bf16/0/1', 'bf16/bf16/0/64', 'bf16/bf16/16/0', 'bf16/bf16/64/0',
      'bf16/fp8_e4m3/0/64', 'bf16/fp8_e4m3/64/0',
      'fp16/fp16/0/1', 'fp16/fp16/0/64', 'fp16/fp16/16/0', 'fp16/fp16/64/0',
      'fp16/fp8_e4m3/0/64', 'fp16/fp8_e4m3/64/0',
    ]);
    for (const group of groups) {
      const [dtype, kvDtype, page, multiple] = group.split('/').map((x, i) => (i < 2 ? x : Number(x))) as [string, string, number, number];
      for (let rows = 1; rows <= 16384; ++rows) {
        const hits = rules.filter(
          (r) => r.dtype === dtype && r.kvDtype === kvDtype && r.pageSize === page && r.pageMultiple === multiple && rows >= r.rows.min && rows <= r.rows.max,
        );
        expect(hits.length, `${group} rows ${rows}`).toBe(1);
        expect(hits[0]!.variantId, group).toContain(`_p${page === 0 ? 'any' : page}_`);
        expect(hits[0]!.variantId, group).toContain(`_kv${kvDtype}_`);
      }
    }
    const at = (page: number, rows: number, multiple = 0, kvDtype = 'bf16') =>
      rules.find((r) => r.dtype === 'bf16' && r.kvDtype === kvDtype && r.pageSize === page && r.pageMultiple === multiple && rows >= r.rows.min && rows <= r.rows.max)!;
    // Few rows: the transposed schedule (16 rows a CTA) where the group has it, split-n above.
    expect(at(64, 1).variantId).toBe('mla_sm90_bf16_kvbf16_p64_m16n64_st2_c1tr');
    expect(at(64, 16).variantId).toBe('mla_sm90_bf16_kvbf16_p64_m16n64_st2_c1tr');
    expect(at(64, 17).variantId).toMatch(/_c2sn$/);
    expect(at(64, 17).why).toContain('no transposed variant of 32 rows for bf16 > page 64: split-n');
    expect(at(64, 64).variantId).toMatch(/_c2sn$/);
    expect(at(64, 65).variantId).toMatch(/_c2ss$/);
    // 16-token pages have split-n only: it serves every row count, and the rule says why.
    expect(at(16, 256).variantId).toMatch(/_p16_.*_c2sn$/);
    expect(at(16, 256).why).toContain('no seesaw variant for pages of 16 tokens: split-n');
    // Page sizes given at launch: multiples of 64 through TMA, both schedules; any other through the cp.async loader.
    expect(at(0, 1, 64).variantId).toBe('mla_sm90_bf16_kvbf16_pany_m16n64_st2_c1tr_r48x232');
    expect(at(0, 17, 64).variantId).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn');
    expect(at(0, 256, 64).variantId).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2ss');
    expect(at(0, 1, 1).variantId).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn_ldca');
    expect(at(0, 4096, 1).variantId).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn_ldca');
    // An fp8 cache: split-n at every row count (there is no fp8 seesaw), bf16 queries computed in fp16.
    expect(at(64, 256, 0, 'fp8_e4m3').variantId).toBe('mla_sm90_bf16_kvfp8_e4m3_p64_m64n64_st2_c2sn_r64x216_mf16');
    expect(at(64, 256, 0, 'fp8_e4m3').why).toContain('no seesaw variant for a fp8_e4m3 cache: split-n');
    expect(at(0, 33, 64, 'fp8_e4m3').variantId).toBe('mla_sm90_bf16_kvfp8_e4m3_pany_m64n64_st2_c2sn_r64x216_mf16');
    // An fp8 cache up to 32 rows: transposed, 16 then 32 rows a CTA.
    expect(at(64, 16, 0, 'fp8_e4m3').variantId).toBe('mla_sm90_bf16_kvfp8_e4m3_p64_m16n64_st2_c1tr_r72x232_mf16');
    expect(at(64, 17, 0, 'fp8_e4m3').variantId).toBe('mla_sm90_bf16_kvfp8_e4m3_p64_m32n64_st2_c1tr_r72x232_mf16');
    expect(at(0, 32, 64, 'fp8_e4m3').variantId).toBe('mla_sm90_bf16_kvfp8_e4m3_pany_m32n64_st2_c1tr_r72x232_mf16');
    // The default page size comes first (check and bench use the first route); within a dtype the fixed pages, then
    // the multiples of 64, then any: the library takes the first route that matches.
    expect(rules[0]!.pageSize).toBe(64);
    for (const dtype of ['bf16', 'fp16'] as const)
      for (const kvDtype of [dtype, 'fp8_e4m3'] as const) {
        const order = rules.filter((r) => r.dtype === dtype && r.kvDtype === kvDtype).map((r) => (r.pageMultiple === 0 ? 0 : r.pageMultiple === 1 ? 2 : 1));
        expect(order, `${dtype}/${kvDtype}`).toEqual([...order].sort((a, b) => a - b));
      }
    // What the library's first match picks (dispatch.cu's serves_page), page by page.
    const route = (page: number, rows: number) =>
      rules.find((r) => r.dtype === 'bf16' && r.kvDtype === 'bf16' && (r.pageSize === page || (r.pageMultiple > 0 && page % r.pageMultiple === 0)) && rows >= r.rows.min && rows <= r.rows.max)!.variantId;
    expect(route(64, 16)).toBe('mla_sm90_bf16_kvbf16_p64_m16n64_st2_c1tr');
    expect(route(64, 32)).toBe('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn');
    expect(route(128, 256)).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2ss');
    expect(route(192, 16)).toBe('mla_sm90_bf16_kvbf16_pany_m16n64_st2_c1tr_r48x232');
    expect(route(192, 64)).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn');
    expect(route(32, 16)).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn_ldca');
    expect(route(1, 256)).toBe('mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn_ldca');
  });

  it('reject gaps and schedules the catalogue lacks, naming the dtype and page size', () => {
    expect(messages(() => dispatchRules(CATALOGUE, [{ rows: { min: 1, max: 64 }, mathSchedule: 'split-n', why: '' }]))).toEqual([
      'dispatch > bf16 > page 64 > rows: rows 65..16384 are served by no rule',
      'dispatch > bf16 > page 16 > rows: rows 65..16384 are served by no rule',
      'dispatch > bf16 > page 64n > rows: rows 65..16384 are served by no rule',
      'dispatch > bf16 > page any > rows: rows 65..16384 are served by no rule',
      'dispatch > fp16 > page 64 > rows: rows 65..16384 are served by no rule',
      'dispatch > fp16 > page 16 > rows: rows 65..16384 are served by no rule',
      'dispatch > fp16 > page 64n > rows: rows 65..16384 are served by no rule',
      'dispatch > fp16 > page any > rows: rows 65..16384 are served by no rule',
      'dispatch > bf16 > kv fp8_e4m3 > page 64 > rows: rows 65..16384 are served by no rule',
      'dispatch > bf16 > kv fp8_e4m3 > page 64n > rows: rows 65..16384 are served by no rule',
      'dispatch > fp16 > kv fp8_e4m3 > page 64 > rows: rows 65..16384 are served by no rule',
      'dispatch > fp16 > kv fp8_e4m3 > page 64n > rows: rows 65..16384 are served by no rule',
    ]);
    expect(messages(() => dispatchRules(CATALOGUE, [
      { rows: { min: 1, max: 32 }, mathSchedule: 'split-n', why: '' },
      { rows: { min: 40, max: 512 }, mathSchedule: 'seesaw', why: '' },
    ]))).toContain('dispatch > bf16 > page 64 > rows: seesaw starts at 40, but rows 33.. are not covered (or covered twice)');
    const onlySplitN = CATALOGUE.filter((v) => v.mathSchedule === 'split-n' && v.problem.kvDtype !== 'fp8_e4m3');
    expect(messages(() => dispatchRules(onlySplitN, DISPATCH_POLICY))).toContain(
      'dispatch > bf16 > seesaw: no catalogue variant has this schedule for bf16',
    );
    const onePage = CATALOGUE.filter((v) => v.problem.pageSize === 64);
    expect(messages(() => dispatchRules(onePage, [{ rows: { min: 1, max: 64 }, mathSchedule: 'split-n', why: '' }]))).toContain(
      'dispatch > bf16 > rows: rows 65..16384 are served by no rule',
    );
    // A variant of 16 rows a CTA agrees with the metadata (planned for 64) only while one CTA holds all the rows.
    expect(messages(() => dispatchRules(CATALOGUE, [
      { rows: { min: 1, max: 64 }, mathSchedule: 'transposed', blockM: 16, why: '' },
      { rows: { min: 65, max: 1 << 20 }, mathSchedule: 'seesaw', why: '' },
    ]))).toContain(
      'dispatch > mla_sm90_bf16_kvbf16_p64_m16n64_st2_c1tr > rows: routed for rows 1..64, but with 16 rows per CTA (the metadata plans 64) it may take at most 16',
    );
  });
});

describe('routing from a tuning table', () => {
  const table = (rows: Record<number, [number, number]>) => ({
    gpu: 'H',
    variants: {
      sn: { mathSchedule: 'split-n', 'schedule.fixedOverheadBlocks': 5 },
      ss: { mathSchedule: 'seesaw', 'schedule.fixedOverheadBlocks': 5 },
      ss8: { mathSchedule: 'seesaw', 'schedule.fixedOverheadBlocks': 8 },
    },
    entries: Object.entries(rows).map(([r, [sn, ss]]) => ({
      bucket: { dtype: 'bf16', rows: Number(r) },
      best: { variantId: 'ss8', us: Math.min(sn, ss) / 2 },
      runnersUp: [
        { variantId: 'sn', us: sn },
        { variantId: 'ss', us: ss },
      ],
    })),
  });

  it('gives the seesaw the buckets where it wins beyond the margin, split-n the rest, covering every row count', () => {
    const p = policyFromTuning(table({ 16: [100, 99.5], 32: [100, 97], 64: [100, 95], 256: [100, 88] }), 5, DISPATCH_POLICY);
    expect(p.map((x) => [x.rows.min, x.rows.max, x.mathSchedule])).toEqual([
      [1, 16, 'split-n'],
      [17, 1 << 20, 'seesaw'],
    ]);
    expect(p[1]!.why).toContain('at 32 rows the seesaw is 3.1 % faster');
    // Variants of another split-KV fixed cost (ss8) never decide: one dispatcher shares one schedule.
    expect(dispatchRules(CATALOGUE, p).find((r) => r.rows.min === 17)!.variantId).toMatch(/_c2ss$/);
  });

  it('reads the default of a bucket even when it ranks below the four runners-up', () => {
    const t = {
      gpu: 'H',
      variants: { sn: { mathSchedule: 'split-n' }, ss: { mathSchedule: 'seesaw' }, x: { mathSchedule: 'seesaw', 'schedule.fixedOverheadBlocks': 8 } },
      entries: [
        {
          bucket: { dtype: 'bf16', rows: 256 },
          best: { variantId: 'ss', us: 80 },
          runnersUp: [{ variantId: 'x', us: 81 }],
          default: { variantId: 'sn', us: 100 },
        },
      ],
    };
    const p = policyFromTuning(t, 5, DISPATCH_POLICY);
    expect(p).toHaveLength(1);
    expect(p[0]!.mathSchedule).toBe('seesaw');
    expect(p[0]!.why).toContain('at 256 rows the seesaw is 25.0 % faster');
  });

  it('falls back when the table has no comparable times', () => {
    expect(policyFromTuning({ gpu: 'H', variants: {}, entries: [] }, 5, DISPATCH_POLICY)).toEqual(DISPATCH_POLICY);
  });
});
