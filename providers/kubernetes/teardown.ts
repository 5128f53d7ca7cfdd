// Tearing an environment down in its cluster: delete every object Flotilla applied for it, wait
// until the cluster confirms they (and their pods) are gone, then remove the namespace only when
// Flotilla created it and nothing of anyone else's, and no kept data, is left in it. Unlike a
// clone's removal (ownership.ts), which drops its whole namespace, a teardown never takes
// objects it did not create with it, and keeps PersistentVolumeClaims unless asked.
import type { KubeClient } from './client.js';
import { systemClock, type Clock } from './clock.js';
import { KubeLayerError } from './errors.js';
import { PRUNABLE_KINDS, PVC_KIND } from './kinds.js';
import { LABEL } from '../../domain/labels.js';
import { isNotFound } from './errors.js';
import { environmentLabels, formatSelector } from './labels.js';
import { deleteNamespace } from './namespace.js';
import { namespaceClaim } from './ownership.js';
import { prune } from './prune.js';
import { listObjects, listOwnedKind, type LiveObject } from './read.js';

export interface TeardownOptions {
  namespace: string;
  environment: string;
  /** Also delete the environment's PersistentVolumeClaims (its databases' data). */
  deleteData: boolean;
  /** How long the cluster may take to confirm (objects, then the namespace). */
  timeoutMs: number;
  pollMs?: number;
  onProgress?: (what: string) => void;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface TeardownOutcome {
  /** kind/namespace/name of every object this call deleted. */
  deleted: string[];
  /** Claims left in place (no --delete-data): their data survives the environment. */
  keptClaims: string[];
  /** absent: there was no namespace; foreign: Flotilla did not create it (never deleted). */
  namespace: 'deleted' | 'kept' | 'foreign' | 'absent';
  /** Why a namespace Flotilla created was kept. */
  keptBecause?: string;
}

export class TeardownTimeoutError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'TeardownTimeout';
}

/** Objects every namespace gets from the cluster itself: not anyone's, never a reason to keep it. */
const CLUSTER_DEFAULTS = new Set(['ConfigMap/kube-root-ca.crt', 'ServiceAccount/default']);

/** What the wait and the leftover check list: what Flotilla applies, its claims, and pods. */
const LISTED_KINDS = [...PRUNABLE_KINDS, PVC_KIND, { apiVersion: 'v1', kind: 'Pod' }] as const;

/** Deletes what Flotilla created for the environment and waits until the cluster confirms. Safe to repeat. */
export async function teardownEnvironment(client: KubeClient, options: TeardownOptions): Promise<TeardownOutcome> {
  const { namespace, environment, signal } = options;
  const claim = await namespaceClaim(client, namespace, environment, signal);
  if (claim === 'absent') return { deleted: [], keptClaims: [], namespace: 'absent' };
  const deleted = await prune(client, {
    namespace,
    selector: environmentLabels(environment),
    keep: [],
    signal,
    onProgress: (d) => options.onProgress?.(`deleted ${d.kind}/${d.name}`),
  });
  const claims = await environmentClaims(client, namespace, environment, signal);
  const deletedClaims = options.deleteData ? await deleteClaims(client, namespace, claims, signal) : [];
  await waitUntilGone(client, options);
  const keptClaims = options.deleteData ? [] : claims.map((c) => c.metadata.name);
  const kept = new Set(keptClaims.map((name) => `${PVC_KIND.kind}/${name}`));
  const foreign = (await leftovers(client, namespace, signal)).filter((o) => !kept.has(nameOf(o)));
  const outcome = { deleted: [...deleted.map((d) => `${d.kind}/${d.namespace}/${d.name}`), ...deletedClaims], keptClaims };
  if (claim === 'foreign') return { ...outcome, namespace: 'foreign' };
  if (keptClaims.length > 0 || foreign.length > 0) {
    const reasons = [
      ...(keptClaims.length > 0 ? [`it holds the environment's data (${keptClaims.length} PersistentVolumeClaim(s); --delete-data removes them)`] : []),
      ...(foreign.length > 0 ? [`it holds ${foreign.length} object(s) Flotilla did not create (${foreign.slice(0, 3).map(nameOf).join(', ')}${foreign.length > 3 ? ', …' : ''})`] : []),
    ];
    return { ...outcome, namespace: 'kept', keptBecause: reasons.join('; ') };
  }
  await deleteNamespace(client, namespace, {
    timeoutMs: options.timeoutMs, pollMs: options.pollMs ?? 500, signal, clock: options.clock,
    onProgress: (state) => options.onProgress?.(`namespace ${namespace} ${state.phase}`),
  });
  return { ...outcome, deleted: [...outcome.deleted, `Namespace/${namespace}`], namespace: 'deleted' };
}

