// A DR drill: clone an environment (with its data) to a DR cluster, validate the clone, time
// every phase, and measure it against the recovery objectives: RTO (drill start → clone
// validated) and RPO (the age of the copied data when the clone is validated: how much would be
// lost). Pure: the workflow hands in the times and check results; this decides the verdict and
// writes the report.
import { z } from 'zod';
import { DnsLabel } from './names.js';

export const DrillObjectives = z.strictObject({
  /** Longest acceptable time from the drill's start until the clone is validated. */
  rtoSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
  /** Largest acceptable age of the copied data at validation. */
  rpoSeconds: z.number().int().min(0).max(7 * 86_400).optional(),
});
export type DrillObjectives = z.infer<typeof DrillObjectives>;

/** An HTTP check through the API server's service proxy: GET http://SERVICE:PORT/PATH in the clone's namespace. */
export const HttpCheck = z.strictObject({
  service: DnsLabel,
  path: z.string().startsWith('/').max(1000).default('/'),
  port: z.number().int().min(1).max(65535).optional(),
  /** The status it must answer (default: any 2xx). */
  expectStatus: z.number().int().min(100).max(599).optional(),
});
export type HttpCheck = z.infer<typeof HttpCheck>;

export interface CheckResult {
  /** "workloads ready", "live objects match revision …", "rows of orders-db", "GET web /healthz". */
  name: string;
  ok: boolean;
  detail?: string;
}

export interface PhaseTiming {
  name: string;
  startedAt: string;
  finishedAt?: string;
}

export type DrillOutcome = 'passed' | 'failed' | 'cancelled';

export interface DrillReport {
  id: string;
  source: string;
  clone: string;
  cluster: string;
  revision?: string;
  requestedBy: string;
  startedAt: string;
  finishedAt: string;
  outcome: DrillOutcome;
  /** Why it did not pass. */
  reason?: string;
  phases: PhaseTiming[];
  checks: CheckResult[];
  /** Start → validated, when it got that far. */
  rtoSeconds?: number;
  /** Age of the oldest copied data at validation, when data was copied. */
  rpoSeconds?: number;
  objectives: DrillObjectives;
  /** Each objective given, met or not. */
  objectivesMet: { rto?: boolean; rpo?: boolean };
  data: { database: string; mode: string; rows: number; bytes: number; snapshotAt?: string }[];
  /** Kept on request; torn down otherwise (always, whatever happened). */
  kept: boolean;
  tornDown: boolean;
}

const seconds = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10;

/** RTO and RPO of a validated clone: start → validation, and validation − the oldest snapshot. */
export function recoveryTimes(startedAt: string, validatedAt: string | undefined, snapshots: readonly (string | undefined)[]): { rtoSeconds?: number; rpoSeconds?: number } {
  if (validatedAt === undefined) return {};
  const taken = snapshots.filter((s): s is string => s !== undefined).sort();
  return {
    rtoSeconds: seconds(startedAt, validatedAt),
    ...(taken.length > 0 ? { rpoSeconds: Math.max(0, seconds(taken[0]!, validatedAt)) } : {}),
  };
}

/** How the drill ended: cancelled, failed (a failed check or objective, or a clone that did not become ready), or passed. */
export function drillVerdict(input: {
  cancelled: boolean;
  cloneFailure?: string;
  checks: readonly CheckResult[];
  times: { rtoSeconds?: number; rpoSeconds?: number };
  objectives: DrillObjectives;
}): { outcome: DrillOutcome; reason?: string; objectivesMet: DrillReport['objectivesMet'] } {
  const { times, objectives } = input;
  const objectivesMet: DrillReport['objectivesMet'] = {};
  if (objectives.rtoSeconds !== undefined) objectivesMet.rto = times.rtoSeconds !== undefined && times.rtoSeconds <= objectives.rtoSeconds;
  if (objectives.rpoSeconds !== undefined) objectivesMet.rpo = times.rpoSeconds !== undefined && times.rpoSeconds <= objectives.rpoSeconds;
  if (input.cancelled) return { outcome: 'cancelled', reason: 'the drill was cancelled', objectivesMet };
  if (input.cloneFailure !== undefined) return { outcome: 'failed', reason: `the clone did not become ready: ${input.cloneFailure}`, objectivesMet };
  const failed = input.checks.filter((c) => !c.ok);
  if (failed.length > 0) return { outcome: 'failed', reason: `validation failed: ${failed.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ')}`, objectivesMet };
  const missed = [
    objectivesMet.rto === false ? `RTO ${times.rtoSeconds}s over the objective of ${objectives.rtoSeconds}s` : undefined,
    objectivesMet.rpo === false ? `RPO ${times.rpoSeconds ?? '?'}s over the objective of ${objectives.rpoSeconds}s` : undefined,
  ].filter((m): m is string => m !== undefined);
  if (missed.length > 0) return { outcome: 'failed', reason: `objectives missed: ${missed.join('; ')}`, objectivesMet };
  return { outcome: 'passed', objectivesMet };
}

const hms = (s: number) => (s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`);

/** The report as Markdown for people: verdict, RTO/RPO against objectives, the phase timeline, checks and data. */
export function drillMarkdown(r: DrillReport): string {
  const objective = (got: number | undefined, want: number | undefined, met: boolean | undefined) =>
    `${got === undefined ? 'n/a' : hms(got)}${want === undefined ? '' : ` (objective ${hms(want)}: ${met ? 'met' : 'missed'})`}`;
  const lines = [
    `# DR drill ${r.id}: ${r.outcome.toUpperCase()}`,
    '',
    `- Source: \`${r.source}\`${r.revision ? ` at \`${r.revision.replace(/^sha256:/, '').slice(0, 12)}\`` : ''} → clone \`${r.clone}\` on \`${r.cluster}\``,
    `- Requested by ${r.requestedBy}; ${r.startedAt} → ${r.finishedAt}`,
    `- RTO: ${objective(r.rtoSeconds, r.objectives.rtoSeconds, r.objectivesMet.rto)}`,
    `- RPO: ${objective(r.rpoSeconds, r.objectives.rpoSeconds, r.objectivesMet.rpo)}`,
    `- Clone ${r.kept ? 'kept (on request)' : r.tornDown ? 'torn down' : 'NOT torn down'}`,
  ];
  if (r.reason) lines.push(`- Why: ${r.reason}`);
  lines.push('', '## Timeline', '', '| phase | started | took |', '| --- | --- | --- |');
  for (const p of r.phases) lines.push(`| ${p.name} | ${p.startedAt} | ${p.finishedAt ? hms(seconds(p.startedAt, p.finishedAt)) : '—'} |`);
  lines.push('', '## Checks', '', '| check | result | detail |', '| --- | --- | --- |');
  for (const c of r.checks) lines.push(`| ${c.name} | ${c.ok ? 'ok' : 'FAILED'} | ${c.detail ?? ''} |`);
  if (r.data.length > 0) {
    lines.push('', '## Data', '', '| database | mode | rows | bytes | snapshot |', '| --- | --- | --- | --- | --- |');
    for (const d of r.data) lines.push(`| ${d.database} | ${d.mode} | ${d.rows} | ${d.bytes} | ${d.snapshotAt ?? ''} |`);
  }
  return `${lines.join('\n')}\n`;
}
