// flotilla clone SOURCE NAME --cluster C [--data DB=MODE] [--replicas S=N] [--config K=V]
//   [--host S=HOST] [--secret NAME=VALUE | --secret-file NAME=PATH] [--ttl 4h] [--wait],
// flotilla preview SOURCE --cluster C --ttl 4h [--name N] (a clone with a TTL, purpose preview),
// flotilla ttl CLONE-ID --extend 2h | --until TIME | --cancel, and how clones are shown.
import { readFileSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { age, type Column, type Format, render, shortRev } from '../output.js';
import { waitFor } from './deploy.js';

export interface CloneOptions {
  cluster: string;
  revision?: string;
  tier?: string;
  namespace?: string;
  data?: string[];
  replicas?: string[];
  config?: string[];
  host?: string[];
  secret?: string[];
  secretFile?: string[];
  ttl?: string;
  purpose?: string;
  wait?: boolean;
  format: Format;
  interval?: number;
}

export interface CloneView {
  id: string;
  name: string;
  source: string;
  sourceRevision: string;
  cluster: string;
  tier?: string;
  purpose: string;
  state: string;
  data: { database: string; mode: string }[];
  dataResult?: { database: string; mode: string; tables: number; rows: number; bytes: number; durationMs: number; snapshotAt?: string; unruledPersonal?: string[] }[];
  message?: string;
  expiresAt?: string;
  remainingSeconds?: number;
  phase?: string;
  copying?: string;
  createdAt: string;
}

/**
 * `K=V` flags (repeatable, each may hold several comma-separated pairs) → a record; a usage error
 * naming the flag otherwise (quoting what was given, unless it may hold a secret).
 */
export function pairs(values: readonly string[] | undefined, flag: string, split = true, secret = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    for (const pair of split ? value.split(',') : [value]) {
      const at = pair.indexOf('=');
      const key = pair.slice(0, at).trim();
      if (at <= 0 || key === '') throw new CliError(`${flag} takes KEY=VALUE${secret ? '' : `, not "${pair}"`}`, EXIT.usage);
      out[key] = pair.slice(at + 1).trim();
    }
  }
  return out;
}

function counts(values: readonly string[] | undefined, flag: string): Record<string, number> {
  return Object.fromEntries(Object.entries(pairs(values, flag)).map(([k, v]) => {
    if (!/^\d+$/.test(v)) throw new CliError(`${flag} ${k}=${v}: the count must be a whole number`, EXIT.usage);
    return [k, Number(v)];
  }));
}

