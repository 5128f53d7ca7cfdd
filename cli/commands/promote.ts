// flotilla promote SOURCE --to A,B | --stage NAME=A,B ... [--approve-before TIER|STAGE] [--wait],
// approve / reject ID, pause / resume / cancel ID, and how a promotion is shown (get/describe).
import { TIERS } from '../../domain/environment.js';
import type { PromotionStageInput } from '../../workflows/promote-types.js';
import type { PromotionState, StageState, TargetState } from '../../workflows/messages.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Column, type Format, render, shortRev, table } from '../output.js';

export const FAILURE_POLICIES = ['rollback', 'pause', 'continue'] as const;
/** The phases a promotion ends in; only `completed` is a success. */
export const FINAL_PHASES = new Set(['completed', 'completed-with-failures', 'rolled-back', 'cancelled', 'rejected', 'failed']);
/** The one stage `--to` makes. */
export const DEFAULT_STAGE = 'default';

export type PromotionView = PromotionState & { workflowStatus?: string };

export interface PromoteOptions {
  to?: string;
  stage?: string[];
  approveBefore?: string[];
  maxParallel?: string;
  soak?: string;
  policy?: string;
  revision?: string;
  approvalTimeout?: string;
  keepStopped?: boolean;
  wait?: boolean;
  format: Format;
  /** Poll interval of --wait (ms). */
  interval?: number;
}

export interface PromoteRequest {
  source: string;
  revision?: string;
  stages: PromotionStageInput[];
  failurePolicy?: (typeof FAILURE_POLICIES)[number];
  approvalTimeoutSeconds?: number;
  keepStopped?: boolean;
}

const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/** "30s", "5m", "1h30m", "90" (seconds) → seconds. */
export function parseDuration(value: string, flag: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1 };
  let total = 0;
  let rest = text;
  for (const m of text.matchAll(/(\d+)([hms])/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.replace(m[0], '');
  }
  if (text === '' || rest !== '') throw new CliError(`${flag} "${value}" is not a duration (e.g. 30s, 5m, 1h)`, EXIT.usage);
  return total;
}

function positiveInt(value: string, flag: string): number {
  if (!/^[1-9]\d*$/.test(value.trim())) throw new CliError(`${flag} must be a positive integer, not "${value}"`, EXIT.usage);
  return Number(value);
}

/** Does --approve-before name tiers (then the environments' tiers are needed)? */
export function approveBeforeTiers(options: Pick<PromoteOptions, 'approveBefore'>): boolean {
  return (options.approveBefore ?? []).flatMap(list).some((v) => (TIERS as readonly string[]).includes(v));
}

/**
 * The request the flags describe. `--to A,B` is one stage; each `--stage NAME=A,B` is a stage,
 * in order. `--approve-before` takes tiers (stages with a target of that tier wait for
 * approval; `tierOf` says each environment's tier) or stage names.
 */
