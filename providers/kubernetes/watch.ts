// A watch of one kind under a label selector, as an async iterable over client-node's Watch:
// `for await (const event of watchObjects(client, {...}))`. Aborting the signal, or leaving
// the loop, closes the connection. The iteration ends when the server closes the watch (it
// does so after its timeout); the caller lists again or resumes from the last resourceVersion.
import { Watch } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { KubeApiError, parseStatus } from './errors.js';
import { formatSelector, type LabelSet } from './labels.js';
import type { LiveObject } from './read.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent {
  type: WatchEventType;
  object: LiveObject;
}

export interface WatchOptions {
  apiVersion: string;
  kind: string;
  /** A namespace; omitted for every namespace (or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string | LabelSet;
  fieldSelector?: string;
  /** Start after this resourceVersion (e.g. a list's); omitted: synthetic ADDED events for what exists, then changes. */
  resourceVersion?: string;
  /** Ask the server to send BOOKMARK events carrying fresh resourceVersions. */
  bookmarks?: boolean;
  /** Server-side end of the watch, in seconds. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/**
 * Yields the watch's events. An ERROR event (typically 410 Gone: the resourceVersion is too
 * old) is thrown as a KubeApiError, which classifyError calls retryable: list and watch again.
 * The watch spends one token of the cluster's rate limit but no in-flight slot: it stays open
 * for minutes and would otherwise pin one.
 */
export async function* watchObjects(client: KubeClient, options: WatchOptions): AsyncGenerator<WatchEvent, void, undefined> {
  const { signal } = options;
  if (signal?.aborted) return;
  await client.limiter.throttle(signal);
  const path = await client.path({ apiVersion: options.apiVersion, kind: options.kind, namespace: options.namespace ?? '*' });
  const labelSelector = typeof options.labelSelector === 'object' ? formatSelector(options.labelSelector) : options.labelSelector;

  const queue: { type: string; object: unknown }[] = [];
  let ended = false;
  let stopped = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  const controller = await new Watch(client.kc).watch(
    path,
    {
      labelSelector: labelSelector || undefined,
      fieldSelector: options.fieldSelector,
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.bookmarks ? true : undefined,
      timeoutSeconds: options.timeoutSeconds,
    },
    (type, object) => {
      queue.push({ type, object });
      notify();
    },
    (error) => {
      ended = true;
      // Our own abort surfaces as an AbortError: that is the normal end, not a failure.
      if (error && !stopped) failure = error;
      notify();
    },
  );
  const stop = () => {
    stopped = true;
    controller.abort();
    notify();
  };
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();

  try {
    for (;;) {
      while (queue.length > 0 && !stopped) {
        const event = queue.shift()!;
        if (event.type === 'ERROR') {
          const status = parseStatus(event.object);
          throw new KubeApiError(status?.code ?? 500, status, JSON.stringify(event.object), {}, 'WATCH', path);
        }
        const object = event.object as LiveObject;
        yield { type: event.type as WatchEventType, object: { ...object, apiVersion: object.apiVersion ?? options.apiVersion, kind: object.kind ?? options.kind } };
      }
      if (stopped) return;
      if (ended) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    stopped = true;
    controller.abort();
  }
}
