// The cases the GPU harness runs: the 48-case benchmark matrix of the FlashMLA anchor
// (../shared/anchors/flashmla-h100.md), and the edge cases a careful reviewer would try.
// Every case has a stable id; the harness draws fresh random q/KV for each run (its seed is in the JSON).
import { prng } from './prng.ts';

export const HEAD_DIM = 576; // d: K width (the whole cached row)
export const VALUE_DIM = 512; // dv: V width (the first dv columns)
export const ELEMENT_BYTES = 2; // bf16 / fp16

export type Dtype = 'bf16' | 'fp16';
export type Suite = 'matrix' | 'edge';
export type CaseSet = 'matrix' | 'edge' | 'all';
export const CASE_SETS: readonly CaseSet[] = ['matrix', 'edge', 'all'];

export interface HarnessCase {
  /** Stable id, e.g. `b128-sq1-sk4096-hq16-fixed` or `edge-seqlen0-in-batch`. */
  id: string;
  suite: Suite;
  /** What the case is for, in a few words. */
  about: string;
  b: number;
  sQ: number;
  hQ: number;
  hKv: number;
  /** Mean length: every request when not varlen; N(sk, sk/2) clipped at s_q when varlen. */
  sk: number;
  varlen: boolean;
  causal: boolean;
  dtype: Dtype;
  /** 'fp8': an e4m3 cache (the harness's --kv-dtype fp8, kv_scale 1/16); unset: the cache is in dtype. */
  kvDtype?: 'fp8';
  pageSize: number;
  /** Explicit lengths (override sk/varlen; may hold 0). */
  seqlens?: readonly number[];
  softmaxScale?: number;
  qScale?: number;
  /** At least this many physical pages in the cache (spare pages hold NaN). */
  numPages?: number;
  /** Extra poisoned block-table columns past the longest request (the harness picks 0 or 1 if unset). */
  btSlack?: number;
  /** Per-process limit for this case (default: the runner's). */
  timeoutMs?: number;
}

export const MATRIX_B = 128;
export const MATRIX_SK = [4096, 8192, 16384] as const;
export const MATRIX_HQ = [16, 32, 64, 128] as const;
export const MATRIX_SQ = [1, 2] as const;

export function matrixCaseId(sQ: number, sk: number, hQ: number, varlen: boolean, b = MATRIX_B): string {
  return `b${b}-sq${sQ}-sk${sk}-hq${hQ}-${varlen ? 'varlen' : 'fixed'}`;
}

/** The anchor table's 48 rows, in its order (sk, then h_q, then s_q, then varlen). */
export function matrixCases(): HarnessCase[] {
  const out: HarnessCase[] = [];
  for (const sk of MATRIX_SK)
    for (const hQ of MATRIX_HQ)
      for (const sQ of MATRIX_SQ)
        for (const varlen of [false, true])
          out.push({
            id: matrixCaseId(sQ, sk, hQ, varlen),
            suite: 'matrix',
            about: `anchor row: b=${MATRIX_B} s_q=${sQ} sk=${sk} h_q=${hQ}${varlen ? ' varlen' : ''}`,
            b: MATRIX_B,
            sQ,
            hQ,
            hKv: 1,
            sk,
            varlen,
            causal: true,
            dtype: 'bf16',
            pageSize: 64,
            timeoutMs: sk >= 16384 ? 300_000 : 180_000,
          });
  return out;
}

/** Deterministic lengths for cases that spell them out (mulberry32), so ids keep their meaning. */
export function seededLengths(seed: number, count: number, draw: (u: () => number) => number): number[] {
  const u = prng(seed);
  return Array.from({ length: count }, () => draw(u));
}

function edge(id: string, about: string, fields: Partial<HarnessCase>): HarnessCase {
  const c: HarnessCase = {
    id: `edge-${id}`,
    suite: 'edge',
    about,
    b: 8,
    sQ: 1,
    hQ: 128,
    hKv: 1,
    sk: 1024,
    varlen: false,
    causal: true,
    dtype: 'bf16',
    pageSize: 64,
    ...fields,
  };
  if (c.seqlens) c.b = c.seqlens.length;
  return c;
}

