// flotilla get fleet / get drift / status ENV / watch: the observer's view of the fleet.
import type { CommandContext } from '../context.js';
import { age, type Column, type Format, render, shortRev, table } from '../output.js';

interface Service { service: string; health: string; desiredReplicas: number; readyReplicas: number; updatedReplicas: number; restarts: number; revision?: string; drift: boolean; problems?: string[] }
interface FleetEnv { name: string; application: string; tier: string; namespace: string; deployedRevision?: string; liveRevision?: string; stoppedSince?: string; health: string; drifted: boolean; driftedObjects: number; driftSince?: string; stale: boolean; ageSeconds?: number; services: Service[] }
interface FleetCluster { name: string; status: string; reachability: { state: string; since?: string; message?: string }; stale: boolean; ageSeconds?: number; environments: FleetEnv[] }
export interface Fleet { clusters: FleetCluster[]; summary: { clusters: number; unreachable: number; environments: number; healthy: number; drifted: number; stale: number } }
interface FieldDrift { path: string; expected?: unknown; actual?: unknown; changedBy?: string; changedAt?: string }
interface ObjectDrift { kind: string; name: string; reason: string; fields: FieldDrift[]; changedBy?: string }
interface DriftItem { environment: string; cluster: string; since?: string; stale: boolean; objects: ObjectDrift[] }
interface EnvStatus extends FleetEnv { cluster: string; reachability: { state: string; since?: string; lastSeenAt?: string; message?: string }; drift: ObjectDrift[]; observedAt?: string }

export interface FleetFilters { selector?: string; tier?: string; application?: string; health?: string }

interface FleetRow { cluster: FleetCluster; env?: FleetEnv }

const ready = (services: Service[]) => (services.length === 0 ? '' : `${services.reduce((n, s) => n + s.readyReplicas, 0)}/${services.reduce((n, s) => n + s.desiredReplicas, 0)}`);
const staleness = (stale: boolean, ageSeconds?: number) => (stale ? `stale${ageSeconds === undefined ? '' : ` ${ageSeconds}s`}` : '');

const FLEET_COLUMNS: Column<FleetRow>[] = [
  { header: 'cluster', value: (r) => r.cluster.name },
  { header: 'status', value: (r) => r.cluster.status },
  { header: 'environment', value: (r) => r.env?.name ?? '-' },
  { header: 'tier', value: (r) => r.env?.tier },
  { header: 'health', value: (r) => (r.env?.stoppedSince ? `stopped (${r.env.health})` : r.env?.health) },
  { header: 'drift', value: (r) => (r.env ? (r.env.drifted ? `${r.env.driftedObjects} object(s)` : 'none') : '') },
  { header: 'ready', value: (r) => (r.env ? ready(r.env.services) : '') },
  { header: 'revision', value: (r) => r.env?.liveRevision ?? shortRev(r.env?.deployedRevision) },
  { header: 'observed', value: (r) => staleness(r.env?.stale ?? r.cluster.stale, r.env?.ageSeconds ?? r.cluster.ageSeconds) || 'live' },
];

export function fleetPath(filters: FleetFilters): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value !== undefined) query.set(key, value);
  const text = query.toString();
  return `/v1/fleet${text ? `?${text}` : ''}`;
}

/** One row per environment; a cluster with none gets one row of its own. */
export function fleetTable(fleet: Fleet): string {
  const rows = fleet.clusters.flatMap((cluster): FleetRow[] => (cluster.environments.length === 0 ? [{ cluster }] : cluster.environments.map((env) => ({ cluster, env }))));
  const s = fleet.summary;
  const summary = `${s.clusters} cluster(s), ${s.unreachable} unreachable; ${s.environments} environment(s): ${s.healthy} healthy, ${s.drifted} drifted, ${s.stale} stale`;
  return rows.length === 0 ? `No resources found.\n${summary}` : `${table(rows, FLEET_COLUMNS)}\n\n${summary}`;
}

export async function getFleet(ctx: CommandContext, filters: FleetFilters, format: Format): Promise<void> {
  const fleet = (await ctx.client().request<Fleet>('GET', fleetPath(filters))).body;
  ctx.io.out(format === 'table' ? fleetTable(fleet) : render(fleet, format, [], []));
}

interface DriftRow { item: DriftItem; object: ObjectDrift }

const show = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

