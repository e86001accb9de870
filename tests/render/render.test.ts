import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../dsl/catalogue.ts';
import { lowerMlaDecode } from '../../dsl/kernels/mlaDecode.ts';
import { planHash } from '../../dsl/plan/kernelPlan.ts';
import { checkGenerated, renderCatalogue } from '../../dsl/render/generate.ts';
import { renderTemplate } from '../../dsl/render/handlebars.ts';
import { renderVariant } from '../../dsl/render/render.ts';

const plan = lowerMlaDecode(CATALOGUE[0]!);
const files = Object.fromEntries(renderVariant(plan).map((f) => [f.path, f.text]));
const decode = files['decode.cu']!;

describe('rendered decode.cu', () => {
  it('opens with the banner: variant, plan hash, regenerate command, the DSL', () => {
    const head = decode.split('\n').slice(0, 6).join('\n');
    expect(head).toContain(`variant:   ${plan.variantId}`);
    expect(head).toContain(`plan hash: ${planHash(plan)}`);
    expect(head).toContain('npx mlagen generate');
    expect(decode).toContain('//     "kvStages": 2,');
  });

  it('uses the Hopper machinery the plan asks for', () => {
    for (const needle of [
      'wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16',
      'wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16',
      'setmaxnreg_dec<PRODUCER_REGISTERS>',
      'setmaxnreg_inc<CONSUMER_REGISTERS>',
      'mlagen::tma_load_3d(',
      'mlagen::mbarrier_arrive_expect_tx(',
      'CU_TENSOR_MAP_SWIZZLE_128B',
      'mlagen_launch_combine<out_t, D_V>',
    ])
      expect(decode).toContain(needle);
  });

  it('prints every computed number as a named constexpr with its derivation, echoed by a static_assert', () => {
    expect(decode).toContain('constexpr int KV_STAGE_BYTES = 73728;  // 64 rows x 576 cols x 2 B');
    expect(decode).toContain('static_assert(KV_STAGE_BYTES == (BLOCK_N * D_QK * ELEM_BYTES)');
    expect(decode).toContain('constexpr uint64_t QK_A_DESC = 0x4000004000010000ull;');
    for (const section of plan.sections) expect(decode).toContain(`// ---- DSL: mlaDecode > ${section.dsl} ----`);
  });

  it('names barriers after what they mean', () => {
    expect(decode).toMatch(/kRowMaxReady = 2, {2}\/\/ 256 threads: both consumers published their S row maxima/);
  });

  it("orders the seesaw's second S = Q K^T as seesawSecondQk says", () => {
    const seesaw = (secondQk: string) =>
      renderVariant(lowerMlaDecode({ ...CATALOGUE[0]!, mathSchedule: 'seesaw', seesawSecondQk: secondQk as never })).find(
        (f) => f.path === 'decode.cu',
      )!.text;
    const queued = seesaw('queued');
    // consumer 0 arrives once S_A is issued, before it waits for S_A; consumer 1 waits there before S_B.
    expect(queued).toContain('kQkAQueued = 7,');
    const c0 = queued.slice(queued.indexOf('void pair_c0('), queued.indexOf('void pair_c1('));
    expect(c0.indexOf('named_barrier_arrive(kQkAQueued')).toBeGreaterThan(c0.indexOf('issue_qk<0>('));
    expect(c0.indexOf('named_barrier_arrive(kQkAQueued')).toBeLessThan(c0.indexOf('wgmma_wait<0>'));
    const c1 = queued.slice(queued.indexOf('void pair_c1('));
    expect(c1.indexOf('take(kQkAQueued)')).toBeLessThan(c1.indexOf('issue_qk<1>('));
    for (const other of ['early', 'late']) expect(seesaw(other)).not.toContain('kQkAQueued');
  });

  it('renders the fp16 variant with fp16 types and instructions', () => {
    const fp16 = renderVariant(lowerMlaDecode(CATALOGUE[1]!)).find((f) => f.path === 'decode.cu')!.text;
    expect(fp16).toContain('using q_t = __half;');
    expect(fp16).toContain('.f32.f16.f16');
    expect(fp16).not.toContain('bf16.bf16');
  });
});

