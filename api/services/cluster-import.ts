// Discovery and import of a cloud account's clusters. Discovery runs on the worker (the
// discoverClusters workflow and activity: the worker holds the cloud credentials, the API none);
// the API waits for its answer. Import then registers each selected cluster as POST /v1/clusters
// does (labels from the cloud's tags, plus provider and region) and starts its onboarding.
// Clusters already registered (the same cloud cluster, by any route) are reported `unchanged`.
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical.js';
import type { ClusterConnection, Provider } from '../../domain/cluster.js';
import type { ValidationIssue } from '../../domain/documents.js';
import { LabelKey, LabelValue } from '../../domain/names.js';
import type { DiscoveredCluster, DiscoverClustersInput } from '../../activities/discovery-types.js';
import { importLabels } from '../../providers/cloud/tags.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest } from '../errors.js';
import type { ImportBody, ImportResult, RegisterCluster } from '../schemas.js';
import { WorkflowRunError } from '../starter.js';
import { prepareRegistration, registerCluster } from './clusters.js';

/** How long the API waits for the worker's discovery before it gives up (504). */
export const DISCOVERY_TIMEOUT_MS = 120_000;

export function discoveryId(provider: Provider): string {
  return `discover-${provider}-${randomUUID()}`;
}

/** The worker's failure as the API's error: the same codes discovery in the API used to answer. */
function fromWorker(error: WorkflowRunError): ApiError {
  switch (error.type) {
    case 'ProviderNotConfigured': return new ApiError(422, 'provider_not_configured', error.message.replace('this worker', 'the worker'));
    case 'Cloudinvalid-input': return new ApiError(400, 'invalid_request', error.message);
    case 'Cloudnot-found': return new ApiError(404, 'not_found', error.message);
    case 'Cloudthrottled': case 'Cloudunavailable': case 'Cloudnetwork': return new ApiError(503, 'provider_unavailable', error.message);
    case undefined: return /timed? ?out/i.test(error.message)
      ? new ApiError(504, 'discovery_timeout', `the worker did not answer within ${DISCOVERY_TIMEOUT_MS / 1000} s`)
      : new ApiError(502, 'discovery_failed', error.message);
    default: return new ApiError(502, 'provider_error', error.message);
  }
}

/** Runs discovery on the worker and waits for its answer. */
export async function discoverOnWorker(deps: ApiDeps, provider: Provider, account: Record<string, unknown>): Promise<DiscoveredCluster[]> {
  const execute = deps.operations.execute?.bind(deps.operations);
  // As when a provider has no adapter: this API (a test double of Temporal) cannot ask a worker.
  if (!execute) throw new ApiError(422, 'provider_not_configured', 'discovery runs on the worker, and this API has no way to ask one');
  const input: DiscoverClustersInput = { provider, account };
  try {
    return (await execute('discoverClusters', [input], discoveryId(provider), { timeoutMs: DISCOVERY_TIMEOUT_MS })) as DiscoveredCluster[];
  } catch (error) {
    if (error instanceof WorkflowRunError) throw fromWorker(error);
    throw error;
  }
}

/** `all` or `names`, exactly one; names without repeats. */
export function checkSelection(body: Pick<ImportBody, 'all' | 'names'>): void {
  const issues: ValidationIssue[] = [];
  if (body.all === true && body.names !== undefined) issues.push({ path: 'names', message: 'give either all: true or names, not both' });
  else if (body.all !== true && body.names === undefined) issues.push({ path: 'names', message: 'required unless all is true (the clusters to import, by their name in the provider)' });
  const seen = new Set<string>();
  body.names?.forEach((name, i) => {
    if (seen.has(name)) issues.push({ path: `names[${i}]`, message: `"${name}" appears twice` });
    seen.add(name);
  });
  if (issues.length > 0) throw badRequest(issues);
}

/** The discovered clusters the body selects, in its order; unknown names are refused, naming each. */
export function selectClusters(found: DiscoveredCluster[], body: Pick<ImportBody, 'all' | 'names'>): DiscoveredCluster[] {
  if (body.all === true) return found;
  const issues: ValidationIssue[] = [];
  const selected: DiscoveredCluster[] = [];
  body.names!.forEach((name, i) => {
    const matches = found.filter((c) => c.name === name);
    if (matches.length === 0) issues.push({ path: `names[${i}]`, message: 'no cluster of that name in the account' });
    selected.push(...matches);
  });
  if (issues.length > 0) {
    const known = found.map((c) => c.name).sort().join(', ') || 'none';
    throw new ApiError(422, 'invalid_reference', `${issues.length} cluster(s) not found in the account (it has: ${known})`, issues);
  }
  return selected;
}

