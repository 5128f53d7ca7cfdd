// flotilla get / describe / diff: reads, as tables (default), JSON or YAML.
import { stringify } from 'yaml';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { age, type Column, type Format, render, shortRev } from '../output.js';
import { CLONE_COLUMNS, listClones, showClone } from './clone.js';
import { listDrills, showDrill } from './drill.js';
import { getDrift, getFleet } from './fleet.js';
import { showPromotion } from './promote.js';

interface Cluster { name: string; provider: string; region?: string; status: string; version?: string; labels: Record<string, string>; createdAt: string }
interface Environment { name: string; application: string; tier: string; cluster: string; namespace: string; updates: string; stopped?: { at: string }; currentRevision?: string; deployed?: { revision: string }; createdAt: string }
interface Application { name: string; currentRevision: string; environments: { name: string; updates: string }[]; updatedBy: string; updatedAt: string }
interface Operation { id: string; kind: string; state: string; environments: string[]; clusters: string[]; requestedBy?: string; outcome?: string; startedAt: string }
interface Diff { a: { name: string; revision: string }; b: { name: string; revision: string }; overrides: { path: string; a: unknown; b: unknown }[]; other: { path: string; a: unknown; b: unknown }[]; zeroDrift: boolean }

const labels = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',');

const RESOURCES = {
  clusters: {
    path: '/v1/clusters',
    columns: [
      { header: 'name', value: (c) => c.name },
      { header: 'provider', value: (c) => c.provider },
      { header: 'region', value: (c) => c.region },
      { header: 'status', value: (c) => c.status },
      { header: 'version', value: (c) => c.version },
      { header: 'labels', value: (c) => labels(c.labels) },
      { header: 'age', value: (c) => age(c.createdAt) },
    ] satisfies Column<Cluster>[],
  },
  environments: {
    path: '/v1/environments',
    columns: [
      { header: 'name', value: (e) => e.name },
      { header: 'application', value: (e) => e.application },
      { header: 'tier', value: (e) => e.tier },
      { header: 'cluster', value: (e) => e.cluster },
      { header: 'namespace', value: (e) => e.namespace },
      // How it takes its application's changes: track (on apply), promotion (only), inline (its own app).
      { header: 'updates', value: (e) => e.updates },
      { header: 'revision', value: (e) => shortRev(e.currentRevision) },
      { header: 'deployed', value: (e) => `${shortRev(e.deployed?.revision)}${e.stopped ? ' (stopped)' : ''}` },
      { header: 'age', value: (e) => age(e.createdAt) },
    ] satisfies Column<Environment>[],
  },
  applications: {
    path: '/v1/applications',
    columns: [
      { header: 'name', value: (a) => a.name },
      { header: 'revision', value: (a) => shortRev(a.currentRevision) },
      { header: 'tracking', value: (a) => a.environments.filter((e) => e.updates === 'track').map((e) => e.name).join(',') },
      { header: 'by promotion', value: (a) => a.environments.filter((e) => e.updates === 'promotion').map((e) => e.name).join(',') },
      { header: 'updated by', value: (a) => a.updatedBy },
      { header: 'age', value: (a) => age(a.updatedAt) },
    ] satisfies Column<Application>[],
  },
  operations: {
    path: '/v1/operations',
    columns: [
      { header: 'id', value: (o) => o.id },
      { header: 'kind', value: (o) => o.kind },
      { header: 'state', value: (o) => o.state },
      { header: 'outcome', value: (o) => o.outcome },
      { header: 'targets', value: (o) => [...o.environments, ...o.clusters].join(',') },
      { header: 'by', value: (o) => o.requestedBy },
      { header: 'age', value: (o) => age(o.startedAt) },
    ] satisfies Column<Operation>[],
  },
} as const;

const PROMOTION_ALIASES = new Set(['promotion', 'promotions', 'promo', 'promos']);
const CLONE_ALIASES = new Set(['clone', 'clones']);
const DRILL_ALIASES = new Set(['drill', 'drills']);

const ALIASES: Record<string, keyof typeof RESOURCES> = {
  cluster: 'clusters', clusters: 'clusters',
  environment: 'environments', environments: 'environments', env: 'environments', envs: 'environments',
  application: 'applications', applications: 'applications', app: 'applications', apps: 'applications',
  operation: 'operations', operations: 'operations', op: 'operations', ops: 'operations',
};