export function buildPromotion(source: string, options: PromoteOptions, tierOf: (env: string) => string | undefined = () => undefined): PromoteRequest {
  const stageFlags = options.stage ?? [];
  if (options.to !== undefined && stageFlags.length > 0) throw new CliError('give either --to or --stage, not both', EXIT.usage);
  let stages: PromotionStageInput[];
  if (options.to !== undefined) {
    const targets = list(options.to);
    if (targets.length === 0) throw new CliError('--to needs at least one environment', EXIT.usage);
    stages = [{ name: DEFAULT_STAGE, targets }];
  } else if (stageFlags.length > 0) {
    stages = stageFlags.map((flag) => {
      const eq = flag.indexOf('=');
      const name = eq < 0 ? '' : flag.slice(0, eq).trim();
      const targets = eq < 0 ? [] : list(flag.slice(eq + 1));
      if (!name || targets.length === 0) throw new CliError(`--stage "${flag}" must be NAME=ENV1,ENV2`, EXIT.usage);
      return { name, targets };
    });
  } else {
    throw new CliError('say where to promote to: --to ENV1,ENV2 or --stage NAME=ENV1,ENV2 (repeatable)', EXIT.usage);
  }

  for (const value of (options.approveBefore ?? []).flatMap(list)) {
    const isTier = (TIERS as readonly string[]).includes(value);
    const matched = stages.filter((s) => s.name === value || (isTier && s.targets.some((t) => tierOf(t) === value)));
    if (!isTier && matched.length === 0) {
      throw new CliError(`--approve-before "${value}" is neither a tier (${TIERS.join(', ')}) nor a stage (${stages.map((s) => s.name).join(', ')})`, EXIT.usage);
    }
    for (const s of matched) s.approval = true;
  }
  const maxParallel = options.maxParallel === undefined ? undefined : positiveInt(options.maxParallel, '--max-parallel');
  const soakSeconds = options.soak === undefined ? undefined : parseDuration(options.soak, '--soak');
  for (const s of stages) {
    if (maxParallel !== undefined) s.maxParallel = maxParallel;
    if (soakSeconds) s.soakSeconds = soakSeconds;
  }
  if (options.policy !== undefined && !(FAILURE_POLICIES as readonly string[]).includes(options.policy)) {
    throw new CliError(`--policy must be one of ${FAILURE_POLICIES.join(', ')}, not "${options.policy}"`, EXIT.usage);
  }
  return {
    source,
    ...(options.revision ? { revision: options.revision } : {}),
    stages,
    ...(options.policy ? { failurePolicy: options.policy as PromoteRequest['failurePolicy'] } : {}),
    ...(options.approvalTimeout ? { approvalTimeoutSeconds: parseDuration(options.approvalTimeout, '--approval-timeout') } : {}),
    ...(options.keepStopped ? { keepStopped: true } : {}),
  };
}

const path = (id: string) => `/v1/promotions/${encodeURIComponent(id)}`;

export async function promote(ctx: CommandContext, source: string, options: PromoteOptions): Promise<void> {
  // Validate the flags before any request; then look tiers up only when --approve-before names one.
  buildPromotion(source, options);
  let tiers = new Map<string, string>();
  if (approveBeforeTiers(options)) {
    const envs = await ctx.client().get<{ items: { name: string; tier: string }[] }>('/v1/environments');
    tiers = new Map(envs.items.map((e) => [e.name, e.tier]));
  }
  const request = buildPromotion(source, options, (env) => tiers.get(env));
  const { body } = await ctx.client().request<{ operationId: string }>('POST', '/v1/promotions', { json: request });
  const id = body.operationId;
  if (!options.wait) {
    ctx.io.out(options.format === 'table' ? `promotion started: ${id}` : render(body, options.format, [], []));
    return;
  }
  ctx.io.err(`promotion started: ${id}`);
  const final = await waitForPromotion(ctx, id, options.interval ?? 1000);
  if (options.format !== 'table') ctx.io.out(render(final, options.format, [], []));
  if (final.phase !== 'completed') {
    throw new CliError(`promotion ${id} ${FINAL_PHASES.has(final.phase) ? final.phase : `ended (${final.workflowStatus ?? 'unknown'}) while ${final.phase}`}${final.message ? `: ${final.message}` : ''}`, EXIT.failed);
  }
  if (options.format === 'table') ctx.io.out(`promotion ${id} completed`);
}