describe('rendered decode.cu with kvLoader cp.async', () => {
  const ca = lowerMlaDecode({ ...CATALOGUE[0]!, kvLoader: 'cp.async', problem: { ...CATALOGUE[0]!.problem, pageSize: 1 } });
  const text = renderVariant(ca).find((f) => f.path === 'decode.cu')!.text;

  it('copies K/V rows with cp.async through the block table, and encodes no tensor map', () => {
    expect(ca.variantId).toBe('mla_sm90_bf16_kvbf16_p1_m64n64_st2_c2sn_ldca');
    expect(text).toContain('produce_kv_cp_async(a, smem, begin_idx, begin_seq, end_idx, end_seq);');
    expect(text).toContain('mlagen::cp_async_mbarrier_arrive_noinc(&full[stage]);');
    expect(text).toContain('constexpr int KV_FULL_ARRIVALS = 128;');
    expect(text).toContain('constexpr int KV_COPY_THREADS_PER_ROW = 2;');
    // The consumers fence the generic-proxy copies before their wgmma reads them.
    expect(text).toMatch(/mbarrier_wait\(&kv_full\[stage\][^\n]*\n\s*mlagen::fence_proxy_async_shared\(\);/);
    expect(text).not.toContain('encode_kv_map');
    expect(text).not.toContain('mlagen::tma_load_3d(');
  });

  it('reads the page size of the call where the DSL leaves it open (pageSize 0)', () => {
    const any = renderVariant(lowerMlaDecode({ ...ca.config, problem: { ...ca.config.problem, pageSize: 0 } })).find((f) => f.path === 'decode.cu')!.text;
    expect(any).toContain('constexpr int PAGE_SIZE = 0;');
    expect(any).toContain('return a.page_size; }');
    expect(any).toContain('const int page_size = page_size_of(a);');
    expect(any).toContain('table[tok / page_size]');
    expect(any).toContain('a.page_size = p.page_size;');
    expect(any).toContain('else v.range("page_size", p.page_size, 1, 1 << 20);');
    // TMA with the page size at launch: the tensor map and the box arithmetic take it; a page must hold whole steps.
    const tma = renderVariant(lowerMlaDecode({ ...CATALOGUE[0]!, problem: { ...CATALOGUE[0]!.problem, pageSize: 0 } })).find((f) => f.path === 'decode.cu')!.text;
    expect(tma).toContain('cuuint64_t(call_page_size(p))');
    expect(tma).toContain('return PAGE_SIZE > 0 ? PAGE_SIZE : p.page_size; }');
    expect(tma).toContain('const int logical = tok / page_size_of(a);');
    expect(tma).toContain('if (p.page_size >= 1 && p.page_size % PAGE_MULTIPLE != 0)');
    expect(tma).toContain('constexpr int PAGE_MULTIPLE = 64;');
    expect(decode).not.toContain('p.page_size % PAGE_MULTIPLE');
    expect(tma).toContain('int32_t page_size;  // DSL pageSize 0');
    // A fixed page size keeps its constant, and DecodeArgs no field for it.
    expect(decode).toContain('__device__ __forceinline__ int page_size_of(const DecodeArgs& a) { return PAGE_SIZE; }');
    expect(decode).not.toContain('int32_t page_size;  // DSL pageSize 0');
  });

  it('leaves the TMA variants without any of it', () => {
    expect(decode).not.toContain('produce_kv_cp_async');
    expect(decode).not.toContain('kv_stride_page');
    expect(decode).toContain('encode_kv_map(p, &kv_map)');
  });
});

describe('strict templates', () => {
  it('fail on a missing field instead of printing nothing', () => {
    expect(() => renderTemplate('kernels/mlagen.h.hbs', {})).toThrow(/"banner" not defined/);
  });
});

describe('generated/', () => {
  it('is what the DSL renders today (mlagen generate --check)', () => {
    const stale = checkGenerated(renderCatalogue());
    expect(stale).toEqual({ changed: [], missing: [], extra: [] });
  });
});

describe('rendered dispatcher', () => {
  const dispatch = renderCatalogue().files.get('mla_sm90_dispatch/dispatch.cu')!;

  it('routes by q dtype, cache dtype, page size and rows, and names them all when nothing serves a call', () => {
    expect(dispatch).toMatch(/\{ MLAGEN_BF16, MLAGEN_BF16, 16, 0, 1, 16384, "mla_sm90_bf16_kvbf16_p16_m64n64_st2_c2sn"/);
    expect(dispatch).toMatch(/\{ MLAGEN_BF16, MLAGEN_BF16, 64, 0, 65, 16384, "mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss"/);
    expect(dispatch).toMatch(/\{ MLAGEN_BF16, MLAGEN_FP8_E4M3, 64, 0, 33, 16384, "mla_sm90_bf16_kvfp8_e4m3_p64_m64n64_st2_c2sn_r64x216_mf16"/);
    expect(dispatch).toMatch(/\{ MLAGEN_BF16, MLAGEN_BF16, 64, 0, 1, 16, "mla_sm90_bf16_kvbf16_p64_m16n64_st2_c1tr"/);
    // The metadata entry points are the first routed variant's (64 rows a CTA), not the first route's.
    expect(dispatch).toContain('return mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn_mlagen_num_sm_parts(');
    expect(dispatch).toContain('r.kv_dtype == p->kv_dtype && serves_page(r, p->page_size)');
    expect(dispatch).toContain('r.page_size == page_size || (r.page_multiple > 0 && page_size > 0 && page_size % r.page_multiple == 0)');
    // Other page sizes go to the variants that take them at launch: multiples of 64 (TMA), then any (cp.async).
    const fixed16 = dispatch.indexOf('{ MLAGEN_BF16, MLAGEN_BF16, 16, 0, 1, 16384,');
    const tma = dispatch.indexOf('{ MLAGEN_BF16, MLAGEN_BF16, 0, 64, 1, 16, "mla_sm90_bf16_kvbf16_pany_m16n64_st2_c1tr_r48x232"');
    const any = dispatch.indexOf('{ MLAGEN_BF16, MLAGEN_BF16, 0, 1, 1, 16384, "mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn_ldca"');
    expect(fixed16).toBeGreaterThan(0);
    expect(tma).toBeGreaterThan(fixed16);
    expect(any).toBeGreaterThan(tma);
    expect(dispatch).toContain('bf16 page 64n rows 65..16384');
    expect(dispatch).toContain('bf16 page any rows 1..16384');
    expect(dispatch).toContain('bf16 with a fp8_e4m3 cache page 64n rows 33..16384');
    expect(dispatch).toContain('" with kv_dtype "');
    expect(dispatch).toContain('", page_size = "');
  });
});