/** The POST /v1/clones body the flags describe (secret values read from files here, never echoed). */
export function buildClone(source: string, name: string, options: CloneOptions, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  const replicas = counts(options.replicas, '--replicas');
  const config = pairs(options.config, '--config', false);
  const hostnames = pairs(options.host, '--host');
  if (Object.keys(replicas).length) overrides.replicas = replicas;
  if (Object.keys(config).length) overrides.config = config;
  if (Object.keys(hostnames).length) overrides.hostnames = hostnames;
  const secrets: Record<string, string> = { ...pairs(options.secret, '--secret', false, true) };
  for (const [secret, path] of Object.entries(pairs(options.secretFile, '--secret-file', false))) {
    try {
      secrets[secret] = readFile(path).replace(/\r?\n$/, '');
    } catch (error) {
      throw new CliError(`--secret-file ${secret}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, EXIT.usage);
    }
  }
  return {
    source, name, cluster: options.cluster,
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.tier ? { tier: options.tier } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(Object.keys(overrides).length ? { overrides } : {}),
    ...(options.data?.length ? { data: pairs(options.data, '--data') } : {}),
    ...(Object.keys(secrets).length ? { secrets } : {}),
    ...(options.ttl ? { ttl: options.ttl } : {}),
    ...(options.purpose ? { purpose: options.purpose } : {}),
  };
}

export async function clone(ctx: CommandContext, source: string, name: string, options: CloneOptions): Promise<void> {
  const { body } = await ctx.client().request<{ operationId: string }>('POST', '/v1/clones', { json: buildClone(source, name, options) });
  const id = body.operationId;
  if (!options.wait) {
    ctx.io.out(options.format === 'table' ? `clone started: operation ${id} (flotilla get clone ${id})` : render(body, options.format, [], []));
    return;
  }
  const view = await follow(ctx, id, options.interval ?? 1000);
  if (options.format !== 'table') ctx.io.out(render(view, options.format, [], []));
  if (view.state !== 'ready') throw new CliError(`clone ${id} ${view.state}${view.message ? `: ${view.message}` : ''}`, EXIT.failed);
  if (options.format === 'table') ctx.io.out(describeClone(view));
}

/** Follows the clone's operation to its end, printing its phases (and what the copy is doing) on stderr. */
async function follow(ctx: CommandContext, id: string, intervalMs: number): Promise<CloneView> {
  const started = Date.now();
  let said = '';
  const watching = setInterval(() => {
    void ctx.client().get<CloneView>(`/v1/clones/${encodeURIComponent(id)}`).then((v) => {
      const now = [v.phase ?? v.state, v.copying ? `copying ${v.copying}` : ''].filter(Boolean).join(': ');
      if (now !== said) ctx.io.err(`[${Math.round((Date.now() - started) / 1000)}s] ${id}: ${now}`);
      said = now;
    }, () => undefined);
  }, intervalMs);
  try {
    await waitFor(ctx, id, intervalMs);
  } finally {
    clearInterval(watching);
  }
  return ctx.client().get<CloneView>(`/v1/clones/${encodeURIComponent(id)}`);
}

export const CLONE_COLUMNS: Column<CloneView>[] = [
  { header: 'id', value: (c) => c.id },
  { header: 'name', value: (c) => c.name },
  { header: 'source', value: (c) => c.source },
  { header: 'revision', value: (c) => shortRev(c.sourceRevision) },
  { header: 'cluster', value: (c) => c.cluster },
  { header: 'purpose', value: (c) => c.purpose },
  { header: 'state', value: (c) => c.state },
  { header: 'data', value: (c) => c.data.filter((d) => d.mode !== 'none').map((d) => `${d.database}=${d.mode}`).join(',') },
  { header: 'expires', value: (c) => (c.expiresAt ? c.expiresAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '') },
  { header: 'age', value: (c) => age(c.createdAt) },
];

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** One clone in full: what it is, its data and what the copy did, its TTL. */
export function describeClone(c: CloneView): string {
  const lines = [
    `Clone:        ${c.id}`,
    `Environment:  ${c.name}${c.tier ? ` (tier ${c.tier})` : ''} on ${c.cluster}`,
    `Source:       ${c.source} (${shortRev(c.sourceRevision)})`,
    `Purpose:      ${c.purpose}`,
    `State:        ${c.state}${c.phase && c.state === 'creating' ? ` (${c.phase}${c.copying ? `: ${c.copying}` : ''})` : ''}`,
  ];
  if (c.expiresAt) lines.push(`Expires:      ${c.expiresAt}${c.remainingSeconds !== undefined ? ` (in ${Math.round(c.remainingSeconds / 60)} min)` : ''}`);
  if (c.message) lines.push(`Message:      ${c.message}`);
  lines.push('Data:');
  for (const d of c.data) {
    const done = c.dataResult?.find((r) => r.database === d.database);
    lines.push(`  ${d.database}: ${d.mode}${done ? `, ${done.tables} tables, ${done.rows} rows, ${mb(done.bytes)} in ${(done.durationMs / 1000).toFixed(1)}s${done.snapshotAt ? `, snapshot of ${done.snapshotAt}` : ''}` : ''}`);
    if (done?.unruledPersonal?.length) lines.push(`    personal-looking columns without a rule: ${done.unruledPersonal.join(', ')}`);
  }
  return lines.join('\n');
}

export async function showClone(ctx: CommandContext, id: string, format: Format): Promise<void> {
  const view = await ctx.client().get<CloneView>(`/v1/clones/${encodeURIComponent(id)}`);
  ctx.io.out(format === 'table' ? describeClone(view) : render(view, format, [], []));
}

export async function listClones(ctx: CommandContext, format: Format, all: boolean): Promise<void> {
  const body = await ctx.client().get<{ items: CloneView[] }>(`/v1/clones${all ? '?active=false' : ''}`);
  ctx.io.out(render(body, format, body.items, CLONE_COLUMNS));
}

export async function teardown(ctx: CommandContext, id: string, options: { wait?: boolean; interval?: number }): Promise<void> {
  const { body } = await ctx.client().request<{ operationId: string }>('DELETE', `/v1/clones/${encodeURIComponent(id)}`);
  if (!options.wait) {
    ctx.io.out(`teardown started: operation ${body.operationId}`);
    return;
  }
  const final = await waitFor(ctx, body.operationId, options.interval ?? 1000);
  if (final.outcome !== 'completed') throw new CliError(`teardown ${body.operationId} ${final.outcome ?? final.state}${final.message ? `: ${final.message}` : ''}`, EXIT.failed);
  ctx.io.out(`clone ${id} torn down`);
}

export async function changeTtl(ctx: CommandContext, id: string, options: { extend?: string; until?: string; cancel?: boolean }): Promise<void> {
  const given = [options.extend, options.until, options.cancel].filter((x) => x !== undefined && x !== false);
  if (given.length !== 1) throw new CliError('give exactly one of --extend, --until or --cancel', EXIT.usage);
  const { body } = await ctx.client().request<{ expiresAt?: string; phase: string }>('POST', `/v1/clones/${encodeURIComponent(id)}/ttl`, {
    json: options.cancel ? { cancel: true } : options.extend !== undefined ? { extend: options.extend } : { until: options.until },
  });
  ctx.io.out(body.expiresAt ? `clone ${id} now expires at ${body.expiresAt}` : `clone ${id} has no TTL any more (${body.phase})`);
}
