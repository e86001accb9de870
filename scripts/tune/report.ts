// The performance report: one self-contained HTML page (inline SVG, no script, no external
// resources) that sets our times per case beside FlashMLA's anchor and the roofline
// (memory floor = bytes / measured copy GB/s, compute floor = FLOPs / measured matmul TFLOPS).
// Pure: the inputs are parsed records, the output is text.
import { anchorFor, type Anchor, type AnchorRow } from '../harness/anchor.ts';
import { decodeBytes, decodeFlops, findCase, MATRIX_SK, matrixCases, type HarnessCase } from '../harness/cases.ts';
import type { TuningTable } from './table.ts';

/** What the report reads from a `mlagen bench --json` / `--save` record. */
export interface BenchInput {
  label: string;
  variant: string;
  device?: string;
  ceilings?: { copyGbps: number | null; matmulTflops: number | null };
  /** case id -> single-call time (µs), FLOPs and bytes of the run. */
  cases: Map<string, { usSingle: number; flops?: number; bytes?: number }>;
}

export interface ReportInput {
  title?: string;
  benches: readonly BenchInput[];
  tables: readonly TuningTable[];
  anchor?: Anchor;
  /** Shown in the footer (e.g. the command); not interpreted. */
  generatedBy?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Reads a bench record (`mlagen bench --json` output or a --save file). */
export function parseBenchRecord(raw: unknown, label: string): BenchInput {
  const r = (raw ?? {}) as {
    variant?: string;
    device?: { name?: string };
    ceilings?: { copy_gbps?: number | null; matmul_tflops?: number | null } | null;
    rows?: { id: string; usSingle?: number }[];
    results?: { id: string; json?: { bench?: { us_single?: number; flops?: number; bytes?: number } } }[];
  };
  if (!Array.isArray(r.rows) && !Array.isArray(r.results)) throw new Error(`${label}: not a bench record (no "rows" or "results")`);
  const cases = new Map<string, { usSingle: number; flops?: number; bytes?: number }>();
  for (const res of r.results ?? []) {
    const b = res.json?.bench;
    if (b && typeof b.us_single === 'number' && b.us_single > 0)
      cases.set(res.id, { usSingle: b.us_single, ...(b.flops ? { flops: b.flops } : {}), ...(b.bytes ? { bytes: b.bytes } : {}) });
  }
  for (const row of r.rows ?? []) if (!cases.has(row.id) && typeof row.usSingle === 'number' && row.usSingle > 0) cases.set(row.id, { usSingle: row.usSingle });
  const out: BenchInput = { label, variant: r.variant ?? label, cases };
  if (r.device?.name) out.device = r.device.name;
  if (r.ceilings) out.ceilings = { copyGbps: r.ceilings.copy_gbps ?? null, matmulTflops: r.ceilings.matmul_tflops ?? null };
  return out;
}

// ---- the numbers -----------------------------------------------------------------------------

interface Series {
  name: string;
  color: string;
  us: Map<string, number>;
}

export interface CaseRow {
  id: string;
  c: HarnessCase;
  anchor?: AnchorRow;
  flops: number;
  bytes: number;
  memFloorUs: number | null;
  computeFloorUs: number | null;
  floorUs: number | null;
}

export interface Ceiling {
  copyGbps: number | null;
  matmulTflops: number | null;
  source: string;
}

const COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b'];
const ANCHOR_COLOR = '#d62728';

/** The ceilings to draw the roofline with: measured with a bench, else with the tuner, else the anchor's. */
export function pickCeilings(input: ReportInput): Ceiling | null {
  for (const b of input.benches) if (b.ceilings?.copyGbps) return { ...b.ceilings, source: `measured with bench ${b.label}` };
  for (const t of input.tables) if (t.ceilings?.copyGbps) return { ...t.ceilings, source: `measured by mlagen tune on ${t.gpu}` };
  if (input.anchor?.copyGbps) return { copyGbps: input.anchor.copyGbps, matmulTflops: input.anchor.matmulTflops ?? null, source: 'measured with the FlashMLA anchor' };
  return null;
}

function seriesOf(input: ReportInput): Series[] {
  const out: Series[] = [];
  let k = 0;
  for (const b of input.benches) out.push({ name: `${b.label}`, color: COLORS[k++ % COLORS.length]!, us: new Map([...b.cases].map(([id, v]) => [id, v.usSingle])) });
  for (const t of input.tables) {
    const best = new Map<string, number>();
    const dflt = new Map<string, number>();
    for (const e of t.entries)
      for (const c of e.cases) {
        best.set(c.caseId, c.bestUs);
        if (c.defaultUs !== null) dflt.set(c.caseId, c.defaultUs);
      }
    const gpu = input.tables.length > 1 ? ` (${t.gpu})` : '';
    if (dflt.size) out.push({ name: `default variant${gpu}`, color: COLORS[k++ % COLORS.length]!, us: dflt });
    out.push({ name: `tuned best${gpu}`, color: COLORS[k++ % COLORS.length]!, us: best });
  }
  return out;
}

export function caseRows(input: ReportInput, ceilings: Ceiling | null): CaseRow[] {
  const ids = new Set<string>();
  for (const b of input.benches) for (const id of b.cases.keys()) ids.add(id);
  for (const t of input.tables) for (const e of t.entries) for (const c of e.cases) ids.add(c.caseId);
  const order = matrixCases().map((c) => c.id);
  const sorted = [...ids].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const rows: CaseRow[] = [];
  for (const id of sorted) {
    const c = findCase(id);
    if (!c) continue;
    const anchor = anchorFor(input.anchor, c);
    // FLOPs and bytes of the run (varlen draws its lengths), else the formula with the nominal lengths.
    let flops: number | undefined;
    let bytes: number | undefined;
    for (const b of input.benches) {
      const v = b.cases.get(id);
      flops ??= v?.flops;
      bytes ??= v?.bytes;
    }
    for (const t of input.tables)
      for (const e of t.entries)
        for (const x of e.cases)
          if (x.caseId === id) {
            flops ??= x.flops ?? undefined;
            bytes ??= x.bytes ?? undefined;
          }
    const totalKv = c.seqlens ? c.seqlens.reduce((s, x) => s + x, 0) : c.b * c.sk;
    flops ??= decodeFlops({ b: c.b, sQ: c.sQ, hQ: c.hQ, totalKv });
    bytes ??= decodeBytes({ b: c.b, sQ: c.sQ, hQ: c.hQ, totalKv });
    const mem = ceilings?.copyGbps ? (bytes / (ceilings.copyGbps * 1e9)) * 1e6 : null;
    const comp = ceilings?.matmulTflops ? (flops / (ceilings.matmulTflops * 1e12)) * 1e6 : null;
    const floor = mem === null && comp === null ? null : Math.max(mem ?? 0, comp ?? 0);
    rows.push({ id, c, ...(anchor ? { anchor } : {}), flops, bytes, memFloorUs: mem, computeFloorUs: comp, floorUs: floor });
  }
  return rows;
}

// ---- SVG -------------------------------------------------------------------------------------

function niceStep(max: number, ticks = 5): number {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');

export interface BarChartSpec {
  title: string;
  caption: string;
  categories: string[];
  /** Hover text per category (full case ids). */
  categoryTitles?: string[];
  series: { name: string; color: string; values: (number | null)[] }[];
  /** Drawn as a black tick across each group (e.g. the roofline floor). */
  marker?: { name: string; values: (number | null)[] };
  /** A horizontal reference line (e.g. 1.0x). */
  reference?: { value: number; label: string };
  yLabel: string;
  unit: string;
  digits?: number;
  width?: number;
  height?: number;
}

/** A grouped bar chart: one group per category, one bar per series; one <svg>, in a <figure>. */
export function barChart(spec: BarChartSpec): string {
  const W = spec.width ?? 1300;
  const H = spec.height ?? 380;
  // Room below the axis for the slanted category labels (about 6 px per character).
  const longest = Math.max(0, ...spec.categories.map((c) => c.length));
  const slant = spec.categories.length > 24 ? Math.sin(Math.PI / 3) : Math.sin((40 * Math.PI) / 180);
  const m = { left: 70, right: 20, top: 56, bottom: Math.max(50, Math.min(170, Math.ceil(20 + longest * 6.2 * slant))) };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = [...spec.series.flatMap((s) => s.values), ...(spec.marker?.values ?? []), spec.reference?.value ?? null].filter(
    (v): v is number => v !== null && Number.isFinite(v),
  );
  const maxV = Math.max(1e-9, ...all);
  const step = niceStep(maxV * 1.05);
  const top = Math.ceil((maxV * 1.05) / step) * step;
  const y = (v: number): number => m.top + ph - (v / top) * ph;
  const n = Math.max(1, spec.categories.length);
  const gw = pw / n;
  const bw = Math.min(36, Math.max(2, (gw * 0.8) / Math.max(1, spec.series.length)));
  const groupW = bw * Math.max(1, spec.series.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(spec.title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${m.left}" y="20" class="t">${escapeHtml(spec.title)}</text>`);
  // Legend.
  let lx = m.left;
  const legend = [...spec.series.map((s) => ({ name: s.name, color: s.color, kind: 'bar' })), ...(spec.marker ? [{ name: spec.marker.name, color: '#000', kind: 'tick' }] : [])];
  for (const l of legend) {
    parts.push(
      l.kind === 'bar'
        ? `<rect x="${lx}" y="32" width="12" height="12" fill="${l.color}"/>`
        : `<line x1="${lx}" y1="38" x2="${lx + 14}" y2="38" stroke="#000" stroke-width="3"/>`,
    );
    parts.push(`<text x="${lx + 18}" y="43" class="l">${escapeHtml(l.name)}</text>`);
    lx += 30 + l.name.length * 7;
  }
  // Axes and grid.
  for (let v = 0; v <= top + 1e-9; v += step) {
    parts.push(`<line x1="${m.left}" y1="${y(v).toFixed(1)}" x2="${W - m.right}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" class="a" text-anchor="end">${fmt(v, step < 1 ? 2 : 0)}</text>`);
  }
  parts.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${W - m.right}" y2="${m.top + ph}" stroke="#333"/>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" class="a" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`);
  // Bars.
  spec.categories.forEach((cat, i) => {
    const gx = m.left + i * gw + (gw - groupW) / 2;
    spec.series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = gx + k * bw;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(m.top + ph - y(v)).toFixed(1)}" fill="${s.color}"><title>${escapeHtml(`${spec.categoryTitles?.[i] ?? cat} · ${s.name}: ${fmt(v, spec.digits ?? 1)} ${spec.unit}`)}</title></rect>`,
      );
    });
    const mv = spec.marker?.values[i];
    if (mv !== null && mv !== undefined && Number.isFinite(mv))
      parts.push(
        `<line x1="${(gx - 3).toFixed(1)}" y1="${y(mv).toFixed(1)}" x2="${(gx + groupW + 2).toFixed(1)}" y2="${y(mv).toFixed(1)}" stroke="#000" stroke-width="2.5"><title>${escapeHtml(`${spec.categoryTitles?.[i] ?? cat} · ${spec.marker!.name}: ${fmt(mv, spec.digits ?? 1)} ${spec.unit}`)}</title></line>`,
      );
    const cx = m.left + i * gw + gw / 2;
    const angle = n > 24 ? -60 : -40;
    parts.push(`<text transform="translate(${cx.toFixed(1)} ${m.top + ph + 12}) rotate(${angle})" class="c" text-anchor="end">${escapeHtml(cat)}</text>`);
  });
  if (spec.reference) {
    const ry = y(spec.reference.value).toFixed(1);
    parts.push(`<line x1="${m.left}" y1="${ry}" x2="${W - m.right}" y2="${ry}" stroke="#555" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${W - m.right}" y="${m.top - 8}" class="a" text-anchor="end">dashed line: ${escapeHtml(spec.reference.label)}</text>`);
  }
  parts.push('</svg>');
  return `<figure>${parts.join('\n')}<figcaption>${escapeHtml(spec.caption)}</figcaption></figure>`;
}