/** What changed between two looks at a promotion, as progress lines. */
export function progress(before: PromotionView | undefined, now: PromotionView): string[] {
  const lines: string[] = [];
  if (before?.phase !== now.phase) lines.push(`${now.id}: ${now.phase}${now.message ? ` (${now.message})` : ''}`);
  now.stages.forEach((stage, i) => {
    const old = before?.stages[i];
    if (old?.phase !== stage.phase && (old || stage.phase !== 'pending')) {
      lines.push(`stage ${stage.name}: ${stage.phase}${stage.approval?.approvedBy ? ` (approved by ${stage.approval.approvedBy})` : ''}${stage.approval?.rejectedBy ? ` (rejected by ${stage.approval.rejectedBy})` : ''}`);
      if (stage.phase === 'awaiting-approval') {
        const who = stage.approval?.fourEyes ? ` (four eyes: someone other than ${now.requestedBy})` : '';
        lines.push(`  approval needed${who}; run: flotilla approve ${now.id} [--comment TEXT]   (or: flotilla reject ${now.id})`);
      }
    }
    stage.targets.forEach((t, k) => {
      const was = old?.targets[k];
      if (was?.phase !== t.phase && (was || t.phase !== 'pending')) {
        lines.push(`stage ${stage.name}: ${t.environment} (${t.cluster}): ${t.phase}${t.error ? ` - ${t.error}` : ''}`);
      }
      // Why it is not ready yet, each time that changes.
      const waits = (t as { waitingOn?: string[] }).waitingOn ?? [];
      if (waits.join('\n') !== ((was as { waitingOn?: string[] } | undefined)?.waitingOn ?? []).join('\n')) {
        for (const w of waits) lines.push(`stage ${stage.name}: ${t.environment}: waiting: ${w}`);
      }
    });
  });
  return lines;
}

