// Deleting a namespace and waiting until it is really gone: the namespace controller first
// deletes everything inside (the namespace sits in phase Terminating meanwhile), and a new
// namespace of the same name cannot be created before that ends — teardown must wait for it.
import type { KubeClient } from './client.js';
import { systemClock, type Clock } from './clock.js';
import { isNotFound, KubeLayerError } from './errors.js';
import { readObject, type LiveObject } from './read.js';

export interface NamespaceDeletion {
  name: string;
  /** "Active", "Terminating", or "Gone". */
  phase: string;
  /** Why it is still there: the namespace's False/True conditions, e.g. NamespaceContentRemaining. */
  conditions: { type: string; status: string; message?: string }[];
  elapsedMs: number;
}

export interface DeleteNamespaceOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Called after every poll; activities heartbeat here. */
  onProgress?: (state: NamespaceDeletion) => void;
  signal?: AbortSignal;
  clock?: Clock;
}

export class NamespaceDeleteTimeoutError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'NamespaceDeleteTimeout';

  constructor(readonly state: NamespaceDeletion, timeoutMs: number) {
    const blocking = state.conditions.filter((c) => c.status === 'True').map((c) => `${c.type}${c.message ? ` (${c.message})` : ''}`);
    super(`namespace ${state.name} still ${state.phase} after ${Math.round(timeoutMs / 1000)}s${blocking.length ? `: ${blocking.join('; ')}` : ''}`);
    this.name = 'NamespaceDeleteTimeoutError';
  }
}

/**
 * Deletes a namespace (Background propagation) and polls until reading it answers 404.
 * Returns true when this call deleted it, false when it did not exist. Safe to repeat.
 */
export async function deleteNamespace(client: KubeClient, name: string, options: DeleteNamespaceOptions): Promise<boolean> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const path = await client.path({ apiVersion: 'v1', kind: 'Namespace', name });
  let existed = true;
  try {
    await client.request('DELETE', path, { body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' }, signal: options.signal });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    existed = false;
  }
  for (;;) {
    options.signal?.throwIfAborted();
    const live = await readObject(client, { apiVersion: 'v1', kind: 'Namespace', name }, options.signal);
    const state = describe(name, live, clock.now() - started);
    options.onProgress?.(state);
    if (!live) return existed;
    if (clock.now() - started > options.timeoutMs) throw new NamespaceDeleteTimeoutError(state, options.timeoutMs);
    await clock.sleep(options.pollMs ?? 500, options.signal);
  }
}

function describe(name: string, live: LiveObject | undefined, elapsedMs: number): NamespaceDeletion {
  const status = live?.status as { phase?: string; conditions?: { type: string; status: string; message?: string }[] } | undefined;
  return {
    name,
    phase: live ? (status?.phase ?? 'Active') : 'Gone',
    conditions: (status?.conditions ?? []).map(({ type, status: s, message }) => ({ type, status: s, message })),
    elapsedMs,
  };
}
