// One kind in one namespace, kept in memory by list + watch: list once, then watch from the
// list's resourceVersion; a watch the server ends is resumed from the last resourceVersion
// seen (bookmarks keep it fresh), a 410 Gone lists again, any other failure retries with
// backoff. `wake()` cuts a backoff short (the cluster answers again). Every change calls
// `onChange`; `synced` says the cache holds a complete list.
import { classifyError, httpStatusOf } from '../providers/kubernetes/errors.js';
import type { KubeClient } from '../providers/kubernetes/client.js';
import { listObjects, type LiveObject } from '../providers/kubernetes/read.js';
import { watchObjects } from '../providers/kubernetes/watch.js';

export interface InformerSpec {
  apiVersion: string;
  kind: string;
  namespace: string;
  labelSelector?: string;
  /** Keeps only what the observer needs of each object (e.g. drops Secret values). */
  slim?: (object: LiveObject) => LiveObject;
}

export interface InformerEvents {
  onChange(): void;
  /** A failure the informer is retrying; `forbidden` when RBAC refuses the kind. */
  onError?(error: unknown, state: { forbidden: boolean }): void;
}

const WATCH_SECONDS = 300;
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
/** How long to wait before asking again for a kind RBAC refuses (a baseline may be updated meanwhile). */
const FORBIDDEN_RETRY_MS = 60_000;

export class Informer {
  readonly objects = new Map<string, LiveObject>();
  synced = false;
  forbidden = false;
  private resourceVersion: string | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly client: () => KubeClient,
    readonly spec: InformerSpec,
    private readonly events: InformerEvents,
  ) {}

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list(signal);
        await this.watch(signal);
        backoff = MIN_BACKOFF_MS;
      } catch (error) {
        if (signal.aborted) return;
        const status = httpStatusOf(error);
        if (status === 410) {
          // Too old to resume: list again, at once.
          this.resourceVersion = undefined;
          continue;
        }
        this.forbidden = status === 403;
        if (this.forbidden) {
          // A kind the agent may not read counts as empty rather than unknown.
          this.objects.clear();
          this.synced = true;
          this.events.onChange();
        }
        this.events.onError?.(error, { forbidden: this.forbidden });
        await this.sleep(this.forbidden ? FORBIDDEN_RETRY_MS : backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (!classifyError(error).retryable && !this.forbidden) this.resourceVersion = undefined;
      }
    }
  }

  /** Ends a backoff wait now. */
  wake(): void {
    this.wakeUp?.();
  }

  private async list(signal: AbortSignal): Promise<void> {
    const { apiVersion, kind, namespace, labelSelector } = this.spec;
    const list = await listObjects(this.client(), { apiVersion, kind, namespace, labelSelector, signal });
    this.objects.clear();
    for (const item of list.items) this.objects.set(keyOf(item), this.slim(item));
    this.resourceVersion = list.resourceVersion;
    this.synced = true;
    this.forbidden = false;
    this.events.onChange();
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const { apiVersion, kind, namespace, labelSelector } = this.spec;
    const events = watchObjects(this.client(), {
      apiVersion, kind, namespace, labelSelector, resourceVersion: this.resourceVersion, bookmarks: true, timeoutSeconds: WATCH_SECONDS, signal,
    });
    for await (const event of events) {
      const rv = event.object.metadata.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (event.type === 'BOOKMARK') continue;
      if (event.type === 'DELETED') this.objects.delete(keyOf(event.object));
      else this.objects.set(keyOf(event.object), this.slim(event.object));
      this.events.onChange();
    }
  }

  private slim(object: LiveObject): LiveObject {
    return this.spec.slim ? this.spec.slim(object) : object;
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }
}

function keyOf(object: LiveObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