/**
 * The claims a database's StatefulSet made for the environment. The StatefulSet controller
 * names them <template>-<statefulset>-<ordinal> and copies the set's selector labels onto them
 * (the environment and app.kubernetes.io/name), but not Flotilla's managed-by label: both name
 * and labels must fit, so a claim someone made by hand is never taken for one.
 */
export async function environmentClaims(client: KubeClient, namespace: string, environment: string, signal?: AbortSignal): Promise<LiveObject[]> {
  const { items } = await listObjects(client, { ...PVC_KIND, namespace, labelSelector: formatSelector({ [LABEL.environment]: environment }), signal });
  return items.filter((c) => {
    const set = c.metadata.labels?.[LABEL.name];
    return set !== undefined && new RegExp(`^data-${set.replace(/[.]/g, '\\.')}-[0-9]+$`).test(c.metadata.name);
  });
}

async function deleteClaims(client: KubeClient, namespace: string, claims: readonly LiveObject[], signal?: AbortSignal): Promise<string[]> {
  const deleted: string[] = [];
  for (const claim of claims) {
    if (claim.metadata.deletionTimestamp !== undefined) continue;
    try {
      await client.request('DELETE', await client.path({ ...PVC_KIND, namespace, name: claim.metadata.name }), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: claim.metadata.uid ? { uid: claim.metadata.uid } : undefined }, signal,
      });
      deleted.push(`${PVC_KIND.kind}/${namespace}/${claim.metadata.name}`);
    } catch (error) {
      if (!isNotFound(error) && (error as { code?: number }).code !== 409) throw error;
    }
  }
  return deleted;
}

/** Polls until no object labelled for the environment is left (claims too, when they go). */
async function waitUntilGone(client: KubeClient, options: TeardownOptions): Promise<void> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const kinds = LISTED_KINDS.filter((k) => k.kind !== PVC_KIND.kind);
  for (;;) {
    const lists = await Promise.all(kinds.map((k) => listOwnedKind(client, {
      ...k, namespace: options.namespace, labelSelector: formatSelector(environmentLabels(options.environment)), signal: options.signal,
    })));
    const claims = options.deleteData ? await environmentClaims(client, options.namespace, options.environment, options.signal) : [];
    const remaining = [...lists.flatMap((l) => l.items), ...claims];
    if (remaining.length === 0) return;
    options.onProgress?.(`waiting for ${remaining.length} object(s) to go: ${remaining.slice(0, 3).map(nameOf).join(', ')}`);
    if (clock.now() - started > options.timeoutMs) {
      throw new TeardownTimeoutError(`${remaining.length} object(s) of environment ${options.environment} still in namespace ${options.namespace} after ${Math.round(options.timeoutMs / 1000)}s: ${remaining.slice(0, 5).map(nameOf).join(', ')}`);
    }
    await clock.sleep(options.pollMs ?? 500, options.signal);
  }
}

/** Everything left in the namespace of the kinds Flotilla knows, but the cluster's own defaults. */
async function leftovers(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<LiveObject[]> {
  const lists = await Promise.all(LISTED_KINDS.map((k) => listOwnedKind(client, { ...k, namespace, signal })));
  return lists.flatMap((l) => l.items).filter((o) => !CLUSTER_DEFAULTS.has(nameOf(o)));
}

function nameOf(o: LiveObject): string {
  return `${o.kind}/${o.metadata.name}`;
}
