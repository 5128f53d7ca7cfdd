// The growth chart of bench/scale.ts: one small panel per figure, clusters on a linear x axis
// (so linear growth is a straight line, flat is flat), each point labelled with its value.
// Drawn as SVG, turned into a PNG by headless Chromium (Debian's package, driven by
// playwright-core: no browser download here).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';

export interface Panel {
  title: string;
  unit: string;
  /** One value per size, in the order of `sizes`. */
  values: number[];
  /** A limit to draw as a dashed line when it is within 4× the largest value. */
  limit?: { value: number; label: string };
}

const PANEL_W = 300;
const PANEL_H = 210;
const COLUMNS = 3;
const M = { left: 58, right: 14, top: 34, bottom: 36 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? Math.round(v).toLocaleString('en') : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const tick = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en') : fmt(v));

/** Rounds up to 1, 2 or 5 × a power of ten: a y axis that ends on a readable tick. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function panel(p: Panel, sizes: readonly number[], x0: number, y0: number): string {
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const finite = p.values.filter(Number.isFinite);
  const showLimit = p.limit && p.limit.value <= 4 * Math.max(...finite, 0);
  const yMax = niceMax(Math.max(...finite, showLimit ? p.limit!.value : 0) * 1.1);
  const xMax = Math.max(...sizes);
  const X = (s: number) => x0 + M.left + (s / xMax) * w;
  const Y = (v: number) => y0 + M.top + h - (v / yMax) * h;
  const out: string[] = [];
  out.push(`<text x="${x0 + M.left}" y="${y0 + 20}" font-size="13" font-weight="600">${esc(p.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + w}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${x0 + M.left - 6}" y="${Y(v) + 4}" font-size="10" text-anchor="end" fill="#555">${tick(v)}</text>`);
  }
  out.push(`<text x="${x0 + 12}" y="${y0 + M.top + h / 2}" font-size="10" fill="#555" transform="rotate(-90 ${x0 + 12} ${y0 + M.top + h / 2})" text-anchor="middle">${esc(p.unit)}</text>`);
  for (const s of sizes) {
    out.push(`<text x="${X(s)}" y="${y0 + M.top + h + 14}" font-size="10" text-anchor="middle" fill="#555">${s}</text>`);
  }
  out.push(`<text x="${x0 + M.left + w / 2}" y="${y0 + M.top + h + 28}" font-size="10" text-anchor="middle" fill="#555">cluster entries</text>`);
  if (showLimit) {
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + w}" y1="${Y(p.limit!.value)}" y2="${Y(p.limit!.value)}" stroke="#c0392b" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${x0 + M.left + w}" y="${Y(p.limit!.value) - 4}" font-size="10" text-anchor="end" fill="#c0392b">${esc(p.limit!.label)}</text>`);
  }
  const pts = sizes.map((s, i) => ({ x: X(s), y: Y(p.values[i]!), v: p.values[i]! })).filter((q) => Number.isFinite(q.v));
  out.push(`<polyline fill="none" stroke="#2e6fbf" stroke-width="2" points="${pts.map((q) => `${q.x},${q.y}`).join(' ')}"/>`);
  for (const [i, q] of pts.entries()) {
    const last = i === pts.length - 1;
    out.push(`<circle cx="${q.x}" cy="${q.y}" r="3.5" fill="#2e6fbf"/>`);
    out.push(`<text x="${q.x + (last ? -6 : 6)}" y="${q.y - 7}" font-size="10" text-anchor="${last ? 'end' : 'start'}">${fmt(q.v)}</text>`);
  }
  return out.join('\n');
}

export function growthSvg(title: string, subtitle: string, sizes: readonly number[], panels: readonly Panel[]): { svg: string; width: number; height: number } {
  const rows = Math.ceil(panels.length / COLUMNS);
  const width = PANEL_W * COLUMNS;
  const height = 52 + PANEL_H * rows;
  const body = panels.map((p, i) => panel(p, sizes, (i % COLUMNS) * PANEL_W, 52 + Math.floor(i / COLUMNS) * PANEL_H)).join('\n');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="12" y="22" font-size="16" font-weight="700">${esc(title)}</text>
<text x="12" y="40" font-size="11" fill="#555">${esc(subtitle)}</text>
${body}
</svg>`;
  return { svg, width, height };
}

/** Writes the SVG beside the PNG (same name, .svg) and renders the PNG. */
export async function writeGrowthChart(pngPath: string, chart: { svg: string; width: number; height: number }): Promise<void> {
  mkdirSync(dirname(pngPath), { recursive: true });
  writeFileSync(pngPath.replace(/\.png$/, '.svg'), chart.svg);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: chart.width, height: chart.height }, deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${chart.svg}</body></html>`);
    await page.screenshot({ path: pngPath, clip: { x: 0, y: 0, width: chart.width, height: chart.height } });
  } finally {
    await browser.close();
  }
}
