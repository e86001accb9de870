import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { anchorFor, parseAnchor } from '../../scripts/harness/anchor.ts';
import {
  decodeBytes,
  decodeFlops,
  edgeCases,
  gbps,
  harnessArgs,
  knownTotalKv,
  matrixCases,
  selectCases,
  tflops,
} from '../../scripts/harness/cases.ts';
import { repoRoot } from '../../scripts/harness/paths.ts';

const ANCHOR_PATH = join(repoRoot(), '..', 'shared', 'anchors', 'flashmla-h100.md');

// The anchor's first rows, kept here so the test runs where ../shared is absent (CI).
const ANCHOR_SAMPLE = `
Ceilings measured in the same run: device-to-device copy 3018 GB/s (read + write), cuBLAS bf16 8192³ matmul 687 TFLOPS.

| b | s_q | sk | h_q | varlen | FlashMLA µs | TFLOPS | GB/s | Triton µs |
|---|---|---|---|---|---|---|---|---|
| 128 | 1 | 4096 | 16 | no | 231 | 79 | 2628 | 275 |
| 128 | 1 | 4096 | 16 | yes | 238 | 75 | 2512 | 332 |
| 128 | 2 | 4096 | 16 | no | 232 | 157 | 2640 |  |
| 128 | 2 | 16384 | 128 | no | 1837 | 636 | 1354 |  |
`;

describe('case matrix', () => {
  const matrix = matrixCases();

  it('has the 48 anchor rows: b=128, sk 4096/8192/16384, h_q 16..128, s_q 1/2, varlen no/yes, causal, page 64', () => {
    expect(matrix).toHaveLength(48);
    for (const c of matrix) {
      expect(c).toMatchObject({ b: 128, hKv: 1, causal: true, dtype: 'bf16', pageSize: 64, suite: 'matrix' });
      expect([4096, 8192, 16384]).toContain(c.sk);
      expect([16, 32, 64, 128]).toContain(c.hQ);
      expect([1, 2]).toContain(c.sQ);
    }
    const keys = new Set(matrix.map((c) => `${c.sk}/${c.hQ}/${c.sQ}/${c.varlen}`));
    expect(keys.size).toBe(48);
  });

  it('follows the anchor table order (sk, h_q, s_q, varlen)', () => {
    expect(matrix.slice(0, 4).map((c) => c.id)).toEqual([
      'b128-sq1-sk4096-hq16-fixed',
      'b128-sq1-sk4096-hq16-varlen',
      'b128-sq2-sk4096-hq16-fixed',
      'b128-sq2-sk4096-hq16-varlen',
    ]);
    expect(matrix.at(-1)!.id).toBe('b128-sq2-sk16384-hq128-varlen');
  });

  it('matches every anchor row', () => {
    const anchor = parseAnchor(existsSync(ANCHOR_PATH) ? readFileSync(ANCHOR_PATH, 'utf8') : ANCHOR_SAMPLE);
    for (const row of anchor.rows) {
      const c = matrix.find((m) => m.sk === row.sk && m.hQ === row.hQ && m.sQ === row.sQ && m.varlen === row.varlen);
      expect(c, JSON.stringify(row)).toBeDefined();
      expect(anchorFor(anchor, c!)).toEqual(row);
    }
    if (existsSync(ANCHOR_PATH)) expect(anchor.rows).toHaveLength(48);
  });
});

describe('case ids', () => {
  it('are unique across matrix and edge cases, and stable strings', () => {
    const all = selectCases('all');
    const ids = all.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
    expect(selectCases('edge').every((c) => c.id.startsWith('edge-'))).toBe(true);
  });

  it('edge cases are the same on every call (explicit lengths are seeded)', () => {
    expect(JSON.stringify(edgeCases())).toBe(JSON.stringify(edgeCases()));
  });

  it('filter keeps the cases whose id contains one of the parts', () => {
    const picked = selectCases('all', 'seqlen0,hq20');
    expect(picked.length).toBeGreaterThan(2);
    expect(picked.every((c) => c.id.includes('seqlen0') || c.id.includes('hq20'))).toBe(true);
  });
});

describe('edge cases', () => {
  const edges = edgeCases();
  const lengths = (c: (typeof edges)[number]): readonly number[] => c.seqlens ?? Array(c.b).fill(c.sk);
  const any = (pred: (c: (typeof edges)[number]) => boolean): boolean => edges.some(pred);

  it('cover what a reviewer would try', () => {
    expect(any((c) => lengths(c).includes(0) && lengths(c).some((l) => l > 0))).toBe(true); // seqlen 0 in a batch
    expect(any((c) => lengths(c).every((l) => l === 0))).toBe(true); // all-zero batch
    expect(any((c) => lengths(c).every((l) => l === 1))).toBe(true); // seqlen 1
    expect(any((c) => c.sQ > 1 && lengths(c).every((l) => l === c.sQ))).toBe(true); // seqlen = s_q
    expect(any((c) => c.sQ > 1 && c.causal && lengths(c).some((l) => l < c.sQ))).toBe(true); // rows that see nothing
    for (const l of [63, 64, 65, 127, 128, 129]) expect(any((c) => lengths(c).includes(l))).toBe(true);
    expect(any((c) => c.b === 1 && c.sk >= 65536)).toBe(true); // b = 1, long context
    for (const h of [1, 2, 8, 20]) expect(any((c) => c.hQ === h)).toBe(true);
    for (const s of [3, 4]) expect(any((c) => c.sQ === s)).toBe(true);
    expect(any((c) => c.dtype === 'fp16')).toBe(true);
    expect(any((c) => c.softmaxScale !== undefined)).toBe(true);
    expect(any((c) => !c.causal)).toBe(true);
    // ragged varlen with many zeros
    expect(any((c) => c.b >= 64 && lengths(c).filter((l) => l === 0).length > c.b / 2)).toBe(true);
    // a KV cache of 2^31 elements or more: live, and as spare pages around a small live set
    const cacheElems = (c: (typeof edges)[number]): number => {
      const live = lengths(c).reduce((s, l) => s + Math.ceil(l / c.pageSize), 0);
      return Math.max(live, c.numPages ?? 0) * c.pageSize * c.hKv * 576;
    };
    expect(any((c) => cacheElems(c) >= 2 ** 31 && !c.numPages)).toBe(true);
    expect(any((c) => cacheElems(c) >= 2 ** 31 && c.numPages !== undefined)).toBe(true);
  });

  it('stay within what the harness accepts', () => {
    for (const c of edges) {
      expect(c.hQ % c.hKv).toBe(0);
      if (c.seqlens) expect(c.b).toBe(c.seqlens.length);
      expect(lengths(c).every((l) => Number.isInteger(l) && l >= 0)).toBe(true);
    }
  });
});

