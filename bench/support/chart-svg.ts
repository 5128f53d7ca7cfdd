// A benchmark chart as SVG text: grouped bars and/or lines over a few categories (latencies,
// cluster counts …), a linear y axis from 0 with round ticks, every value written on its bar or
// point, a legend and an optional footnote. Pure string building, so any benchmark can describe
// its chart as JSON (ChartSpec) and bench/chart.ts turns it into a PNG.
import { z } from 'zod';

export const ChartSeries = z.object({
  name: z.string().min(1),
  /** Bars are grouped per category; lines join one point per category. */
  kind: z.enum(['bar', 'line']).default('bar'),
  /** One value per category; null where there is none. */
  values: z.array(z.number().finite().nullable()),
  /** A CSS colour; a palette colour by default. */
  color: z.string().optional(),
});
export type ChartSeries = z.infer<typeof ChartSeries>;

export const ChartSpec = z.object({
  title: z.string().min(1),
  subtitle: z.string().optional(),
  /** Along the x axis: one group of bars (and one point of each line) per category. */
  categories: z.array(z.string()).min(1),
  xLabel: z.string().optional(),
  yLabel: z.string().min(1),
  /** After each value label, e.g. " s". */
  unit: z.string().default(''),
  /** Decimals of the value labels. */
  decimals: z.number().int().min(0).max(6).default(1),
  series: z.array(ChartSeries).min(1),
  /** Under the legend, small: what was measured, on what machine. */
  note: z.string().optional(),
  width: z.number().int().min(320).max(4000).default(960),
  height: z.number().int().min(240).max(4000).default(560),
});
export type ChartSpec = z.infer<typeof ChartSpec>;
export type ChartSpecInput = z.input<typeof ChartSpec>;

// Distinguishable in colour and in grey (Okabe–Ito, a colour-blind-safe palette).
const PALETTE = ['#0072B2', '#D55E00', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];
const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const px = (n: number) => Number(n.toFixed(1));

/** The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ x: the step between round ticks. */
function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= x - 1e-12)!;
}

function text(x: number, y: number, s: string, attrs: Record<string, string | number> = {}): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${esc(String(v))}"`).join('');
  return `<text x="${px(x)}" y="${px(y)}"${a}>${esc(s)}</text>`;
}

export function chartSvg(input: ChartSpecInput): string {
  const spec = ChartSpec.parse(input);
  const { width: W, height: H, categories } = spec;
  const series = spec.series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length]! }));
  for (const s of series) {
    if (s.values.length !== categories.length) throw new Error(`series "${s.name}" has ${s.values.length} values for ${categories.length} categories`);
  }
  const bars = series.filter((s) => s.kind === 'bar');
  const lines = series.filter((s) => s.kind === 'line');
  const label = (v: number) => `${v.toFixed(spec.decimals)}${spec.unit}`;

  // Layout: title block on top, legend and note below the x axis.
  const legendRows = Math.ceil(series.length / 4);
  const top = spec.subtitle ? 78 : 56;
  const bottom = 58 + legendRows * 22 + (spec.note ? 22 : 0) + (spec.xLabel ? 20 : 0);
  const left = 78;
  const right = 24;
  const plotW = W - left - right;
  const plotH = H - top - bottom;

  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  const top5 = Math.max(0, ...all) * 1.08 / 5; // room above the tallest bar for its label
  const step = niceStep(top5);
  const yMax = step * Math.max(1, Math.ceil((Math.max(0, ...all) * 1.08) / step));
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const groupW = plotW / categories.length;
  const cx = (i: number) => left + groupW * (i + 0.5);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${esc(FONT)}">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(text(left, 30, spec.title, { 'font-size': 20, 'font-weight': 'bold', fill: '#111' }));
  if (spec.subtitle) out.push(text(left, 54, spec.subtitle, { 'font-size': 13, fill: '#444' }));

  // Grid and y axis.
  const tickDecimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  for (let v = 0; v <= yMax + step / 2; v += step) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${px(y(v))}" y2="${px(y(v))}" stroke="${v === 0 ? '#333' : '#e3e3e3'}" stroke-width="1"/>`);
    out.push(text(left - 8, y(v) + 4, v.toFixed(tickDecimals), { 'font-size': 12, 'text-anchor': 'end', fill: '#333' }));
  }
  const yMid = top + plotH / 2;
  out.push(text(20, yMid, spec.yLabel, { 'font-size': 13, 'text-anchor': 'middle', fill: '#222', transform: `rotate(-90 20 ${px(yMid)})` }));

  // Bars, grouped per category, each with its value above it.
  const inner = groupW * 0.78;
  const barW = bars.length ? inner / bars.length : 0;
  const valueFont = Math.max(9, Math.min(12, barW / 4.2));
  categories.forEach((_, i) => {
    bars.forEach((s, j) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      const x0 = cx(i) - inner / 2 + j * barW;
      const h = Math.max(0, y(0) - y(v));
      out.push(`<rect x="${px(x0 + 2)}" y="${px(y(v))}" width="${px(Math.max(1, barW - 4))}" height="${px(h)}" fill="${esc(s.color)}"><title>${esc(`${s.name}: ${label(v)}`)}</title></rect>`);
      out.push(text(x0 + barW / 2, y(v) - 5, label(v), { 'font-size': valueFont, 'text-anchor': 'middle', fill: '#111' }));
    });
  });

  // Lines over the groups.
  for (const s of lines) {
    const points = s.values.map((v, i) => (v === null ? undefined : { x: cx(i), y: y(v), v })).filter((p) => p !== undefined);
    if (points.length > 1) {
      out.push(`<polyline fill="none" stroke="${esc(s.color)}" stroke-width="2.5" points="${points.map((p) => `${px(p.x)},${px(p.y)}`).join(' ')}"/>`);
    }
    for (const p of points) {
      out.push(`<circle cx="${px(p.x)}" cy="${px(p.y)}" r="4.5" fill="${esc(s.color)}"/>`);
      // A white halo keeps the label readable where it crosses a line or a bar.
      out.push(text(p.x + 7, p.y - 7, label(p.v), { 'font-size': 12, fill: s.color, 'font-weight': 'bold', stroke: '#fff', 'stroke-width': 2.5, 'stroke-linejoin': 'round', 'paint-order': 'stroke' }));
    }
  }

  // Category labels, x label, legend, note.
  categories.forEach((c, i) => out.push(text(cx(i), y(0) + 20, c, { 'font-size': 14, 'text-anchor': 'middle', fill: '#111' })));
  let below = y(0) + 20;
  if (spec.xLabel) {
    below += 22;
    out.push(text(left + plotW / 2, below, spec.xLabel, { 'font-size': 13, 'text-anchor': 'middle', fill: '#222' }));
  }
  below += 14;
  const colW = plotW / Math.min(4, series.length);
  series.forEach((s, i) => {
    const lx = left + (i % 4) * colW;
    const ly = below + 8 + Math.floor(i / 4) * 22;
    out.push(s.kind === 'bar'
      ? `<rect x="${px(lx)}" y="${px(ly - 6)}" width="14" height="14" fill="${esc(s.color)}"/>`
      : `<line x1="${px(lx)}" x2="${px(lx + 14)}" y1="${px(ly + 1)}" y2="${px(ly + 1)}" stroke="${esc(s.color)}" stroke-width="3"/>`);
    out.push(text(lx + 20, ly + 6, s.name, { 'font-size': 13, fill: '#222' }));
  });
  if (spec.note) out.push(text(left, below + 8 + legendRows * 22 + 8, spec.note, { 'font-size': 11, fill: '#555' }));
  out.push('</svg>');
  return out.join('\n');
}
