// Server-side apply of a rendered set of objects, in dependency order, reporting what changed
// and surfacing field-ownership conflicts instead of silently taking fields from others.
//
// What changed: an apply that changes nothing is a no-op on the server — it writes nothing and
// the object keeps its resourceVersion — but the apply response alone cannot say whether the
// version moved. So before each tier the layer reads the live resourceVersions, metadata only
// (PartialObjectMetadata): one GET for a lone object, one paged LIST per kind and namespace
// when a tier has several objects of a kind there. After apply, same version → `unchanged`,
// another → `configured`, none before → `created`. That costs about one request per kind,
// not one per object, and far less than a dry-run apply (admission and the full merge twice).
// A write by someone else between the read and the apply (a controller updating status) shows
// up as `configured`: the report can err towards "changed", never hide a change.
// One server quirk: an applied object that owns no fields at all (a Namespace with nothing but
// a name) gets no managedFields entry, so the next apply writes once to record a
// "before-first-apply" owner — `configured` once, `unchanged` after. Rendered objects carry
// labels, so they own fields and do not hit this.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { toClient, type KubeClient } from './client.js';
import { isNotFound, KubeLayerError, statusOf } from './errors.js';
import { applyTiers, describeRef, objectKey, type TypedRef } from './kinds.js';
import { FIELD_MANAGER } from './labels.js';

export { FIELD_MANAGER };

/** An object to apply: any Kubernetes object, fields beyond the metadata included. */
export type ApplyObject = KubernetesObject & { [field: string]: unknown };

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  resourceVersion?: string;
  generation?: number;
  /** What the apply did; see the top of this file for how it is told. */
  action: ApplyAction;
}

export interface ApplyProgress {
  applied: number;
  total: number;
  /** The object just applied. */
  last: AppliedObject;
}

export interface ApplyOptions {
  /** Take ownership of fields another manager owns; off by default so conflicts surface. */
  force?: boolean;
  fieldManager?: string;
  /** Called after each object; activities heartbeat here. */
  onProgress?: (progress: ApplyProgress) => void;
  signal?: AbortSignal;
}

export interface FieldConflict {
  /** The field manager that owns the field, e.g. "kubectl" or "other". */
  manager: string;
  /** The field path as the server reports it, e.g. ".spec.replicas". */
  field?: string;
  message: string;
}

export interface ObjectConflict {
  object: TypedRef;
  conflicts: FieldConflict[];
}

/**
 * Server-side apply refused to take fields that another field manager owns. Retrying cannot
 * help: someone must decide, and apply again with `force: true` (or change the other owner).
 */
export class ApplyConflictError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'ApplyConflict';
  override readonly httpStatus = 409;

  constructor(readonly objects: ObjectConflict[]) {
    super(
      `server-side apply conflicts (apply with force to take ownership): ` +
        objects
          .map(({ object, conflicts }) =>
            `${describeRef(object)}: ${conflicts.map((c) => `${c.field ?? '?'} owned by "${c.manager}"`).join(', ')}`,
          )
          .join('; '),
    );
    this.name = 'ApplyConflictError';
  }
}

/** The conflicts listed in a 409 Status of an apply request. */
export function parseApplyConflicts(error: unknown): FieldConflict[] | undefined {
  const status = statusOf(error);
  if (status?.code !== 409) return undefined;
  const causes = (status.details?.causes ?? []).filter((c) => c.reason === 'FieldManagerConflict');
  if (causes.length === 0) {
    // Older servers put everything into the message only.
    return status.message?.includes('conflict') ? [{ manager: managerIn(status.message) ?? '?', message: status.message }] : undefined;
  }
  return causes.map((c) => ({ manager: managerIn(c.message ?? '') ?? '?', field: c.field, message: c.message ?? '' }));
}

function managerIn(message: string): string | undefined {
  return /conflict with "([^"]+)"/.exec(message)?.[1];
}

function refOf(object: KubernetesObject): TypedRef {
  return {
    apiVersion: object.apiVersion ?? 'v1',
    kind: object.kind ?? '',
    namespace: object.metadata?.namespace,
    name: object.metadata?.name ?? '',
  };
}

/**
 * Server-side applies the objects tier by tier (see kinds.ts: namespaces, cluster-scoped kinds,
 * configuration, services, workloads, the rest); objects within a tier go concurrently under
 * the cluster's rate limit. Conflicts of a tier are gathered into one ApplyConflictError and
 * stop the apply before the next tier. Results come back in apply order.
 */