describe('harness arguments', () => {
  it('spell a matrix case', () => {
    const c = matrixCases()[1]!;
    expect(harnessArgs(c, 'bench', ['--iters', '10'])).toEqual([
      '--mode', 'bench', '--s-q', '1', '--h-q', '16', '--h-kv', '1',
      '--b', '128', '--sk', '4096', '--varlen', '1',
      '--dtype', 'bf16', '--causal', '1', '--page-size', '64',
      '--iters', '10',
    ]);
  });

  it('spell explicit lengths and the optional knobs', () => {
    const c = edgeCases().find((e) => e.id === 'edge-bt-slack3')!;
    const a = harnessArgs(c, 'check');
    expect(a).toContain('--seqlens');
    expect(a[a.indexOf('--seqlens') + 1]).toBe('64,65,1000,7');
    expect(a).not.toContain('--sk');
    expect(a.slice(-2)).toEqual(['--bt-slack', '3']);
    const sparse = harnessArgs(edgeCases().find((e) => e.id === 'edge-kv-2g-sparse')!, 'check');
    expect(sparse[sparse.indexOf('--num-pages') + 1]).toBe('70000');
  });
});

describe('the anchor formulas', () => {
  it('first row: 231 µs is 79 TFLOPS and 2628 GB/s (within the rounding of µs)', () => {
    const w = { b: 128, sQ: 1, hQ: 16, totalKv: 128 * 4096 };
    expect(decodeFlops(w)).toBe(2 * 16 * 1088 * 524288);
    expect(decodeBytes(w)).toBe(2 * (524288 * 576 + 128 * 16 * 1088));
    expect(Math.round(tflops(decodeFlops(w), 231))).toBe(79);
    // 231 is rounded: some t in [230.5, 231.5] gives 2628 GB/s.
    expect(gbps(decodeBytes(w), 231.5)).toBeLessThanOrEqual(2628.5);
    expect(gbps(decodeBytes(w), 230.5)).toBeGreaterThanOrEqual(2627.5);
  });

  it('reproduce every non-varlen anchor row within rounding', () => {
    const anchor = parseAnchor(existsSync(ANCHOR_PATH) ? readFileSync(ANCHOR_PATH, 'utf8') : ANCHOR_SAMPLE);
    const fixed = anchor.rows.filter((r) => !r.varlen);
    expect(fixed.length).toBeGreaterThan(0);
    for (const r of fixed) {
      const c = matrixCases().find((m) => m.sk === r.sk && m.hQ === r.hQ && m.sQ === r.sQ && !m.varlen)!;
      const w = { b: c.b, sQ: c.sQ, hQ: c.hQ, totalKv: knownTotalKv(c)! };
      // µs is printed rounded to 1 µs and the rates to 1 unit: the rates at µs ± 0.5 must bracket them.
      const lo = (f: (x: number, t: number) => number, x: number): number => f(x, r.us + 0.5);
      const hi = (f: (x: number, t: number) => number, x: number): number => f(x, r.us - 0.5);
      expect(lo(tflops, decodeFlops(w)), `${c.id} TFLOPS`).toBeLessThanOrEqual(r.tflops + 0.5);
      expect(hi(tflops, decodeFlops(w)), `${c.id} TFLOPS`).toBeGreaterThanOrEqual(r.tflops - 0.5);
      expect(lo(gbps, decodeBytes(w)), `${c.id} GB/s`).toBeLessThanOrEqual(r.gbps + 0.5);
      expect(hi(gbps, decodeBytes(w)), `${c.id} GB/s`).toBeGreaterThanOrEqual(r.gbps - 0.5);
    }
  });
});

describe('anchor parsing', () => {
  it('reads rows by header name, the Triton column, and the ceilings line', () => {
    const a = parseAnchor(ANCHOR_SAMPLE);
    expect(a.rows).toHaveLength(4);
    expect(a.rows[0]).toEqual({ b: 128, sQ: 1, sk: 4096, hQ: 16, varlen: false, us: 231, tflops: 79, gbps: 2628, tritonUs: 275 });
    expect(a.rows[2]!.tritonUs).toBeNull();
    expect(a.copyGbps).toBe(3018);
    expect(a.matmulTflops).toBe(687);
  });

  it('matches only cases in the anchor setting', () => {
    const a = parseAnchor(ANCHOR_SAMPLE);
    const c = matrixCases()[0]!;
    expect(anchorFor(a, c)?.us).toBe(231);
    expect(anchorFor(a, { ...c, dtype: 'fp16' })).toBeUndefined();
    expect(anchorFor(a, { ...c, seqlens: [1, 2] })).toBeUndefined();
    expect(anchorFor(undefined, c)).toBeUndefined();
  });
});
