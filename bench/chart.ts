// Turns a benchmark's chart description (JSON, the ChartSpec of bench/support/chart-svg.ts:
// grouped bars and/or lines over a few categories) into a PNG: the SVG is drawn by headless
// Chromium (Debian's package, driven by playwright-core as the browser tests do) and
// screenshotted at 2× for sharp text. Other benchmarks import renderChartPng; by hand:
//
//   npx tsx bench/chart.ts SPEC.json OUT.png        (npm run bench:chart -- SPEC.json OUT.png)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chartSvg, ChartSpec, type ChartSpecInput } from './support/chart-svg.js';

/** Debian's Chromium; CHROMIUM_PATH for another. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Renders `spec` to a PNG file at `outPath` (overwritten). */
export async function renderChartPng(spec: ChartSpecInput, outPath: string): Promise<void> {
  const parsed = ChartSpec.parse(spec);
  const svg = chartSvg(parsed);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage({ viewport: { width: parsed.width, height: parsed.height }, deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`);
    await page.locator('svg').first().screenshot({ path: outPath, type: 'png' });
  } finally {
    await browser.close();
  }
}

async function cli(): Promise<void> {
  const [specFile, outFile] = process.argv.slice(2);
  if (!specFile || !outFile) {
    console.error('usage: npx tsx bench/chart.ts SPEC.json OUT.png   (SPEC: the ChartSpec of bench/support/chart-svg.ts)');
    process.exit(2);
  }
  const spec = ChartSpec.parse(JSON.parse(readFileSync(specFile, 'utf8')));
  await renderChartPng(spec, outFile);
  console.log(`chart written to ${resolve(outFile)}`);
}

// Run as a command, not when imported by another benchmark.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  cli().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