export async function serverSideApply(
  target: KubeClient | KubeConfig,
  objects: readonly ApplyObject[],
  options: ApplyOptions = {},
): Promise<AppliedObject[]> {
  const client = toClient(target);
  const applied: AppliedObject[] = [];
  // Tiers come from kind names alone: a custom kind is looked up only when its tier is
  // reached, after the tier that may have created its CRD.
  for (const kinds of applyTiers(objects.map((object) => ({ ...refOf(object), object })))) {
    options.signal?.throwIfAborted();
    const tier = await Promise.all(kinds.map((entry) => located(client, entry.object)));
    const versions = await liveVersions(client, tier, options.signal);
    const outcomes = await Promise.allSettled(tier.map((entry) => applyOne(client, entry, versions.get(objectKey(entry)), options)));
    const conflicts: ObjectConflict[] = [];
    let failure: unknown;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') {
        applied.push(outcome.value);
        options.onProgress?.({ applied: applied.length, total: objects.length, last: outcome.value });
        return;
      }
      const fields = parseApplyConflicts(outcome.reason);
      if (fields) {
        const { object: _object, ...ref } = tier[i]!;
        conflicts.push({ object: ref, conflicts: fields });
      } else {
        failure ??= outcome.reason;
      }
    });
    if (failure !== undefined) throw failure;
    if (conflicts.length > 0) throw new ApplyConflictError(conflicts);
  }
  return applied;
}

interface Located extends TypedRef {
  object: KubernetesObject;
  /** Where the object lives: its namespace, "default" when a namespaced object names none. */
  namespace: string | undefined;
}

async function located(client: KubeClient, object: KubernetesObject): Promise<Located> {
  const ref = refOf(object);
  const info = await client.kindInfo(ref.apiVersion, ref.kind);
  return { ...ref, namespace: info.namespaced ? ref.namespace || 'default' : undefined, object };
}

const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

interface MetadataList {
  items?: { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }[];
  metadata?: { continue?: string };
}

/** The live resourceVersion of each object of a tier that exists, by objectKey. */
async function liveVersions(client: KubeClient, tier: readonly Located[], signal?: AbortSignal): Promise<Map<string, string>> {
  const groups = new Map<string, Located[]>();
  for (const entry of tier) {
    const group = `${entry.apiVersion}|${entry.kind}|${entry.namespace ?? ''}`;
    groups.set(group, [...(groups.get(group) ?? []), entry]);
  }
  const versions = new Map<string, string>();
  await Promise.all(
    [...groups.values()].map(async (entries) => {
      const first = entries[0]!;
      if (entries.length === 1) {
        const live = await client
          .request<KubernetesObject>('GET', await client.path(first), { accept: METADATA_ONLY, signal })
          .catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
        if (live?.metadata?.resourceVersion) versions.set(objectKey(first), live.metadata.resourceVersion);
        return;
      }
      const path = await client.path({ apiVersion: first.apiVersion, kind: first.kind, namespace: first.namespace ?? '*' });
      let token: string | undefined;
      do {
        const page = await client
          .request<MetadataList>('GET', path, { accept: METADATA_LIST, query: { limit: 500, continue: token }, signal })
          .catch((error: unknown) => (isNotFound(error) ? ({} as MetadataList) : Promise.reject(error))); // namespace not there yet
        for (const item of page.items ?? []) {
          const key = objectKey({ apiVersion: first.apiVersion, kind: first.kind, namespace: item.metadata?.namespace, name: item.metadata?.name ?? '' });
          if (item.metadata?.resourceVersion) versions.set(key, item.metadata.resourceVersion);
        }
        token = page.metadata?.continue || undefined;
      } while (token);
    }),
  );
  return versions;
}

async function applyOne(client: KubeClient, entry: Located, before: string | undefined, options: ApplyOptions): Promise<AppliedObject> {
  const after = await client.request<KubernetesObject>('PATCH', await client.path(entry), {
    query: { fieldManager: options.fieldManager ?? FIELD_MANAGER, force: options.force ? true : undefined },
    body: entry.object,
    contentType: 'application/apply-patch+yaml', // JSON is YAML: the server takes it as is
    signal: options.signal,
  });
  const resourceVersion = after.metadata?.resourceVersion;
  const action: ApplyAction = before === undefined ? 'created' : before === resourceVersion ? 'unchanged' : 'configured';
  return {
    apiVersion: after.apiVersion ?? entry.apiVersion,
    kind: after.kind ?? entry.kind,
    namespace: after.metadata?.namespace,
    name: after.metadata?.name ?? entry.name,
    resourceVersion,
    generation: after.metadata?.generation,
    action,
  };
}
