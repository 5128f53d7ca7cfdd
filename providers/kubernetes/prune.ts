// Prune: delete what an environment's previous revisions created and the current one no longer
// renders. Selection is by the environment's labels, and an object must also carry
// app.kubernetes.io/managed-by=flotilla — both in the selector sent to the server and checked
// again on each object — and Flotilla's own server-side apply must show in its managedFields,
// so nothing created by someone else is ever deleted, labels copied or not.
import type { KubeClient } from './client.js';
import { isNotFound, KubeLayerError } from './errors.js';
import { objectKey, PRUNABLE_KINDS, PVC_KIND, type TypedRef } from './kinds.js';
import { appliedByFlotilla, formatSelector, isManagedByFlotilla, MANAGED_BY_LABEL, MANAGED_BY_VALUE, matchesLabels, type LabelSet } from './labels.js';
import { listOwnedKind } from './read.js';

export interface PruneOptions {
  namespace: string;
  /** Labels that select the environment's objects, e.g. environmentLabels(name). */
  selector: LabelSet;
  /** The rendered set: every object here is kept. Only kind, apiVersion, namespace and name matter. */
  keep: readonly TypedRef[];
  /** Also prune PersistentVolumeClaims (default false: deleting a claim can delete data). */
  includePersistentVolumeClaims?: boolean;
  /** List what would be deleted without deleting. */
  dryRun?: boolean;
  /** Called after each deletion; activities heartbeat here. */
  onProgress?: (deleted: PrunedObject) => void;
  signal?: AbortSignal;
}

export interface PrunedObject extends TypedRef {
  namespace: string;
  uid?: string;
}

export class PruneSelectorError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'InvalidPruneSelector';
}

/**
 * Deletes the objects in `namespace` that match `selector`, are managed by Flotilla, and are
 * not in `keep`; returns them (findPrunable, then deletePruned).
 */
export async function prune(client: KubeClient, options: PruneOptions): Promise<PrunedObject[]> {
  const doomed = await findPrunable(client, options);
  return options.dryRun ? doomed : deletePruned(client, doomed, options);
}

/**
 * The objects prune would delete: reads only. A deploy looks for them while its rollout is
 * still being waited for, and deletes them (deletePruned) once the rollout is done.
 */
export async function findPrunable(client: KubeClient, options: Omit<PruneOptions, 'dryRun' | 'onProgress'>): Promise<PrunedObject[]> {
  if (!options.namespace) throw new PruneSelectorError('prune needs a namespace');
  if (Object.keys(options.selector).length === 0) throw new PruneSelectorError('prune needs a non-empty label selector');
  if (options.selector[MANAGED_BY_LABEL] !== undefined && options.selector[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) {
    throw new PruneSelectorError(`prune only deletes objects labelled ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`);
  }
  const selector: LabelSet = { ...options.selector, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  const keep = new Set(options.keep.map((ref) => objectKey({ ...ref, namespace: ref.namespace ?? options.namespace })));
  const kinds = options.includePersistentVolumeClaims ? [...PRUNABLE_KINDS, PVC_KIND] : PRUNABLE_KINDS;

  const lists = await Promise.all(
    kinds.map((k) => listOwnedKind(client, { ...k, namespace: options.namespace, labelSelector: formatSelector(selector), signal: options.signal })),
  );
  return lists
    .flatMap((list) => list.items)
    .filter((o) => isManagedByFlotilla(o.metadata.labels) && matchesLabels(o.metadata.labels, selector))
    // Labels can be copied; Flotilla's own apply cannot: never delete what it did not apply.
    .filter((o) => appliedByFlotilla(o.metadata))
    .filter((o) => o.metadata.deletionTimestamp === undefined) // already going
    .map((o): PrunedObject => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: options.namespace, name: o.metadata.name, uid: o.metadata.uid }))
    .filter((ref) => !keep.has(objectKey(ref)));
}

/**
 * Deletes what findPrunable found, with propagationPolicy Background (a Deployment's
 * ReplicaSets and pods, or a Job's pods, are collected by the garbage collector after it) and a
 * uid precondition, so an object recreated since it was found is not deleted by mistake.
 */
export async function deletePruned(
  client: KubeClient,
  doomed: readonly PrunedObject[],
  options: Pick<PruneOptions, 'onProgress' | 'signal'> = {},
): Promise<PrunedObject[]> {
  const deleted = await Promise.all(
    doomed.map(async (ref) => {
      try {
        await client.request('DELETE', await client.path(ref), {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: ref.uid ? { uid: ref.uid } : undefined },
          signal: options.signal,
        });
      } catch (error) {
        if (isNotFound(error)) return undefined; // deleted meanwhile: nothing left to do
        // A uid mismatch (409) means the name was reused by a new object: leave it alone.
        if ((error as { code?: number }).code === 409) return undefined;
        throw error; // its message names the object's path
      }
      options.onProgress?.(ref);
      return ref;
    }),
  );
  return deleted.filter((d): d is PrunedObject => d !== undefined);
}