const PAGE_EDGES = [1, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 4095, 4096, 4097];

export function edgeCases(): HarnessCase[] {
  const raggedZeros = seededLengths(20261122, 128, (u) => (u() < 0.7 ? 0 : 1 + Math.floor(u() * 20000)));
  const manySmall = seededLengths(7, 1024, (u) => Math.floor(u() * 300));
  return [
    // Empty requests.
    edge('seqlen0-in-batch', 'requests of length 0 among others: out 0, lse +inf, neighbours intact', {
      seqlens: [4096, 0, 100, 0, 64, 1, 0, 2000],
    }),
    edge('seqlen0-in-batch-sq2', 'as above with two query tokens', { sQ: 2, seqlens: [4096, 0, 100, 0, 64, 1, 0, 2000] }),
    edge('all-zero', 'every request empty', { seqlens: [0, 0, 0, 0] }),
    edge('all-zero-sq2-hq16', 'every request empty, s_q 2, h_q 16', { sQ: 2, hQ: 16, seqlens: [0, 0, 0] }),
    edge('ragged-zeros', 'b=128, 70% empty, the rest up to 20000 tokens', { seqlens: raggedZeros }),
    // Tiny requests and the causal corner.
    edge('seqlen1', 'one cached token per request', { seqlens: [1, 1, 1, 1] }),
    edge('seqlen1-sq2', 'one cached token, two query tokens: token 0 sees nothing', { sQ: 2, seqlens: [1, 1, 1, 1] }),
    edge('seqlen-eq-sq2', 'seqlen = s_q = 2: token i sees i+1 keys', { sQ: 2, seqlens: [2, 2, 2, 2] }),
    edge('seqlen-eq-sq4', 'seqlen = s_q = 4', { sQ: 4, seqlens: [4, 4, 4, 4] }),
    edge('seqlen-lt-sq4', 'seqlen < s_q: leading query tokens see no key', { sQ: 4, seqlens: [1, 2, 3, 0, 5] }),
    edge('noncausal-sq2', 's_q 2 without the causal mask', { sQ: 2, causal: false, seqlens: [1, 2, 65, 4096, 0] }),
    // Page boundaries.
    edge('page-boundaries', 'lengths at 63/64/65 and other page multiples ± 1', { seqlens: PAGE_EDGES }),
    edge('page-boundaries-sq2', 'the same with two query tokens', { sQ: 2, seqlens: PAGE_EDGES }),
    edge('page-boundaries-hq16', 'the same with h_q 16', { hQ: 16, seqlens: PAGE_EDGES }),
    edge('bt-slack3', 'three poisoned block-table columns past the longest request', { seqlens: [64, 65, 1000, 7], btSlack: 3 }),
    // Long contexts, few requests (the split-KV path).
    edge('b1-sk65536', 'one request, 65536 tokens', { b: 1, sk: 65536, timeoutMs: 300_000 }),
    edge('b1-sk131072-sq2', 'one request, 131072 tokens, s_q 2', { b: 1, sk: 131072, sQ: 2, timeoutMs: 300_000 }),
    edge('b2-sk65537-hq16', 'two requests of 65537 tokens (one past a page), h_q 16', { b: 2, sk: 65537, hQ: 16, timeoutMs: 300_000 }),
    edge('b3-varlen-sk8192', 'few requests, varlen', { b: 3, sk: 8192, varlen: true }),
    // Head counts that are not multiples of 64 rows.
    edge('hq1', 'h_q 1', { b: 16, hQ: 1, sk: 2048, varlen: true }),
    edge('hq2', 'h_q 2', { b: 16, hQ: 2, sk: 2048, varlen: true }),
    edge('hq8', 'h_q 8', { b: 16, hQ: 8, sk: 2048, varlen: true }),
    edge('hq20', 'h_q 20', { b: 16, hQ: 20, sk: 2048, varlen: true }),
    edge('hq20-sq2', 'h_q 20, s_q 2 (40 rows)', { b: 16, hQ: 20, sQ: 2, sk: 2048, varlen: true }),
    edge('hq1-sq3', 'h_q 1, s_q 3', { b: 16, hQ: 1, sQ: 3, sk: 2048 }),
    // More query tokens.
    edge('sq3', 's_q 3 (384 rows)', { b: 16, sQ: 3, sk: 2048, varlen: true }),
    edge('sq4', 's_q 4 (512 rows)', { b: 16, sQ: 4, sk: 2048, varlen: true }),
    edge('sq3-hq20', 's_q 3, h_q 20 (60 rows)', { b: 16, sQ: 3, hQ: 20, sk: 2048 }),
    // Speculative decoding / MTP: more query tokens than FlashMLA's usual 1-2.
    edge('sq8', 's_q 8 (1024 rows, 16 m-blocks per request)', { b: 16, sQ: 8, sk: 2048, varlen: true }),
    edge('sq16-hq128', 's_q 16 (2048 rows, 4 SM parts)', { b: 8, sQ: 16, sk: 4096, varlen: true }),
    edge('sq16-hq16', 's_q 16, h_q 16 (256 rows)', { b: 16, sQ: 16, hQ: 16, sk: 2048, varlen: true }),
    edge('sq5-hq20', 's_q 5, h_q 20 (100 rows: m-blocks straddle query tokens)', { b: 16, sQ: 5, hQ: 20, sk: 2048 }),
    edge('sq16-seqlen-lt', 's_q 16 with lengths around 16: leading query tokens see few or no keys', {
      sQ: 16,
      hQ: 16,
      seqlens: [1, 7, 15, 16, 17, 0, 31, 64, 65],
    }),
    edge('sq32-hq128', 's_q 32 (4096 rows, 64 m-blocks per request)', { b: 4, sQ: 32, sk: 2048, varlen: true }),
    edge('sq128-seqlen-lt', 's_q 128, h_q 16 (2048 rows) with lengths around 128', { sQ: 128, hQ: 16, seqlens: [1, 100, 127, 128, 129, 0, 300, 5000] }),
    // fp16.
    edge('fp16-sq1', 'fp16 q, cache and out', { b: 32, dtype: 'fp16', sk: 4096, varlen: true }),
    edge('fp16-sq2-hq64', 'fp16, s_q 2, h_q 64', { b: 32, dtype: 'fp16', sQ: 2, hQ: 64, sk: 4096 }),
    // Big caches: 64-bit offsets.
    edge('kv-2g-live', 'live KV of 2.4e9 elements (b=64, sk=65536)', { b: 64, sk: 65536, hQ: 16, timeoutMs: 600_000 }),
    edge('kv-2g-sparse', 'a cache of 2.6e9 elements, live pages scattered over all of it', {
      b: 8,
      sk: 4096,
      numPages: 70_000,
      timeoutMs: 300_000,
    }),
    // Numerics.
    edge('scale-0.5', 'softmax scale 0.5: a peaky softmax', { b: 8, sk: 4096, varlen: true, softmaxScale: 0.5 }),
    edge('scale-0.01', 'softmax scale 0.01: a flat softmax', { b: 8, sk: 4096, varlen: true, softmaxScale: 0.01 }),
    edge('qscale-8', 'q ~ N(0, 64): scores in the hundreds, the running max must rescale', { b: 8, sk: 4096, qScale: 8 }),
    // Many small requests.
    edge('b1024-short', '1024 requests of 0..299 tokens', { seqlens: manySmall, hQ: 64 }),
  ];
}