function objectSummary(o: ObjectDrift): string {
  if (o.reason === 'deleted') return 'deleted';
  if (o.reason === 'extra') return `extra${o.changedBy ? ` (by ${o.changedBy})` : ''}`;
  return o.fields.map((f) => `${f.path}: ${show(f.expected)} → ${show(f.actual)}${f.changedBy ? ` (by ${f.changedBy})` : ''}`).join('; ');
}

const DRIFT_COLUMNS: Column<DriftRow>[] = [
  { header: 'environment', value: (r) => r.item.environment },
  { header: 'cluster', value: (r) => r.item.cluster },
  { header: 'object', value: (r) => `${r.object.kind}/${r.object.name}` },
  { header: 'difference', value: (r) => objectSummary(r.object) },
  { header: 'since', value: (r) => age(r.item.since) },
];

export async function getDrift(ctx: CommandContext, format: Format): Promise<void> {
  const body = (await ctx.client().request<{ items: DriftItem[] }>('GET', '/v1/drift')).body;
  if (format !== 'table') return ctx.io.out(render(body, format, [], []));
  const rows = body.items.flatMap((item) => item.objects.map((object) => ({ item, object })));
  ctx.io.out(rows.length === 0 ? 'No drift: every observed environment matches its last deploy.' : table(rows, DRIFT_COLUMNS));
}

const SERVICE_COLUMNS: Column<Service>[] = [
  { header: 'service', value: (s) => s.service },
  { header: 'health', value: (s) => s.health },
  { header: 'ready', value: (s) => `${s.readyReplicas}/${s.desiredReplicas}` },
  { header: 'up-to-date', value: (s) => s.updatedReplicas },
  { header: 'restarts', value: (s) => s.restarts },
  { header: 'revision', value: (s) => s.revision },
  { header: 'drift', value: (s) => (s.drift ? 'yes' : '') },
];

export async function status(ctx: CommandContext, environment: string, format: Format): Promise<void> {
  const s = (await ctx.client().request<EnvStatus>('GET', `/v1/environments/${encodeURIComponent(environment)}/status`)).body;
  if (format !== 'table') return ctx.io.out(render(s, format, [], []));
  const reach = s.reachability.state === 'unreachable'
    ? `unreachable since ${s.reachability.since ?? '?'}${s.reachability.message ? ` (${s.reachability.message})` : ''}`
    : s.reachability.state;
  const lines = [
    `Environment:  ${s.name} (${s.application}, tier ${s.tier})`,
    `Cluster:      ${s.cluster}/${s.namespace}: ${reach}`,
    `Health:       ${s.health}${s.stale ? `  (stale: last seen ${s.ageSeconds ?? '?'}s ago)` : ''}`,
    `Revision:     deployed ${shortRev(s.deployedRevision) || '(none)'}, running ${s.liveRevision ?? '(unknown)'}`,
    `Drift:        ${s.drift.length === 0 ? 'none' : `${s.drift.length} object(s) since ${s.driftSince ?? '?'}`}`,
    '',
    s.services.length === 0 ? 'No services observed yet.' : table(s.services, SERVICE_COLUMNS),
  ];
  for (const svc of s.services) for (const p of svc.problems ?? []) lines.push(`  ! ${svc.service}: ${p}`);
  if (s.drift.length > 0) {
    lines.push('', 'Drift:');
    for (const o of s.drift) lines.push(`  ${o.kind}/${o.name}: ${objectSummary(o)}`);
  }
  ctx.io.out(lines.join('\n'));
}

/**
 * Redraws the fleet table whenever it changes (the API's ETag), like `kubectl get -w` but as a
 * whole screen; Ctrl-C ends it. `rounds` bounds it for tests.
 */
export async function watch(ctx: CommandContext, filters: FleetFilters, options: { intervalMs?: number; rounds?: number; clear?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  let etag: string | undefined;
  for (let round = 0; options.rounds === undefined || round < options.rounds; round++) {
    if (options.signal?.aborted) return;
    const res = await ctx.client().request<Fleet>('GET', fleetPath(filters), undefined, etag ? { 'if-none-match': etag } : undefined);
    if (res.status !== 304) {
      etag = res.headers.get('etag') ?? undefined;
      const screen = `${new Date().toISOString().slice(11, 19)}  flotilla watch (every ${(options.intervalMs ?? 2000) / 1000}s, Ctrl-C to stop)\n\n${fleetTable(res.body)}`;
      ctx.io.out(options.clear ? `\x1b[H\x1b[2J${screen}` : screen);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs ?? 2000);
      options.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
}