/** Labels that are not valid Kubernetes labels cannot reach here (tags.ts), but a wrong one would fail the whole import: drop it. */
function validLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k, v]) => LabelKey.safeParse(k).success && LabelValue.safeParse(v).success));
}

/**
 * Which cluster a connection names, whatever the route to it: an EKS cluster is the same through
 * another role; Azure names are case-insensitive.
 */
export function clusterIdentity(c: ClusterConnection): string {
  switch (c.provider) {
    case 'eks': return canonicalJson(['eks', c.region, c.clusterName]);
    case 'gke': return canonicalJson(['gke', c.project, c.location, c.clusterName]);
    case 'aks': return canonicalJson(['aks', c.subscriptionId.toLowerCase(), c.resourceGroup.toLowerCase(), c.clusterName.toLowerCase()]);
    case 'kubeconfig': return canonicalJson(['kubeconfig', c.kubeconfigSecret, c.context ?? null]);
  }
}

type Planned =
  | { kind: 'existing'; cluster: DiscoveredCluster; name: string; labels: Record<string, string> }
  | { kind: 'new'; cluster: DiscoveredCluster; request: RegisterCluster; connection: ClusterConnection; skippedTags: { tag: string; reason: string }[] };

/**
 * Registers each selected cluster and starts its onboarding. Everything is checked first (a
 * Flotilla name another cluster already has is a 409, naming it): then nothing is written.
 */
export async function importClusters(deps: ApiDeps, provider: Provider, selected: DiscoveredCluster[], body: ImportBody, by: string): Promise<ImportResult> {
  const registered = await deps.catalog.clusters.list();
  const byConnection = new Map(registered.map((c) => [clusterIdentity(c.connection), c]));
  const taken = new Map(registered.map((c) => [c.name, c]));
  const planned: Planned[] = [];
  const conflicts: ValidationIssue[] = [];
  const claimed = new Map<string, string>();
  for (const cluster of selected) {
    const existing = byConnection.get(clusterIdentity(cluster.connection));
    if (existing) {
      planned.push({ kind: 'existing', cluster, name: existing.name, labels: existing.labels });
      continue;
    }
    const name = cluster.suggestedName;
    const where = cluster.region ? ` in ${cluster.region}` : '';
    if (taken.has(name)) {
      conflicts.push({ path: `clusters.${name}`, message: `"${cluster.name}"${where} would be registered as "${name}", which is another cluster's name` });
      continue;
    }
    const earlier = claimed.get(name);
    if (earlier !== undefined) {
      conflicts.push({ path: `clusters.${name}`, message: `"${cluster.name}"${where} and ${earlier} would both be registered as "${name}"; import them one at a time` });
      continue;
    }
    claimed.set(name, `"${cluster.name}"${where}`);
    const { labels, skipped } = importLabels(provider, cluster.region, cluster.tags, body.labels);
    const request: RegisterCluster = {
      name, ...(cluster.region ? { region: cluster.region } : {}), labels: validLabels(labels), connection: cluster.connection,
      ...(body.allowedTiers ? { allowedTiers: body.allowedTiers } : {}),
    };
    const connection = await prepareRegistration(deps, request);
    planned.push({ kind: 'new', cluster, request, connection, skippedTags: skipped });
  }
  if (conflicts.length > 0) throw new ApiError(409, 'name_taken', `${conflicts.length} cluster(s) cannot take their name; nothing was imported`, conflicts);

  const results: ImportResult['results'] = [];
  for (const plan of planned) {
    const base = { cloudName: plan.cluster.name, ...(plan.cluster.region ? { region: plan.cluster.region } : {}) };
    if (plan.kind === 'existing') {
      results.push({ name: plan.name, ...base, action: 'unchanged', labels: plan.labels });
      continue;
    }
    const operationId = await registerCluster(deps, plan.request, plan.connection, by);
    results.push({
      name: plan.request.name, ...base, action: 'created', operationId, labels: plan.request.labels ?? {},
      ...(plan.skippedTags.length > 0 ? { skippedTags: plan.skippedTags } : {}),
    });
  }
  return { results };
}