export function selectCases(set: CaseSet, filter?: string): HarnessCase[] {
  const all = set === 'matrix' ? matrixCases() : set === 'edge' ? edgeCases() : [...matrixCases(), ...edgeCases()];
  if (!filter) return all;
  const parts = filter.split(',').map((s) => s.trim()).filter(Boolean);
  return all.filter((c) => parts.some((p) => c.id.includes(p)));
}

/**
 * A case as a variant runs it: in the variant's dtype, on its KV page size and (kvFp8) with an fp8 cache (the cases are
 * written for bf16 and 64-token pages). A field left undefined keeps the case's own, and so does page size 0 (a
 * variant that takes any page size at launch runs each case on the case's own).
 */
export function onVariant(c: HarnessCase, v: { dtype?: Dtype | undefined; pageSize?: number | undefined; kvFp8?: boolean }): HarnessCase {
  return { ...c, ...(v.dtype ? { dtype: v.dtype } : {}), ...(v.pageSize ? { pageSize: v.pageSize } : {}), ...(v.kvFp8 ? { kvDtype: 'fp8' as const } : {}) };
}

export function forVariant(cases: readonly HarnessCase[], dtype: Dtype | undefined, pageSize: number | undefined, kvFp8 = false): HarnessCase[] {
  return cases.map((c) => onVariant(c, { dtype, pageSize, kvFp8 }));
}

