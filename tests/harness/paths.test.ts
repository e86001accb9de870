import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestRows, variantDtype, variantPageSize, variantSchedule, variantSettings } from '../../scripts/harness/paths.ts';
import { forVariant, harnessArgs, selectCases } from '../../scripts/harness/cases.ts';

describe('variantSchedule', () => {
  const root = mkdtempSync(join(tmpdir(), 'mlagen-paths-'));
  const put = (rel: string, obj: object) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), JSON.stringify(obj));
  };
  put('generated/v_fo3/plan.json', { schedule: { blockN: 64, fixedOverheadBlocks: 3, blockM: 64 }, config: { problem: { pageSize: 16 } } });
  put('generated/disp/routes.json', { rules: [{ variantId: 'v_fo3' }] });

  it("reads the variant's own schedule (a tuned split cost, not the default)", () => {
    expect(variantSchedule(root, 'v_fo3')).toEqual({ blockN: 64, fixedOverheadBlocks: 3, blockM: 64 });
  });
  it("gives the dispatcher its routed variants' schedule, and nothing for an unknown id", () => {
    expect(variantSchedule(root, 'disp')?.fixedOverheadBlocks).toBe(3);
    expect(variantSchedule(root, 'missing')).toBeUndefined();
  });
  it('matches the committed catalogue', () => {
    expect(variantSchedule(process.cwd(), 'mla_sm90_dispatch')).toEqual({ blockN: 64, fixedOverheadBlocks: 5, blockM: 64 });
  });
});

describe('variantPageSize and forVariant', () => {
  const root = mkdtempSync(join(tmpdir(), 'mlagen-page-'));
  mkdirSync(join(root, 'generated', 'v16'), { recursive: true });
  writeFileSync(join(root, 'generated', 'v16', 'plan.json'), JSON.stringify({ config: { problem: { pageSize: 16 } } }));

  it("reads the variant's page size, the dispatcher's from its routes, nothing for an unknown id", () => {
    expect(variantPageSize(root, 'v16')).toBe(16);
    expect(variantPageSize(root, 'missing')).toBeUndefined();
    expect(variantPageSize(process.cwd(), 'mla_sm90_dispatch')).toBe(64);
  });

  it('reads a harness built outside generated/ by the plan.json beside it (a coverage point, a tune candidate)', async () => {
    mkdirSync(join(root, 'build', 'coverage', 'v3'), { recursive: true });
    writeFileSync(join(root, 'build', 'coverage', 'v3', 'plan.json'), JSON.stringify({ config: { problem: { pageSize: 3, qDtype: 'fp16' } } }));
    const harness = join(root, 'build', 'coverage', 'v3', 'harness');
    expect(await variantSettings(root, 'v3', { harness })).toEqual({ dtype: 'fp16', pageSize: 3, kvFp8: false });
    expect(await variantSettings(root, 'v3', { harness, pageSize: 1, dtype: 'bf16' })).toEqual({ dtype: 'bf16', pageSize: 1, kvFp8: false });
    // A variant with an fp8 cache runs its cases with one.
    mkdirSync(join(root, 'build', 'coverage', 'v8'), { recursive: true });
    writeFileSync(join(root, 'build', 'coverage', 'v8', 'plan.json'), JSON.stringify({ config: { problem: { pageSize: 64, qDtype: 'bf16', kvDtype: 'fp8_e4m3' } } }));
    const fp8 = await variantSettings(root, 'v8', { harness: join(root, 'build', 'coverage', 'v8', 'harness') });
    expect(fp8).toEqual({ dtype: 'bf16', pageSize: 64, kvFp8: true });
    const [c] = forVariant(selectCases('edge', 'page-boundaries'), fp8.dtype, fp8.pageSize, fp8.kvFp8);
    expect(c!.kvDtype).toBe('fp8');
    expect(harnessArgs(c!, 'check').join(' ')).toContain('--kv-dtype fp8');
    expect(harnessArgs(selectCases('edge', 'page-boundaries')[0]!, 'check')).not.toContain('--kv-dtype');
    // Without a plan beside the harness, the generated one.
    expect(await variantSettings(root, 'v16', { harness: join(root, 'elsewhere', 'harness') })).toMatchObject({ pageSize: 16 });
  });

  it('runs the cases (written for 64-token pages) on the variant page size and dtype', () => {
    const cases = selectCases('edge', 'page-boundaries');
    expect(cases.every((c) => c.pageSize === 64 && c.dtype === 'bf16')).toBe(true);
    const run = forVariant(cases, 'fp16', 16);
    expect(run.map((c) => [c.pageSize, c.dtype])).toEqual(cases.map(() => [16, 'fp16']));
    expect(run.map((c) => c.seqlens)).toEqual(cases.map((c) => c.seqlens));
    expect(forVariant(cases, undefined, undefined)).toEqual(cases);
    // A variant that takes any page size at launch (0) runs each case on the case's own.
    expect(forVariant(cases, undefined, 0)).toEqual(cases);
    expect(variantPageSize(process.cwd(), 'mla_sm90_bf16_kvbf16_pany_m64n64_st2_c2sn_ldca')).toBe(0);
  });
});

describe('manifestRows', () => {
  it('reads ids and q dtypes from the text when the manifest cannot be imported (plain node)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mlagen-manifest-'));
    mkdirSync(join(root, 'generated'));
    writeFileSync(
      join(root, 'generated', 'manifest.ts'),
      `throw new Error('as if plain node could not import .ts');\nexport const variants = [\n  {\n    id: 'v_bf',\n    qDtype: 'bf16',\n  },\n  {\n    id: 'v_none',\n  },\n  {\n    id: 'v_fp',\n    kernel: 'k',\n    qDtype: 'fp16',\n  },\n];\n`,
    );
    expect(await manifestRows(root)).toEqual([{ id: 'v_bf', qDtype: 'bf16' }, { id: 'v_none' }, { id: 'v_fp', qDtype: 'fp16' }]);
    expect(await variantDtype(root, 'v_fp')).toBe('fp16');
    expect(await variantDtype(root, 'v_none')).toBeUndefined();
  });

  it('imports the committed manifest', async () => {
    const rows = await manifestRows(process.cwd());
    expect(rows.map((r) => r.id)).toContain('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss');
    expect(rows.find((r) => r.id === 'mla_sm90_fp16_kvfp16_p64_m64n64_st2_c2sn')?.rows).toEqual({ min: 17, max: 64 });  // the committed tuning table's boundary
  });
});
