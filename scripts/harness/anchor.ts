// The FlashMLA numbers to beat, read from the anchor file's markdown table
// (../shared/anchors/flashmla-h100.md beside the checkout, or shared/anchors/ inside it).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { HarnessCase } from './cases.ts';

export interface AnchorRow {
  b: number;
  sQ: number;
  sk: number;
  hQ: number;
  varlen: boolean;
  us: number;
  tflops: number;
  gbps: number;
  tritonUs: number | null;
}

export interface Anchor {
  source: string;
  rows: AnchorRow[];
  /** Ceilings measured with the anchor (device-to-device copy GB/s, cuBLAS bf16 matmul TFLOPS). */
  copyGbps?: number;
  matmulTflops?: number;
}

export const ANCHOR_FILE = 'anchors/flashmla-h100.md';

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
}

/** Parses the anchor's table; columns are found by their header names, not their order. */
export function parseAnchor(markdown: string, source = '(inline)'): Anchor {
  const lines = markdown.split(/\r?\n/);
  const rows: AnchorRow[] = [];
  let header: string[] | undefined;
  for (const line of lines) {
    if (!line.trim().startsWith('|')) {
      header = undefined;
      continue;
    }
    const c = cells(line);
    if (!header) {
      if (c.some((x) => /flashmla/i.test(x))) header = c.map((x) => x.toLowerCase());
      continue;
    }
    if (c.every((x) => /^:?-+:?$/.test(x))) continue;
    const col = (pred: (h: string) => boolean): string | undefined => {
      const i = header!.findIndex(pred);
      return i >= 0 ? c[i] : undefined;
    };
    const num = (s: string | undefined): number => (s === undefined || s === '' ? NaN : Number(s));
    const row: AnchorRow = {
      b: num(col((h) => h === 'b')),
      sQ: num(col((h) => h === 's_q')),
      sk: num(col((h) => h === 'sk')),
      hQ: num(col((h) => h === 'h_q')),
      varlen: /^y/i.test(col((h) => h === 'varlen') ?? ''),
      us: num(col((h) => h.startsWith('flashmla'))),
      tflops: num(col((h) => h === 'tflops')),
      gbps: num(col((h) => h === 'gb/s')),
      tritonUs: null,
    };
    const triton = num(col((h) => h.startsWith('triton')));
    row.tritonUs = Number.isFinite(triton) ? triton : null;
    if ([row.b, row.sQ, row.sk, row.hQ, row.us].every(Number.isFinite)) rows.push(row);
  }
  const anchor: Anchor = { source, rows };
  const copy = /copy\s+([\d.]+)\s*GB\/s/i.exec(markdown);
  const mm = /matmul\s+([\d.]+)\s*TFLOPS/i.exec(markdown);
  if (copy) anchor.copyGbps = Number(copy[1]);
  if (mm) anchor.matmulTflops = Number(mm[1]);
  return anchor;
}

/** Where the anchor file may be: an explicit path, shared/ inside the checkout, ../shared beside it. */
export function findAnchorFile(root: string, explicit?: string): string | undefined {
  const candidates = explicit
    ? [resolve(explicit)]
    : [
        process.env.MLAGEN_ANCHOR ? resolve(process.env.MLAGEN_ANCHOR) : '',
        join(root, 'shared', ANCHOR_FILE),
        join(root, 'docs', 'perf', ANCHOR_FILE),
        join(root, '..', 'shared', ANCHOR_FILE),
      ].filter(Boolean);
  return candidates.find((p) => existsSync(p));
}

export function loadAnchor(root: string, explicit?: string): Anchor | undefined {
  const file = findAnchorFile(root, explicit);
  if (!file) return undefined;
  return parseAnchor(readFileSync(file, 'utf8'), file);
}

/**
 * The anchor row a case is comparable with: same b, s_q, sk, h_q and varlen flag, and the
 * anchor's setting (causal, bf16, page 64, one KV head, default scale, lengths drawn not given).
 */
export function anchorFor(anchor: Anchor | undefined, c: HarnessCase): AnchorRow | undefined {
  if (!anchor) return undefined;
  if (c.seqlens || !c.causal || c.dtype !== 'bf16' || c.pageSize !== 64 || c.hKv !== 1) return undefined;
  if (c.softmaxScale !== undefined || c.qScale !== undefined || c.numPages !== undefined) return undefined;
  return anchor.rows.find((r) => r.b === c.b && r.sQ === c.sQ && r.sk === c.sk && r.hQ === c.hQ && r.varlen === c.varlen);
}
