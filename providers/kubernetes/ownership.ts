// Ownership: Flotilla deletes only what it created. Objects it renders carry its labels (prune
// selects by them); a namespace is Flotilla's only when Flotilla created it, which the
// annotation below records at creation. A namespace that existed before keeps no such mark, so
// removing an environment from it removes the environment's objects and leaves the namespace.
import type { Manifest } from '../../domain/manifest.js';
import type { KubeClient } from './client.js';
import { deleteNamespace } from './namespace.js';
import { prune, type PrunedObject } from './prune.js';
import { appliedByFlotilla, createdByFlotillaBootstrap, environmentLabels } from './labels.js';
import { readObject } from './read.js';

/** On a namespace Flotilla created: the environment it was created for. */
export const CREATED_FOR_ANNOTATION = 'flotilla.dev/created-for';

/** Whether Flotilla created the namespace for this environment (or it does not exist yet). */
export async function namespaceClaim(client: KubeClient, namespace: string, environment: string, signal?: AbortSignal): Promise<'absent' | 'owned' | 'foreign'> {
  const live = await readObject(client, { apiVersion: 'v1', kind: 'Namespace', name: namespace }, signal);
  if (!live) return 'absent';
  // The mark must be Flotilla's own (applied by its field manager, or written by its bootstrap
  // account creating the namespace: agent-access.ts), not copied onto someone's namespace.
  const mine = appliedByFlotilla(live.metadata) || createdByFlotillaBootstrap(live.metadata);
  return live.metadata.annotations?.[CREATED_FOR_ANNOTATION] === environment && mine ? 'owned' : 'foreign';
}

/**
 * The manifests with the creation mark on the Namespace when Flotilla creates it (or made it
 * before). Always applied while owned: server-side apply would drop a field its manager stops sending.
 */
export function markNamespace(manifests: readonly Manifest[], claim: 'absent' | 'owned' | 'foreign', environment: string): Manifest[] {
  if (claim === 'foreign') return [...manifests];
  return manifests.map((m) => (m.kind === 'Namespace'
    ? { ...m, metadata: { ...m.metadata, annotations: { ...m.metadata.annotations, [CREATED_FOR_ANNOTATION]: environment } } }
    : m));
}

export interface RemovalOptions {
  namespace: string;
  environment: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (what: string) => void;
}

/**
 * Removes everything Flotilla created for the environment: its namespace when Flotilla created
 * it, else only the objects labelled as the environment's (claims are kept: they hold data).
 */
export async function removeEnvironmentObjects(client: KubeClient, options: RemovalOptions): Promise<{ deleted: string[]; namespaceDeleted: boolean }> {
  const claim = await namespaceClaim(client, options.namespace, options.environment, options.signal);
  if (claim === 'absent') return { deleted: [], namespaceDeleted: false };
  if (claim === 'owned') {
    await deleteNamespace(client, options.namespace, {
      timeoutMs: options.timeoutMs, pollMs: 500, signal: options.signal, onProgress: () => options.onProgress?.(`namespace ${options.namespace}`),
    });
    return { deleted: [`Namespace/${options.namespace}`], namespaceDeleted: true };
  }
  const deleted: PrunedObject[] = await prune(client, {
    namespace: options.namespace,
    selector: environmentLabels(options.environment),
    keep: [],
    signal: options.signal,
    onProgress: (d) => options.onProgress?.(`${d.kind}/${d.name}`),
  });
  return { deleted: deleted.map((d) => `${d.kind}/${d.namespace}/${d.name}`), namespaceDeleted: false };
}