function resource(name: string): keyof typeof RESOURCES {
  const r = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  if (!r) throw new CliError(`unknown resource "${name}" (clusters, applications, environments, operations, promotions, clones, drills, fleet, drift)`, EXIT.usage);
  return r;
}

export async function get(ctx: CommandContext, kind: string, options: { format: Format; selector?: string; name?: string }): Promise<void> {
  if (PROMOTION_ALIASES.has(kind)) {
    if (options.selector) throw new CliError('-l/--selector applies to clusters only', EXIT.usage);
    // One promotion: its stages × targets; none named: the promotion operations.
    if (options.name) return showPromotion(ctx, options.name, { format: options.format, detailed: false });
    const body = await ctx.client().get<{ items: never[] }>('/v1/operations?kind=promotion');
    ctx.io.out(render(body, options.format, body.items, RESOURCES.operations.columns as Column<never>[]));
    return;
  }
  if (DRILL_ALIASES.has(kind)) return options.name ? showDrill(ctx, options.name, options.format) : listDrills(ctx, options.format);
  if (kind === 'fleet') {
    if (options.name) throw new CliError('get fleet takes no name; -l/--selector picks clusters by label', EXIT.usage);
    return getFleet(ctx, { selector: options.selector }, options.format);
  }
  if (kind === 'drift') {
    if (options.name || options.selector) throw new CliError('get drift takes no name or selector', EXIT.usage);
    return getDrift(ctx, options.format);
  }
  if (CLONE_ALIASES.has(kind)) {
    if (options.selector) throw new CliError('-l/--selector applies to clusters only', EXIT.usage);
    if (!options.name) return listClones(ctx, options.format, false);
    const one = await ctx.client().get<never>(`/v1/clones/${encodeURIComponent(options.name)}`);
    ctx.io.out(render(one, options.format, [one], CLONE_COLUMNS as Column<never>[]));
    return;
  }
  const r = resource(kind);
  if (options.name) {
    if (options.selector) throw new CliError('-l/--selector lists clusters; leave the name out', EXIT.usage);
    const one = await ctx.client().get<never>(`${RESOURCES[r].path}/${encodeURIComponent(options.name)}`);
    ctx.io.out(render(one, options.format, [one], RESOURCES[r].columns as Column<never>[]));
    return;
  }
  const query = options.selector ? `?labels=${encodeURIComponent(options.selector)}` : '';
  if (options.selector && r !== 'clusters') throw new CliError('-l/--selector applies to clusters only', EXIT.usage);
  const body = await ctx.client().get<{ items: never[] }>(`${RESOURCES[r].path}${query}`);
  ctx.io.out(render(body, options.format, body.items, RESOURCES[r].columns as Column<never>[]));
}

export async function describe(ctx: CommandContext, kind: string, name: string, options: { format: Format }): Promise<void> {
  if (PROMOTION_ALIASES.has(kind)) return showPromotion(ctx, name, { format: options.format, detailed: true });
  if (CLONE_ALIASES.has(kind)) return showClone(ctx, name, options.format);
  if (DRILL_ALIASES.has(kind)) return showDrill(ctx, name, options.format);
  const r = resource(kind);
  const body = await ctx.client().get<Record<string, unknown>>(`${RESOURCES[r].path}/${encodeURIComponent(name)}`);
  // describe is for people: YAML unless JSON is asked for.
  ctx.io.out(options.format === 'json' ? JSON.stringify(body, null, 2) : stringify(body).trimEnd());
}

export async function diff(ctx: CommandContext, a: string, b: string, options: { format: Format }): Promise<void> {
  const body = await ctx.client().get<Diff>(`/v1/environments/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`);
  if (options.format !== 'table') {
    ctx.io.out(render(body, options.format, [], []));
    return;
  }
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  ctx.io.out(`--- ${a} (${shortRev(body.a.revision)})\n+++ ${b} (${shortRev(body.b.revision)})`);
  if (body.overrides.length + body.other.length === 0) ctx.io.out('no differences');
  for (const d of body.overrides) ctx.io.out(`~ ${d.path}: ${show(d.a)} → ${show(d.b)}   (override)`);
  for (const d of body.other) ctx.io.out(`! ${d.path}: ${show(d.a)} → ${show(d.b)}`);
  ctx.io.out(body.zeroDrift ? 'zero drift: only declared overrides differ' : `drift: ${body.other.length} difference(s) outside overrides`);
}
