// flotilla cluster discover|import PROVIDER: a cloud account's clusters, found by the worker with
// its credentials; `import` registers them (all, or those named) with labels from their tags and
// starts onboarding each, printing what it imported and the onboarding operations.
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Column, type Format, render } from '../output.js';

export const IMPORT_PROVIDERS = ['eks', 'gke', 'aks', 'kubeconfig'] as const;
type ImportProvider = (typeof IMPORT_PROVIDERS)[number];

/** The account flags; each provider takes some of them. */
export interface AccountOptions {
  region?: string[];
  roleArn?: string;
  project?: string;
  subscription?: string;
  resourceGroup?: string;
  kubeconfigSecret?: string;
}

export interface ImportOptions extends AccountOptions {
  all?: boolean;
  label?: string[];
  allowedTiers?: string;
  format: Format;
}

interface Discovered { name: string; suggestedName: string; region?: string; version?: string; status: string; ready: boolean; nodeCount?: number; tags?: Record<string, string> }
interface Imported { name: string; cloudName: string; region?: string; action: string; operationId?: string; labels: Record<string, string>; skippedTags?: { tag: string; reason: string }[] }

const FLAGS: Record<keyof AccountOptions, string> = {
  region: '--region', roleArn: '--role-arn', project: '--project', subscription: '--subscription', resourceGroup: '--resource-group', kubeconfigSecret: '--kubeconfig-secret',
};
const ACCEPTS: Record<ImportProvider, (keyof AccountOptions)[]> = {
  eks: ['region', 'roleArn'],
  gke: ['project', 'region'],
  aks: ['subscription', 'resourceGroup'],
  kubeconfig: ['kubeconfigSecret'],
};

function checkProvider(provider: string): ImportProvider {
  if (!(IMPORT_PROVIDERS as readonly string[]).includes(provider)) {
    throw new CliError(`unknown provider "${provider}" (${IMPORT_PROVIDERS.join(', ')})`, EXIT.usage);
  }
  return provider as ImportProvider;
}

/** The request's account fields from the flags, refusing flags the provider does not take. */
export function accountBody(provider: string, o: AccountOptions): Record<string, unknown> {
  const p = checkProvider(provider);
  for (const key of Object.keys(FLAGS) as (keyof AccountOptions)[]) {
    const value = o[key];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    if (!ACCEPTS[p].includes(key)) throw new CliError(`${FLAGS[key]} does not apply to ${p} (it takes ${ACCEPTS[p].map((k) => FLAGS[k]).join(', ')})`, EXIT.usage);
  }
  const regions = (o.region ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
  switch (p) {
    case 'eks':
      return { ...(regions.length ? { regions } : {}), ...(o.roleArn ? { roleArn: o.roleArn } : {}) };
    case 'gke':
      if (!o.project) throw new CliError('gke needs --project', EXIT.usage);
      if (regions.length > 1) throw new CliError('gke takes one --region (a region or zone; every location when left out)', EXIT.usage);
      return { project: o.project, ...(regions.length ? { location: regions[0] } : {}) };
    case 'aks':
      if (!o.subscription) throw new CliError('aks needs --subscription', EXIT.usage);
      return { subscriptionId: o.subscription, ...(o.resourceGroup ? { resourceGroup: o.resourceGroup } : {}) };
    case 'kubeconfig':
      if (!o.kubeconfigSecret) throw new CliError('kubeconfig needs --kubeconfig-secret', EXIT.usage);
      return { kubeconfigSecret: o.kubeconfigSecret };
  }
}

/** `k=v` flags (each may hold several, comma-separated) as labels. */
export function parseLabels(values: string[] = []): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of values.flatMap((v) => v.split(','))) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`--label "${pair}" is not KEY=VALUE`, EXIT.usage);
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return labels;
}

const tagList = (t: Record<string, string> | undefined) => Object.entries(t ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

const DISCOVERED: Column<Discovered>[] = [
  { header: 'name', value: (c) => c.name },
  { header: 'region', value: (c) => c.region },
  { header: 'status', value: (c) => c.status },
  { header: 'version', value: (c) => c.version },
  { header: 'nodes', value: (c) => c.nodeCount },
  { header: 'tags', value: (c) => tagList(c.tags) },
];

const IMPORTED: Column<Imported>[] = [
  { header: 'name', value: (r) => r.name },
  { header: 'cloud name', value: (r) => r.cloudName },
  { header: 'region', value: (r) => r.region },
  { header: 'action', value: (r) => r.action },
  { header: 'operation', value: (r) => r.operationId ?? '-' },
  { header: 'labels', value: (r) => tagList(r.labels) },
];

export async function discoverClusters(ctx: CommandContext, provider: string, o: AccountOptions & { format: Format }): Promise<void> {
  const account = accountBody(provider, o);
  const { body } = await ctx.client().request<{ items: Discovered[] }>('POST', `/v1/providers/${provider}/discover`, { json: account });
  ctx.io.out(render(body, o.format, body.items, DISCOVERED));
}

export async function importClusters(ctx: CommandContext, provider: string, names: string[], o: ImportOptions): Promise<void> {
  if (o.all && names.length > 0) throw new CliError('give --all or cluster names, not both', EXIT.usage);
  if (!o.all && names.length === 0) throw new CliError('name the clusters to import, or give --all', EXIT.usage);
  const allowedTiers = o.allowedTiers?.split(',').map((t) => t.trim()).filter(Boolean);
  const labels = parseLabels(o.label);
  const json = {
    ...accountBody(provider, o),
    ...(o.all ? { all: true } : { names }),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(allowedTiers?.length ? { allowedTiers } : {}),
  };
  const { body } = await ctx.client().request<{ results: Imported[] }>('POST', `/v1/providers/${provider}/import`, { json });
  ctx.io.out(render(body, o.format, body.results, IMPORTED));
  if (o.format === 'table') {
    for (const r of body.results) {
      for (const s of r.skippedTags ?? []) ctx.io.err(`${r.name}: tag "${s.tag}" not made a label: ${s.reason}`);
    }
  }
}