// ---- the page --------------------------------------------------------------------------------

function shortLabel(c: HarnessCase): string {
  return `sq${c.sQ} hq${c.hQ}${c.varlen ? ' var' : ''}`;
}

/** "4k s1·h16 v": context, s_q, h_q, varlen, for charts over every case. */
function tinyLabel(c: HarnessCase): string {
  if (c.suite !== 'matrix') return c.id.replace(/^edge-/, '');
  return `${c.sk / 1024}k s${c.sQ}·h${c.hQ}${c.varlen ? ' v' : ''}`;
}

export interface Report {
  html: string;
  /** Titles of the charts, in order: one <svg> each. */
  charts: string[];
}

export function buildReport(input: ReportInput): Report {
  const ceilings = pickCeilings(input);
  const rows = caseRows(input, ceilings);
  const series = seriesOf(input);
  const charts: string[] = [];
  const figures: string[] = [];
  const anchorName = 'FlashMLA (anchor)';
  const ceilText = ceilings
    ? `roofline floor = max(bytes / ${fmt(ceilings.copyGbps ?? NaN)} GB/s, FLOPs / ${fmt(ceilings.matmulTflops ?? NaN)} TFLOPS), ${ceilings.source}`
    : 'no ceilings measured: no roofline';

  // 1. Time per case, one chart per context length (matrix cases), plus one for the rest.
  // Few cases: one chart; the whole matrix: one chart per context length.
  const matrixRows = rows.filter((r) => r.c.suite === 'matrix');
  const groups: { title: string; rows: CaseRow[]; label: (c: HarnessCase) => string }[] =
    matrixRows.length <= 16
      ? [{ title: 'Time per case, b = 128', rows: matrixRows, label: tinyLabel }]
      : MATRIX_SK.map((sk) => ({ title: `Time per case, b = 128, sk = ${sk}`, rows: matrixRows.filter((r) => r.c.sk === sk), label: shortLabel }));
  groups.push({ title: 'Time per case, other cases', rows: rows.filter((r) => r.c.suite !== 'matrix'), label: tinyLabel });
  for (const g of groups) {
    if (g.rows.length === 0) continue;
    const s = [...series.map((x) => ({ name: x.name, color: x.color, values: g.rows.map((r) => x.us.get(r.id) ?? null) }))];
    if (g.rows.some((r) => r.anchor)) s.push({ name: anchorName, color: ANCHOR_COLOR, values: g.rows.map((r) => r.anchor?.us ?? null) });
    charts.push(g.title);
    figures.push(
      barChart({
        title: g.title,
        caption: `Median time of one call per L2-flushed replay (µs; lower is better), s_q, h_q and varlen per group; black tick: ${ceilText}. Varlen rows drew their own lengths (FlashMLA's differ from ours).`,
        categories: g.rows.map((r) => g.label(r.c)),
        categoryTitles: g.rows.map((r) => r.id),
        series: s,
        ...(ceilings ? { marker: { name: 'roofline floor', values: g.rows.map((r) => r.floorUs) } } : {}),
        yLabel: 'µs per call',
        unit: 'µs',
      }),
    );
  }

  // 2. Share of the roofline reached: floor / time.
  if (ceilings && rows.length) {
    const s = series.map((x) => ({ name: x.name, color: x.color, values: rows.map((r) => (r.floorUs && x.us.get(r.id) ? (100 * r.floorUs) / x.us.get(r.id)! : null)) }));
    if (rows.some((r) => r.anchor)) s.push({ name: anchorName, color: ANCHOR_COLOR, values: rows.map((r) => (r.floorUs && r.anchor ? (100 * r.floorUs) / r.anchor.us : null)) });
    const title = 'Share of the roofline reached';
    charts.push(title);
    figures.push(
      barChart({
        title,
        caption: `100 × roofline floor / time, per case (higher is better; 100% = at the floor); labels: context (k tokens), s_q·h_q, v = varlen. ${ceilText}.`,
        categories: rows.map((r) => tinyLabel(r.c)),
        categoryTitles: rows.map((r) => r.id),
        series: s,
        reference: { value: 100, label: '100% of the roofline' },
        yLabel: '% of roofline',
        unit: '%',
        height: 420,
      }),
    );
  }

  // 3. Speedup against FlashMLA.
  if (rows.some((r) => r.anchor) && series.length) {
    const s = series.map((x) => ({ name: x.name, color: x.color, values: rows.map((r) => (r.anchor && x.us.get(r.id) ? r.anchor.us / x.us.get(r.id)! : null)) }));
    const title = 'Speedup over FlashMLA';
    charts.push(title);
    figures.push(
      barChart({
        title,
        caption: 'FlashMLA µs / our µs, both one call per L2-flushed replay (> 1: we are faster); labels: context (k tokens), s_q·h_q, v = varlen. Varlen rows compare different random lengths.',
        categories: rows.map((r) => tinyLabel(r.c)),
        categoryTitles: rows.map((r) => r.id),
        series: s,
        reference: { value: 1, label: '1.0× (FlashMLA)' },
        yLabel: 'speedup',
        unit: '×',
        digits: 2,
        height: 420,
      }),
    );
  }

  // 4. Tuning: best over default per bucket.
  for (const t of input.tables) {
    const entries = t.entries.filter((e) => e.speedup !== null);
    if (!entries.length) continue;
    const title = `Tuning on ${t.gpu}: best variant over the default, per shape bucket`;
    charts.push(title);
    figures.push(
      barChart({
        title,
        caption: `Sum over the bucket's cases of the default variant's time / the best variant's (≥ 1). Default: ${t.baseline ?? '?'}.`,
        categories: entries.map((e) => e.key),
        series: [{ name: 'speedup of the tuned pick', color: '#2ca02c', values: entries.map((e) => e.speedup) }],
        reference: { value: 1, label: 'default' },
        yLabel: 'speedup',
        unit: '×',
        digits: 3,
        height: 400,
      }),
    );
  }

  // Tables.
  const head = ['case', ...series.map((s) => `${s.name} µs`), 'FlashMLA µs', 'FlashMLA TFLOPS', 'FlashMLA GB/s', 'memory floor µs', 'compute floor µs'];
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => {
      const cells = [
        r.id,
        ...series.map((s) => (s.us.has(r.id) ? fmt(s.us.get(r.id)!, 1) : '—')),
        r.anchor ? `${r.anchor.us}` : '—',
        r.anchor ? `${r.anchor.tflops}` : '—',
        r.anchor ? `${r.anchor.gbps}` : '—',
        r.memFloorUs === null ? '—' : fmt(r.memFloorUs, 1),
        r.computeFloorUs === null ? '—' : fmt(r.computeFloorUs, 1),
      ];
      return `<tr>${cells.map((c, i) => `<td${i ? ' class="n"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');

  const tuning = input.tables
    .map((t) => {
      const tr = t.entries
        .map(
          (e) =>
            `<tr><td>${escapeHtml(e.key)}</td><td>${escapeHtml(e.best.variantId)}</td><td class="n">${fmt(e.best.us, 1)}</td><td class="n">${e.default.us === null ? '—' : fmt(e.default.us, 1)}</td><td class="n">${e.speedup === null ? '—' : `${fmt(e.speedup, 3)}×`}</td><td class="n">${e.ranked}</td><td>${escapeHtml(e.cases.map((c) => c.caseId).join(', '))}</td></tr>`,
        )
        .join('\n');
      const rejected = t.rejected.length
        ? `<details><summary>${t.rejected.length} rejected candidate(s)</summary><ul>${t.rejected.map((r) => `<li><code>${escapeHtml(r.variantId)}</code>: ${escapeHtml(r.reason)}</li>`).join('')}</ul></details>`
        : '';
      const pruned = t.pruned.length
        ? `<details><summary>${t.pruned.length} point(s) pruned by the DSL before compiling</summary><ul>${t.pruned.map((r) => `<li><code>${escapeHtml(r.variantId)}</code>: ${escapeHtml(r.reason)}</li>`).join('')}</ul></details>`
        : '';
      return `<h2>Tuning table: ${escapeHtml(t.gpu)}</h2>
<p>${t.measured} candidates timed; ranked by the sum of <code>us_single</code> over each bucket's cases. Default: <code>${escapeHtml(t.baseline ?? '?')}</code>.</p>
<table><tr><th>bucket</th><th>best variant</th><th>best µs</th><th>default µs</th><th>speedup</th><th>ranked</th><th>cases</th></tr>
${tr}</table>${rejected}${pruned}`;
    })
    .join('\n');

  const title = input.title ?? 'mlagen: MLA decode performance';
  const sources = [
    ...input.benches.map((b) => `bench <code>${escapeHtml(b.label)}</code> (variant <code>${escapeHtml(b.variant)}</code>${b.device ? `, ${escapeHtml(b.device)}` : ''})`),
    ...input.tables.map((t) => `tuning table for ${escapeHtml(t.gpu)}`),
    ...(input.anchor ? [`FlashMLA anchor: ${escapeHtml(input.anchor.source)}`] : []),
  ];
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1340px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 28px 0 8px; }
figure { margin: 18px 0; } figcaption { color: #555; font-size: 12.5px; max-width: 1300px; }
svg { display: block; max-width: 100%; height: auto; border: 1px solid #ddd; }
svg .t { font: 600 15px system-ui, sans-serif; } svg .l, svg .a { font: 12px system-ui, sans-serif; fill: #333; }
svg .c { font: 11px system-ui, sans-serif; fill: #333; }
table { border-collapse: collapse; font-size: 12.5px; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 3px 7px; }
th { background: #f4f4f4; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; } .muted { color: #666; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Sources: ${sources.join('; ') || 'none'}. ${escapeHtml(ceilText)}.</p>
${figures.join('\n')}
<h2>Numbers per case</h2>
<table><tr>${th}</tr>
${body}</table>
${tuning}
<p class="muted">${escapeHtml(input.generatedBy ?? 'Generated by mlagen report.')}</p>
</body>
</html>
`;
  return { html, charts };
}
