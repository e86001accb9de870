import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseAnchor } from '../../scripts/harness/anchor.ts';
import { matrixCases } from '../../scripts/harness/cases.ts';
import { buildReport, escapeHtml, parseBenchRecord } from '../../scripts/tune/report.ts';
import type { TuningTable } from '../../scripts/tune/table.ts';

const anchor = parseAnchor(readFileSync(join(import.meta.dirname, '../../docs/perf/anchors/flashmla-h100.md'), 'utf8'), 'flashmla-h100.md');

function benchRecord(variant: string, factor: number) {
  const cases = matrixCases();
  return {
    schema: 'mlagen-bench/1',
    variant,
    device: { name: 'NVIDIA H100 80GB HBM3' },
    ceilings: { copy_gbps: 2950, matmul_tflops: 660 },
    rows: cases.map((c) => ({ id: c.id, status: 'pass', usSingle: (anchor.rows.find((r) => r.sQ === c.sQ && r.sk === c.sk && r.hQ === c.hQ && r.varlen === c.varlen)?.us ?? 300) * factor })),
    results: cases.slice(0, 4).map((c) => ({ id: c.id, json: { bench: { us_single: 250 * factor, flops: 1e12, bytes: 6e8 } } })),
  };
}

const table: TuningTable = {
  schema: 'mlagen-tuning/1',
  gpu: 'NVIDIA H100 80GB HBM3',
  gpuSlug: 'nvidia-h100-80gb-hbm3',
  metric: 'us_single',
  baseline: 'mla_base',
  ceilings: { copyGbps: 3000, matmulTflops: 650 },
  entries: [
    {
      key: 'bf16_b128_r16_kv4096',
      bucket: { dtype: 'bf16', batch: 128, rows: 16, context: 4096 },
      cases: [{ caseId: 'b128-sq1-sk4096-hq16-fixed', shape: { dtype: 'bf16', b: 128, sQ: 1, hQ: 16, sk: 4096, varlen: false }, bestUs: 240, defaultUs: 250, flops: null, bytes: null }],
      best: { variantId: 'mla_<fast>&"quick"', us: 240 },
      default: { variantId: 'mla_base', us: 250 },
      speedup: 250 / 240,
      runnersUp: [],
      ranked: 2,
    },
  ],
  variants: {},
  rejected: [{ variantId: 'mla_bad', reason: 'build: spills <script>alert(1)</script>' }],
  pruned: [{ variantId: 'mla_pruned', reason: 'mlaDecode > registers: 66560 > 65536' }],
  measured: 2,
};

describe('mlagen report', () => {
  it('escapes text', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('reads bench records and rejects what is not one', () => {
    const b = parseBenchRecord(benchRecord('mla_v', 1), 'v1');
    expect(b.cases.size).toBe(48);
    expect(b.cases.get(matrixCases()[0]!.id)).toEqual({ usSingle: 250, flops: 1e12, bytes: 6e8 });
    expect(b.ceilings).toEqual({ copyGbps: 2950, matmulTflops: 660 });
    expect(() => parseBenchRecord({ hello: 1 }, 'x.json')).toThrow(/not a bench record/);
  });

  it('draws one <svg> per chart, with the anchor numbers, self-contained and escaped', () => {
    const r = buildReport({
      benches: [parseBenchRecord(benchRecord('mla_v', 1.1), 'bench <v1>'), parseBenchRecord(benchRecord('mla_v2', 0.9), 'v2')],
      tables: [table],
      anchor,
    });
    const svgs = r.html.match(/<svg[\s>]/g) ?? [];
    expect(svgs).toHaveLength(r.charts.length);
    // 3 context lengths + roofline share + speedup + tuning.
    expect(r.charts).toEqual([
      'Time per case, b = 128, sk = 4096',
      'Time per case, b = 128, sk = 8192',
      'Time per case, b = 128, sk = 16384',
      'Share of the roofline reached',
      'Speedup over FlashMLA',
      'Tuning on NVIDIA H100 80GB HBM3: best variant over the default, per shape bucket',
    ]);
    for (const row of anchor.rows) expect(r.html).toContain(`<td class="n">${row.us}</td>`);
    expect(r.html).toContain('<td class="n">1990</td>'); // the slowest anchor row
    expect(r.html).toContain('mla_&lt;fast&gt;&amp;&quot;quick&quot;');
    expect(r.html).toContain('bench &lt;v1&gt;');
    expect(r.html).not.toContain('<script>');
    expect(r.html).not.toContain('<fast>');
    expect(r.html).not.toMatch(/(src|href)=["']?https?:/); // nothing loaded from elsewhere
    expect(r.html).not.toMatch(/<link|<img|@import/);
    expect(r.html).toContain('2950 GB/s'); // the bench's ceilings win over the table's and the anchor's
    expect(r.html.startsWith('<!doctype html>')).toBe(true);
  });

  it('works with only a tuning table (the anchor ceilings are not used when the table has some)', () => {
    const r = buildReport({ benches: [], tables: [table], anchor });
    expect(r.charts).toEqual([
      'Time per case, b = 128',
      'Share of the roofline reached',
      'Speedup over FlashMLA',
      'Tuning on NVIDIA H100 80GB HBM3: best variant over the default, per shape bucket',
    ]);
    expect((r.html.match(/<svg[\s>]/g) ?? []).length).toBe(4);
    expect(r.html).toContain('3000 GB/s');
    expect(r.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('falls back to the anchor ceilings, and draws no roofline without any', () => {
    const only = buildReport({ benches: [parseBenchRecord({ ...benchRecord('v', 1), ceilings: null }, 'v')], tables: [], anchor });
    expect(only.html).toContain('3018 GB/s');
    const none = buildReport({ benches: [parseBenchRecord({ ...benchRecord('v', 1), ceilings: null }, 'v')], tables: [] });
    expect(none.charts).not.toContain('Share of the roofline reached');
    expect(none.html).toContain('no ceilings measured');
  });
});
