// Reading live objects: what drift detection compares with a revision, and what prune and
// logs select from. Lists are paged so a large namespace never comes back in one response.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { httpStatusOf, isNotFound } from './errors.js';
import { formatSelector, type LabelSet } from './labels.js';
import type { TypedRef } from './kinds.js';

/** A live object as the server returns it: plain JSON with the usual metadata. */
export interface LiveObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string };
  [field: string]: unknown;
}

export interface ListOptions {
  apiVersion: string;
  kind: string;
  /** A namespace; omitted for cluster-scoped kinds, "*" for every namespace. */
  namespace?: string;
  /** A selector string ("a=b,c!=d") or labels that must all match. */
  labelSelector?: string | LabelSet;
  fieldSelector?: string;
  /** Page size (default 500). */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface LiveList {
  items: LiveObject[];
  /** The list's resourceVersion: where a watch of the same selection starts. */
  resourceVersion?: string;
}

interface ListResponse {
  items?: LiveObject[];
  metadata?: { continue?: string; resourceVersion?: string };
}

/** Every object of a kind in a namespace matching the selector, following `continue` tokens. */
export async function listObjects(client: KubeClient, options: ListOptions): Promise<LiveList> {
  const path = await client.path({ apiVersion: options.apiVersion, kind: options.kind, namespace: options.namespace ?? '*' });
  const labelSelector = typeof options.labelSelector === 'object' ? formatSelector(options.labelSelector) : options.labelSelector;
  const items: LiveObject[] = [];
  let resourceVersion: string | undefined;
  let token: string | undefined;
  do {
    const page = await client.request<ListResponse>('GET', path, {
      query: { labelSelector: labelSelector || undefined, fieldSelector: options.fieldSelector, limit: options.pageSize ?? 500, continue: token },
      signal: options.signal,
    });
    // Items of a list carry no apiVersion/kind; fill them in so each object stands alone.
    for (const item of page.items ?? []) items.push({ ...item, apiVersion: options.apiVersion, kind: options.kind });
    resourceVersion ??= page.metadata?.resourceVersion;
    token = page.metadata?.continue || undefined;
  } while (token);
  return { items, resourceVersion };
}

/**
 * Kinds the agent may have no right to list on a cluster onboarded before Flotilla rendered
 * them (its baseline grants them since): such a list counts as empty, so prune and teardown keep
 * working there (nothing of that kind can be Flotilla's yet) until the cluster is onboarded again.
 */
const GRANTED_LATER: ReadonlySet<string> = new Set(['CronJob', 'DaemonSet']);

/** listObjects, with a kind granted later read as empty where the agent may not list it. */
export async function listOwnedKind(client: KubeClient, options: ListOptions): Promise<LiveList> {
  try {
    return await listObjects(client, options);
  } catch (error) {
    if (GRANTED_LATER.has(options.kind) && httpStatusOf(error) === 403) return { items: [] };
    throw error;
  }
}

/** One live object, or undefined when it does not exist. */
export async function readObject(client: KubeClient, ref: TypedRef, signal?: AbortSignal): Promise<LiveObject | undefined> {
  try {
    return await client.request<LiveObject>('GET', await client.path(ref), { signal });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
