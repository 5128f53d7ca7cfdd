// flotilla drill SOURCE --cluster C [--data DB=MODE] [--rto 15m] [--rpo 5m]
//   [--check SERVICE[:PORT]/PATH[=STATUS]] [--keep] [--wait], and how drills are shown.
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { age, type Column, type Format, render } from '../output.js';
import { buildClone, type CloneOptions } from './clone.js';
import { waitFor } from './deploy.js';
import { parseDuration } from './promote.js';

export interface DrillOptions extends Omit<CloneOptions, 'ttl' | 'purpose'> {
  name?: string;
  rto?: string;
  rpo?: string;
  check?: string[];
  keep?: boolean;
}

/** "web/healthz", "web:8080/healthz", "web/=503" → an HTTP check. */
export function parseCheck(text: string): { service: string; path: string; port?: number; expectStatus?: number } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?::(\d+))?(\/[^=]*)?(?:=(\d{3}))?$/.exec(text.trim());
  if (!m) throw new CliError(`--check takes SERVICE[:PORT]/PATH[=STATUS], not "${text}"`, EXIT.usage);
  return { service: m[1]!, path: m[4] ?? '/', ...(m[3] ? { port: Number(m[3]) } : {}), ...(m[5] ? { expectStatus: Number(m[5]) } : {}) };
}

export function buildDrill(source: string, options: DrillOptions): Record<string, unknown> {
  const { name: _name, purpose: _purpose, ...clone } = buildClone(source, options.name ?? `${source}-drill`, options);
  const objectives = {
    ...(options.rto ? { rtoSeconds: parseDuration(options.rto, '--rto') } : {}),
    ...(options.rpo ? { rpoSeconds: parseDuration(options.rpo, '--rpo') } : {}),
  };
  return {
    ...clone, ...(options.name ? { name: options.name } : {}),
    ...(Object.keys(objectives).length ? { objectives } : {}),
    ...(options.check?.length ? { http: options.check.map(parseCheck) } : {}),
    ...(options.keep ? { keep: true } : {}),
  };
}

interface DrillReportView {
  id: string;
  state: string;
  outcome?: string;
  reason?: string;
  markdown?: string;
}

export async function drill(ctx: CommandContext, source: string, options: DrillOptions): Promise<void> {
  const { body } = await ctx.client().request<{ operationId: string }>('POST', '/v1/drills', { json: buildDrill(source, options) });
  const id = body.operationId;
  if (!options.wait) {
    ctx.io.out(options.format === 'table' ? `drill started: operation ${id} (flotilla describe drill ${id})` : render(body, options.format, [], []));
    return;
  }
  await waitFor(ctx, id, options.interval ?? 1000);
  const report = await ctx.client().get<DrillReportView>(`/v1/drills/${encodeURIComponent(id)}`);
  ctx.io.out(options.format === 'table' ? (report.markdown ?? '').trimEnd() : render(report, options.format, [], []));
  if (report.outcome !== 'passed') throw new CliError(`drill ${id} ${report.outcome ?? report.state}${report.reason ? `: ${report.reason}` : ''}`, EXIT.failed);
}

interface DrillSummary { id: string; source: string; clone: string; cluster: string; outcome: string; rtoSeconds?: number; rpoSeconds?: number; startedAt: string }

const DRILL_COLUMNS: Column<DrillSummary>[] = [
  { header: 'id', value: (d) => d.id },
  { header: 'source', value: (d) => d.source },
  { header: 'cluster', value: (d) => d.cluster },
  { header: 'outcome', value: (d) => d.outcome },
  { header: 'rto', value: (d) => (d.rtoSeconds === undefined ? '' : `${d.rtoSeconds}s`) },
  { header: 'rpo', value: (d) => (d.rpoSeconds === undefined ? '' : `${d.rpoSeconds}s`) },
  { header: 'age', value: (d) => age(d.startedAt) },
];

export async function listDrills(ctx: CommandContext, format: Format): Promise<void> {
  const body = await ctx.client().get<{ items: DrillSummary[] }>('/v1/drills');
  ctx.io.out(render(body, format, body.items, DRILL_COLUMNS));
}

export async function showDrill(ctx: CommandContext, id: string, format: Format): Promise<void> {
  const report = await ctx.client().get<DrillReportView>(`/v1/drills/${encodeURIComponent(id)}`);
  ctx.io.out(format === 'table' ? (report.markdown ?? `drill ${id}: ${report.state}`).trimEnd() : render(report, format, [], []));
}