export function findCase(id: string): HarnessCase | undefined {
  return [...matrixCases(), ...edgeCases()].find((c) => c.id === id);
}

/** The harness's command line for a case (without the binary). */
export function harnessArgs(c: HarnessCase, mode: 'check' | 'bench', extra: readonly string[] = []): string[] {
  const a = ['--mode', mode, '--s-q', `${c.sQ}`, '--h-q', `${c.hQ}`, '--h-kv', `${c.hKv}`];
  if (c.seqlens) a.push('--seqlens', c.seqlens.join(','));
  else a.push('--b', `${c.b}`, '--sk', `${c.sk}`, '--varlen', c.varlen ? '1' : '0');
  a.push('--dtype', c.dtype, '--causal', c.causal ? '1' : '0', '--page-size', `${c.pageSize}`);
  if (c.kvDtype) a.push('--kv-dtype', c.kvDtype);
  if (c.softmaxScale !== undefined) a.push('--softmax-scale', `${c.softmaxScale}`);
  if (c.qScale !== undefined) a.push('--q-scale', `${c.qScale}`);
  if (c.numPages !== undefined) a.push('--num-pages', `${c.numPages}`);
  if (c.btSlack !== undefined) a.push('--bt-slack', `${c.btSlack}`);
  return [...a, ...extra];
}

// ---- the anchor's formulas -------------------------------------------------------------------

export interface WorkShape {
  b: number;
  sQ: number;
  hQ: number;
  /** Σ seqlens: every cached token counted once (the causal mask is ignored, as in the anchor). */
  totalKv: number;
}

/** TFLOPS numerator: 2·s_q·h_q·(d+dv)·total_kv. */
export function decodeFlops(w: WorkShape): number {
  return 2 * w.sQ * w.hQ * (HEAD_DIM + VALUE_DIM) * w.totalKv;
}

/** GB/s numerator: 2 bytes·(total_kv·d + b·s_q·h_q·(d+dv)). */
export function decodeBytes(w: WorkShape): number {
  return ELEMENT_BYTES * (w.totalKv * HEAD_DIM + w.b * w.sQ * w.hQ * (HEAD_DIM + VALUE_DIM));
}

export function tflops(flops: number, us: number): number {
  return flops / (us * 1e-6) / 1e12;
}

export function gbps(bytes: number, us: number): number {
  return bytes / (us * 1e-6) / 1e9;
}

/** Σ seqlens of a case whose lengths are known without running it (not varlen). */
export function knownTotalKv(c: HarnessCase): number | undefined {
  if (c.seqlens) return c.seqlens.reduce((s, x) => s + x, 0);
  return c.varlen ? undefined : c.b * c.sk;
}
