// The baseline onboarding installs, and its removal when an install fails: Flotilla removes only
// the baseline objects it created. An object it creates (or created before) carries the mark
// below, applied by its own field manager; one that existed before Flotilla came (someone's
// `flotilla-system` namespace with their things in it, a binding of the same name) is applied
// over but never marked, so a failed onboarding never deletes it.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Manifest } from '../../domain/manifest.js';
import { type AppliedObject, type ApplyOptions, serverSideApply } from './apply.js';
import { toClient, type KubeClient } from './client.js';
import { isNotFound } from './errors.js';
import { FIELD_MANAGER } from './labels.js';
import { CREATED_FOR_ANNOTATION } from './ownership.js';
import { readObject } from './read.js';

/** The created-for value of baseline objects. */
export const BASELINE_MARK = 'baseline';

interface ManagedFields {
  manager?: string;
  operation?: string;
  fieldsV1?: Record<string, unknown>;
}

/**
 * Whether Flotilla created the object: the mark is there and Flotilla's own apply owns it (a mark
 * copied onto someone's object by another manager does not count).
 */
export function createdByFlotilla(metadata: { annotations?: Record<string, string>; managedFields?: ManagedFields[] } | undefined): boolean {
  if (metadata?.annotations?.[CREATED_FOR_ANNOTATION] !== BASELINE_MARK) return false;
  return metadata.managedFields?.some((f) => {
    if (f.manager !== FIELD_MANAGER || f.operation !== 'Apply') return false;
    const annotations = (f.fieldsV1?.['f:metadata'] as Record<string, unknown> | undefined)?.['f:annotations'] as Record<string, unknown> | undefined;
    return annotations?.[`f:${CREATED_FOR_ANNOTATION}`] !== undefined;
  }) ?? false;
}

const refOf = (m: Manifest) => ({ apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name });

/** Applies the baseline, marking what Flotilla creates now or created before; objects it found are applied over, unmarked. */
export async function applyBaseline(target: KubeClient | KubeConfig, manifests: readonly Manifest[], options: ApplyOptions = {}): Promise<AppliedObject[]> {
  const client = toClient(target);
  const marked: Manifest[] = [];
  for (const manifest of manifests) {
    const live = await readObject(client, refOf(manifest), options.signal);
    const mine = live === undefined || createdByFlotilla(live.metadata as Parameters<typeof createdByFlotilla>[0]);
    marked.push(mine ? { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata.annotations, [CREATED_FOR_ANNOTATION]: BASELINE_MARK } } } : manifest);
  }
  return serverSideApply(client, marked, options);
}

/** Removes the baseline objects Flotilla created, newest kinds first (the namespace last); the others stay. */
export async function removeBaseline(client: KubeClient, manifests: readonly Manifest[]): Promise<{ removed: string[]; kept: string[] }> {
  const removed: string[] = [];
  const kept: string[] = [];
  for (const manifest of [...manifests].reverse()) {
    const ref = refOf(manifest);
    const what = `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
    const live = await readObject(client, ref);
    if (!live) continue;
    if (!createdByFlotilla(live.metadata as Parameters<typeof createdByFlotilla>[0])) {
      kept.push(what);
      continue;
    }
    try {
      await client.request('DELETE', await client.path(ref), { query: { propagationPolicy: 'Background' } });
      removed.push(what);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return { removed, kept };
}
