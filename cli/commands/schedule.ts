// flotilla schedule create ID --source S --name CLONE --cluster C (--every 24h | --cron '0 2 * * *')
//   [--kind drill] [clone flags] [drill flags] [--paused], flotilla schedule get [ID],
//   pause|resume|trigger [--wait]|delete ID: clones and drills on Temporal Schedules.
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { age, type Column, type Format, render } from '../output.js';
import { buildClone, type CloneOptions } from './clone.js';
import { buildDrill, type DrillOptions } from './drill.js';

export interface ScheduleOptions extends Omit<CloneOptions, 'wait' | 'purpose'>, Pick<DrillOptions, 'rto' | 'rpo' | 'check' | 'keep'> {
  source: string;
  name: string;
  kind?: 'clone' | 'drill';
  every?: string;
  cron?: string;
  timezone?: string;
  paused?: boolean;
  note?: string;
}

interface ScheduleRun { workflowId: string; scheduledAt: string; startedAt: string }
export interface ScheduleView {
  id: string;
  kind?: string;
  every?: number;
  cron?: string;
  timezone?: string;
  clone?: { source?: string; name?: string; cluster?: string; data?: Record<string, string> };
  environment?: string;
  tier?: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: ScheduleRun[];
  running: string[];
  runs: number;
  skipped: number;
  createdAt?: string;
  lastRun?: ScheduleRun & { status: string; result?: { outcome?: string; message?: string; cloneId?: string; drillId?: string } };
}

/** The POST /v1/schedules body the flags describe. */
export function buildSchedule(id: string, o: ScheduleOptions, readFile?: (path: string) => string): Record<string, unknown> {
  if ((o.every === undefined) === (o.cron === undefined)) throw new CliError('give one of --every (e.g. 24h) or --cron (e.g. "0 2 * * *")', EXIT.usage);
  const kind = o.kind ?? 'clone';
  if (kind === 'drill' && o.ttl) throw new CliError('--ttl is for clones: a drill tears its clone down when it ends (unless --keep)', EXIT.usage);
  const { secrets, source: _source, ...clone } = buildClone(o.source, o.name, o, readFile);
  const drill = kind === 'drill' ? buildDrill(o.source, { ...o, name: o.name }) : {};
  const drillOptions = Object.fromEntries(Object.entries(drill).filter(([k]) => ['objectives', 'http', 'keep'].includes(k)));
  return {
    id, kind,
    ...(o.every ? { every: o.every } : {}), ...(o.cron ? { cron: o.cron } : {}), ...(o.timezone ? { timezone: o.timezone } : {}),
    clone: { source: o.source, ...clone },
    ...(Object.keys(drillOptions).length ? { drill: drillOptions } : {}),
    ...(secrets ? { secrets } : {}),
    ...(o.paused ? { paused: true } : {}), ...(o.note ? { note: o.note } : {}),
  };
}

const every = (s: ScheduleView) => (s.cron ? `cron ${s.cron}${s.timezone ? ` ${s.timezone}` : ''}` : s.every !== undefined ? `every ${duration(s.every)}` : '');
function duration(seconds: number): string {
  for (const [unit, n] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) if (seconds % n === 0) return `${seconds / n}${unit}`;
  return `${seconds}s`;
}

const COLUMNS: Column<ScheduleView>[] = [
  { header: 'id', value: (s) => s.id },
  { header: 'kind', value: (s) => s.kind ?? '' },
  { header: 'when', value: every },
  { header: 'state', value: (s) => (s.paused ? 'paused' : 'active') },
  { header: 'next run', value: (s) => s.nextRuns[0] ?? '' },
  { header: 'last run', value: (s) => (s.recentRuns.at(-1) ? `${age(s.recentRuns.at(-1)!.startedAt)} ago` : '') },
];

function describeSchedule(s: ScheduleView): string {
  const lines = [
    `Schedule:   ${s.id} (${s.kind ?? 'clone'})`,
    `When:       ${every(s)}`,
    `State:      ${s.paused ? 'paused' : 'active'}${s.note ? ` (${s.note})` : ''}`,
    ...(s.environment || s.tier ? [`Target:     ${s.environment ? `environment ${s.environment}` : `every environment of tier ${s.tier}`}`] : []),
    ...(s.clone ? [`Clone:      ${s.clone.source} → ${s.clone.name} on ${s.clone.cluster}${s.clone.data && Object.keys(s.clone.data).length ? ` (data ${Object.entries(s.clone.data).map(([d, m]) => `${d}=${m}`).join(', ')})` : ''}`] : []),
    `Runs:       ${s.runs} started, ${s.skipped} skipped (a run was going on)`,
    `Next runs:  ${s.nextRuns.slice(0, 3).join(', ') || '(none)'}`,
  ];
  if (s.lastRun) {
    const r = s.lastRun.result;
    lines.push(`Last run:   ${s.lastRun.workflowId} ${s.lastRun.status.toLowerCase()}${r?.outcome ? `: ${r.outcome}` : ''}${r?.message ? ` (${r.message})` : ''}${r?.cloneId ? `, clone ${r.cloneId}` : ''}${r?.drillId ? `, drill ${r.drillId}` : ''}`);
  }
  return lines.join('\n');
}

