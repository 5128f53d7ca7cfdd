// Everything the observer does for one cluster: probe its API server for reachability, keep an
// informer per watched kind in each environment namespace, and, shortly after any change,
// hand each affected environment's snapshot to `write` (only when it differs from the last).
import { setMaxListeners } from 'node:events';
import type { Manifest } from '../domain/manifest.js';
import type { KubeClient } from '../providers/kubernetes/client.js';
import { probeApiServer } from '../providers/kubernetes/probe.js';
import type { LiveObject } from '../providers/kubernetes/read.js';
import { environmentSnapshot, type Snapshot } from './environment-snapshot.js';
import { Informer } from './informer.js';
import { MANAGED_SELECTOR, WATCHED_KINDS } from './watched-kinds.js';

export interface ObservedEnvironment {
  name: string;
  namespace: string;
  /** The render of what was last deployed. */
  expected: readonly Manifest[];
  /** An operation holds the environment. */
  changing: boolean;
  /** Identifies `expected` and `changing`: a new key re-evaluates the environment. */
  key: string;
}

export interface ClusterObserverOptions {
  cluster: string;
  client: KubeClient;
  write(environment: string, snapshot: Snapshot): Promise<void>;
  reachability(change: { reachable: boolean; message?: string }): Promise<void>;
  /** A failure worth a log line (rate-limited by the caller). */
  warn(message: string): void;
  probeEveryMs?: number;
  /** Probes that must fail in a row before the cluster counts as unreachable. */
  failuresToUnreachable?: number;
  /** How long changes gather before a snapshot. */
  settleMs?: number;
  /** How often a reachable cluster's last-seen time is written. */
  seenEveryMs?: number;
}

interface NamespaceWatch {
  informers: Informer[];
  abort: AbortController;
}

export class ClusterObserver {
  private readonly abort = new AbortController();
  private readonly namespaces = new Map<string, NamespaceWatch>();
  private environments = new Map<string, ObservedEnvironment>();
  private readonly written = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private reachable: boolean | undefined;
  private failures = 0;
  private lastSeenWrite = 0;
  private probeLoop: Promise<void> | undefined;

  constructor(private readonly options: ClusterObserverOptions) {
    setMaxListeners(0, this.abort.signal);
  }

  get cluster(): string {
    return this.options.cluster;
  }

  start(): void {
    this.probeLoop ??= this.probe();
  }

  /** The environments to observe now; namespaces no environment uses any more stop being watched. */
  setEnvironments(environments: readonly ObservedEnvironment[]): void {
    const next = new Map(environments.map((e) => [e.name, e]));
    for (const env of environments) {
      if (this.environments.get(env.name)?.key !== env.key) this.markDirty(env.name);
      if (!this.namespaces.has(env.namespace)) this.watchNamespace(env.namespace);
    }
    for (const name of this.environments.keys()) if (!next.has(name)) this.written.delete(name);
    this.environments = next;
    const used = new Set(environments.map((e) => e.namespace));
    for (const [namespace, watch] of this.namespaces) {
      if (used.has(namespace)) continue;
      watch.abort.abort();
      this.namespaces.delete(namespace);
    }
  }

  /** Evaluates an environment again on the next flush even if nothing changed (e.g. after a lost write). */
  forget(environment: string): void {
    this.written.delete(environment);
    this.markDirty(environment);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const watch of this.namespaces.values()) watch.abort.abort();
    this.namespaces.clear();
    clearTimeout(this.flushTimer);
    await this.probeLoop;
    await this.flushing;
    this.options.client.close();
  }

  private watchNamespace(namespace: string): void {
    const abort = new AbortController();
    // Every informer of the namespace, and each of its waits, listens on this one signal.
    setMaxListeners(0, abort.signal);
    const informers = WATCHED_KINDS.map((kind) => new Informer(() => this.options.client, {
      apiVersion: kind.apiVersion,
      kind: kind.kind,
      namespace,
      ...(kind.managedOnly ? { labelSelector: MANAGED_SELECTOR } : {}),
      ...(kind.slim ? { slim: kind.slim } : {}),
    }, {
      onChange: () => this.namespaceChanged(namespace),
      onError: (error, { forbidden }) => {
        if (abort.signal.aborted) return;
        const what = `${kind.kind} in ${this.cluster}/${namespace}`;
        this.options.warn(forbidden ? `the agent may not read ${what}; treated as none` : `watch of ${what} failed, retrying: ${error instanceof Error ? error.message : String(error)}`);
      },
    }));
    this.namespaces.set(namespace, { informers, abort });
    for (const informer of informers) void informer.run(abort.signal);
  }

  private namespaceChanged(namespace: string): void {
    for (const env of this.environments.values()) if (env.namespace === namespace) this.markDirty(env.name);
  }

  private markDirty(environment: string): void {
    this.dirty.add(environment);
    if (this.flushTimer || this.abort.signal.aborted) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, this.options.settleMs ?? 100);
  }

  private async flush(): Promise<void> {
    const names = [...this.dirty];
    this.dirty.clear();
    for (const name of names) {
      const env = this.environments.get(name);
      const watch = env && this.namespaces.get(env.namespace);
      // Not before every kind is listed: a half-filled cache would read as deleted objects.
      if (!env || !watch || !watch.informers.every((i) => i.synced)) continue;
      const live = new Map<string, LiveObject[]>(watch.informers.map((i) => [i.spec.kind, [...i.objects.values()]]));
      const snapshot = environmentSnapshot({ environment: name, namespace: env.namespace, expected: env.expected, live, changing: env.changing });
      const text = JSON.stringify(snapshot);
      if (this.written.get(name) === text) continue;
      try {
        await this.options.write(name, snapshot);
        this.written.set(name, text);
      } catch (error) {
        this.options.warn(`status of environment "${name}" not written: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private async probe(): Promise<void> {
    const every = this.options.probeEveryMs ?? 2_000;
    const threshold = this.options.failuresToUnreachable ?? 2;
    while (!this.abort.signal.aborted) {
      const started = Date.now();
      const result = await probeApiServer(this.options.client.kc, every);
      if (this.abort.signal.aborted) return;
      if (result.ok) {
        this.failures = 0;
        const turned = this.reachable !== true;
        if (turned || Date.now() - this.lastSeenWrite >= (this.options.seenEveryMs ?? 5_000)) {
          await this.report({ reachable: true });
          this.lastSeenWrite = Date.now();
        }
        if (turned) for (const watch of this.namespaces.values()) for (const informer of watch.informers) informer.wake();
      } else {
        this.failures += 1;
        if (this.failures >= threshold && this.reachable !== false) await this.report({ reachable: false, message: result.message });
      }
      await sleep(Math.max(0, every - (Date.now() - started)), this.abort.signal);
    }
  }

  private async report(change: { reachable: boolean; message?: string }): Promise<void> {
    try {
      await this.options.reachability(change);
      this.reachable = change.reachable;
    } catch (error) {
      this.options.warn(`reachability of cluster "${this.cluster}" not written: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