/** Polls GET /v1/promotions/{id}, printing progress to stderr, until the promotion ends. */
export async function waitForPromotion(ctx: CommandContext, id: string, intervalMs: number): Promise<PromotionView> {
  const started = Date.now();
  let last: PromotionView | undefined;
  let failures = 0;
  for (;;) {
    let state: PromotionView;
    try {
      state = await ctx.client().get<PromotionView>(path(id));
      failures = 0;
    } catch (error) {
      // A server or worker that is briefly away: keep following, a while.
      if (!(error instanceof CliError) || error.exitCode !== EXIT.failed || ++failures > 30) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
      continue;
    }
    for (const line of progress(last, state)) ctx.io.err(`[${Math.round((Date.now() - started) / 1000)}s] ${line}`);
    last = state;
    if (FINAL_PHASES.has(state.phase)) return state;
    if (state.workflowStatus && state.workflowStatus !== 'RUNNING') return state;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Approves or rejects what waits for approval: a promotion's stage or a teardown. */
export async function decide(ctx: CommandContext, id: string, approve: boolean, options: { comment?: string; format: Format }): Promise<void> {
  const { body } = await ctx.client().request<PromotionView | { environment: string }>('POST', `/v1/operations/${encodeURIComponent(id)}/${approve ? 'approve' : 'reject'}`, {
    json: options.comment !== undefined ? { comment: options.comment } : {},
  });
  if (options.format !== 'table') {
    ctx.io.out(render(body, options.format, [], []));
    return;
  }
  // The workflow takes the decision up after answering: follow with "get promotion ID" (or "get operation ID").
  ctx.io.out(`${'stages' in body ? 'promotion' : 'teardown'} ${id} ${approve ? 'approved' : 'rejected'}`);
}

export async function signal(ctx: CommandContext, id: string, what: 'pause' | 'resume' | 'cancel', options: { reason?: string }): Promise<void> {
  await ctx.client().request('POST', `${path(id)}/${what}`, { json: options.reason !== undefined ? { reason: options.reason } : {} });
  const done = { pause: 'pause requested', resume: 'resume requested', cancel: 'cancel requested (changed targets roll back)' }[what];
  ctx.io.out(`promotion ${id}: ${done}`);
}

// ── showing a promotion ─────────────────────────────────────────────────────────────────

interface Row { stage: StageState; target?: TargetState }

/** "1m05s" between two times (to now while running). */
export function duration(from: string | undefined, to: string | undefined, now = Date.now()): string {
  if (!from) return '';
  const s = Math.max(0, Math.round(((to ? Date.parse(to) : now) - Date.parse(from)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const time = (iso: string | undefined) => (iso ? iso.replace(/\.\d+Z$/, 'Z').replace('T', ' ') : '');

function approvalText(stage: StageState): string {
  const a = stage.approval;
  if (!a?.required) return '';
  if (a.approvedBy) return `approved by ${a.approvedBy}`;
  if (a.rejectedBy) return `rejected by ${a.rejectedBy}`;
  return a.fourEyes ? 'required (four eyes)' : 'required';
}

const COLUMNS: Column<Row>[] = [
  { header: 'stage', value: (r) => r.stage.name },
  { header: 'stage-phase', value: (r) => r.stage.phase },
  { header: 'approval', value: (r) => approvalText(r.stage) },
  { header: 'target', value: (r) => r.target?.environment ?? '(none)' },
  { header: 'cluster', value: (r) => r.target?.cluster },
  { header: 'tier', value: (r) => r.target?.tier },
  { header: 'phase', value: (r) => r.target?.phase },
  { header: 'started', value: (r) => time(r.target?.startedAt) },
  { header: 'duration', value: (r) => duration(r.target?.startedAt, r.target?.finishedAt) },
];

function rows(p: PromotionView): Row[] {
  return p.stages.flatMap((stage) => (stage.targets.length > 0 ? stage.targets.map((target) => ({ stage, target })) : [{ stage }]));
}

/** `get promotion ID`: one line per stage × target. */
export function promotionTable(p: PromotionView): string {
  return table(rows(p), COLUMNS);
}

/** `describe promotion ID`: the promotion, then each stage with its targets. */
export function describePromotion(p: PromotionView): string {
  const head: [string, string][] = [
    ['Promotion', p.id],
    ['Source', `${p.source}${p.revision ? ` (${shortRev(p.revision)})` : ''}`],
    ['Requested by', p.requestedBy],
    ['Phase', `${p.phase}${p.paused && p.phase !== 'paused' ? ' (paused)' : ''}`],
    ['Failure policy', p.failurePolicy],
    ['Started', time(p.startedAt)],
    ['Finished', time(p.finishedAt)],
    ['Duration', duration(p.startedAt, p.finishedAt)],
    ...(p.message ? [['Message', p.message] as [string, string]] : []),
  ];
  const width = Math.max(...head.map(([k]) => k.length)) + 2;
  const out = head.filter(([, v]) => v !== '').map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`);
  out.push('Stages:');
  p.stages.forEach((stage, i) => {
    const approval = approvalText(stage);
    out.push(`  ${i + 1}. ${stage.name}   ${stage.phase}${approval ? `   approval: ${approval}` : ''}${stage.approval?.comment ? ` ("${stage.approval.comment}")` : ''}${stage.startedAt ? `   ${duration(stage.startedAt, stage.finishedAt)}` : ''}`);
    if (stage.targets.length === 0) return;
    const t = table(stage.targets, [
      { header: 'target', value: (x) => x.environment },
      { header: 'cluster', value: (x) => x.cluster },
      { header: 'tier', value: (x) => x.tier },
      { header: 'phase', value: (x) => x.phase },
      { header: 'previous', value: (x) => shortRev(x.previousRevision) },
      { header: 'started', value: (x) => time(x.startedAt) },
      { header: 'duration', value: (x) => duration(x.startedAt, x.finishedAt) },
      { header: 'error', value: (x) => x.error },
    ]);
    out.push(...t.split('\n').map((line) => `     ${line}`));
  });
  return out.join('\n');
}

export async function showPromotion(ctx: CommandContext, id: string, options: { format: Format; detailed: boolean }): Promise<void> {
  const p = await ctx.client().get<PromotionView>(path(id));
  if (options.format !== 'table') ctx.io.out(render(p, options.format, [], []));
  else ctx.io.out(options.detailed ? describePromotion(p) : promotionTable(p));
}