export interface LifecycleScheduleOptions {
  env?: string;
  tier?: string;
  cron: string;
  timezone?: string;
  paused?: boolean;
  note?: string;
  format: Format;
}

/** flotilla schedule create-stop|create-start ID (--env ENV | --tier TIER) --cron … [--timezone …]. */
export function buildLifecycleSchedule(id: string, action: 'stop' | 'start', o: LifecycleScheduleOptions): Record<string, unknown> {
  if ((o.env === undefined) === (o.tier === undefined)) throw new CliError('give one of --env ENVIRONMENT or --tier TIER', EXIT.usage);
  return {
    id, kind: action, ...(o.env ? { environment: o.env } : { tier: o.tier }), cron: o.cron, ...(o.timezone ? { timezone: o.timezone } : {}),
    ...(o.paused ? { paused: true } : {}), ...(o.note ? { note: o.note } : {}),
  };
}

export async function createLifecycleSchedule(ctx: CommandContext, id: string, action: 'stop' | 'start', o: LifecycleScheduleOptions): Promise<void> {
  const { body } = await ctx.client().request<ScheduleView>('POST', '/v1/schedules', { json: buildLifecycleSchedule(id, action, o) });
  ctx.io.out(o.format === 'table' ? describeSchedule(body) : render(body, o.format, [], []));
}

export async function createSchedule(ctx: CommandContext, id: string, o: ScheduleOptions): Promise<void> {
  const { body } = await ctx.client().request<ScheduleView>('POST', '/v1/schedules', { json: buildSchedule(id, o) });
  ctx.io.out(o.format === 'table' ? describeSchedule(body) : render(body, o.format, [], []));
}

export async function getSchedules(ctx: CommandContext, id: string | undefined, format: Format): Promise<void> {
  if (id) {
    const s = await ctx.client().get<ScheduleView>(`/v1/schedules/${encodeURIComponent(id)}`);
    ctx.io.out(format === 'table' ? describeSchedule(s) : render(s, format, [], []));
    return;
  }
  const body = await ctx.client().get<{ items: ScheduleView[] }>('/v1/schedules');
  ctx.io.out(render(body, format, body.items, COLUMNS));
}

/** pause, resume (unpause), delete; trigger, optionally following the run it starts. */
export async function steerSchedule(ctx: CommandContext, id: string, what: 'pause' | 'resume' | 'trigger' | 'delete', o: { note?: string; wait?: boolean; interval?: number }): Promise<void> {
  const path = `/v1/schedules/${encodeURIComponent(id)}`;
  if (what === 'delete') {
    await ctx.client().request('DELETE', path);
    ctx.io.out(`schedule ${id} deleted`);
    return;
  }
  const before = what === 'trigger' && o.wait ? (await ctx.client().get<ScheduleView>(path)).recentRuns.map((r) => r.workflowId) : [];
  const action = what === 'resume' ? 'unpause' : what;
  await ctx.client().request('POST', `${path}/${action}`, { json: o.note ? { note: o.note } : {} });
  ctx.io.out(what === 'trigger' ? `schedule ${id} triggered` : `schedule ${id} ${what === 'pause' ? 'paused' : 'resumed'}`);
  if (what === 'trigger' && o.wait) await followRun(ctx, path, new Set(before), o.interval ?? 1000);
}

/** Waits for the run a trigger started to end (progress on stderr); exit 1 unless it completed. */
async function followRun(ctx: CommandContext, path: string, seen: Set<string>, intervalMs: number): Promise<void> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const s = await ctx.client().get<ScheduleView>(path);
    const run = s.lastRun && !seen.has(s.lastRun.workflowId) ? s.lastRun : undefined;
    const now = run ? `${run.workflowId}: ${run.status.toLowerCase()}` : 'waiting for the run to start';
    if (now !== last) ctx.io.err(`[${Math.round((Date.now() - started) / 1000)}s] ${now}`);
    last = now;
    if (run && run.status !== 'RUNNING') {
      const outcome = run.result?.outcome;
      ctx.io.out(`${run.workflowId}: ${outcome ?? run.status.toLowerCase()}${run.result?.message ? ` (${run.result.message})` : ''}`);
      if (outcome !== 'completed') throw new CliError(`run ${run.workflowId} ${outcome ?? run.status.toLowerCase()}`, EXIT.failed);
      return;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
