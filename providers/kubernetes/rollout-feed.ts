// The live workloads a rollout wait judges, kept by list + watch. Polling alone notices the end
// of a rollout half a poll period plus a round trip after the cluster converged; a watch tells
// within one network hop. A list (the wait's periodic safety net) replaces its group's objects
// and closes its watch; when the wait has to wait, the watch reopens from the list's
// resourceVersion, so no change falls between the two (and a wait done at its first list opens
// none). A group whose watch is open is not listed again until the watch is REFRESH_MS old:
// reopening costs a new connection (two round trips over a WAN) during which changes only queue.
// A watch that ends or fails (410 Gone, a dropped connection) only stops the wake-ups until the
// next list: the wait then polls as before.
import type { KubeClient } from './client.js';
import type { Clock } from './clock.js';
import type { TypedRef } from './kinds.js';
import { listObjects, type LiveObject } from './read.js';
import { watchObjects } from './watch.js';

/** One list and one watch: a kind in a namespace, narrowed to its name when it is the only one. */
interface Group {
  key: string;
  apiVersion: string;
  kind: string;
  namespace: string;
  fieldSelector?: string;
}

const keyOf = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** How long an open watch stands in for its group's lists. */
const REFRESH_MS = 30_000;

export class RolloutFeed {
  private readonly groups: Group[];
  private readonly wanted: Set<string>;
  private readonly live = new Map<string, LiveObject>();
  /** The open watch of each group, by group key. */
  private readonly watches = new Map<string, AbortController>();
  /** When each group's open watch was opened (epoch ms). */
  private readonly openedAt = new Map<string, number>();
  /** Where each group's last list ended, until its watch opens from there. */
  private readonly listed = new Map<string, string>();
  private closed = false;
  /** A watched workload changed, or a watch ended, since the last `changed()`. */
  private dirty = false;
  private wake: (() => void) | undefined;

  constructor(private readonly client: KubeClient, workloads: readonly (TypedRef & { namespace: string })[], private readonly signal?: AbortSignal) {
    const byGroup = new Map<string, (TypedRef & { namespace: string })[]>();
    for (const w of workloads) byGroup.set(`${w.kind}/${w.namespace}`, [...(byGroup.get(`${w.kind}/${w.namespace}`) ?? []), w]);
    this.groups = [...byGroup].map(([key, [first, ...rest]]) => ({
      key, apiVersion: first!.apiVersion, kind: first!.kind, namespace: first!.namespace,
      // A lone workload: its own events only, not those of every neighbour of its kind.
      ...(rest.length === 0 ? { fieldSelector: `metadata.name=${first!.name}` } : {}),
    }));
    this.wanted = new Set(workloads.map((w) => keyOf(w.kind, w.namespace, w.name)));
  }

  /** Every group's watch is open (or opening): changes wake the wait, polls may be rare. */
  get watching(): boolean {
    return this.groups.every((g) => this.watches.has(g.key));
  }

  object(ref: { kind: string; namespace: string; name: string }): LiveObject | undefined {
    return this.live.get(keyOf(ref.kind, ref.namespace, ref.name));
  }

  /** Lists every group afresh but those an open watch keeps current; `watch()` then follows it from there. */
  async list(): Promise<void> {
    this.dirty = false;
    const now = Date.now();
    const current = (group: Group) => this.watches.has(group.key) && now - (this.openedAt.get(group.key) ?? 0) < REFRESH_MS;
    await Promise.all(this.groups.filter((group) => !current(group)).map(async (group) => {
      // The next watch starts where this list ends; the old one's late events could be older.
      this.watches.get(group.key)?.abort();
      this.watches.delete(group.key);
      const { apiVersion, kind, namespace, fieldSelector } = group;
      const { items, resourceVersion } = await listObjects(this.client, { apiVersion, kind, namespace, fieldSelector, signal: this.signal });
      for (const key of this.live.keys()) if (key.startsWith(`${group.key}/`)) this.live.delete(key);
      for (const item of items) this.keep(keyOf(kind, namespace, item.metadata.name), item);
      if (resourceVersion) this.listed.set(group.key, resourceVersion);
    }));
  }

  /** Opens the watch of every group from where its last list ended (once per list). */
  watch(): void {
    for (const group of this.groups) {
      const resourceVersion = this.listed.get(group.key);
      this.listed.delete(group.key);
      if (resourceVersion && !this.watches.has(group.key)) this.open(group, resourceVersion);
    }
  }

  /**
   * Resolves true as soon as a watched workload changes or a watch ends (at once if that
   * happened since the last call or list), false after `ms`; rejects when the signal aborts.
   */
  async changed(ms: number, clock: Clock): Promise<boolean> {
    this.signal?.throwIfAborted();
    if (this.dirty) {
      this.dirty = false;
      return true;
    }
    const sleeper = new AbortController();
    const forward = () => sleeper.abort(this.signal?.reason);
    this.signal?.addEventListener('abort', forward, { once: true });
    const slept = clock.sleep(ms, sleeper.signal).then(() => false);
    slept.catch(() => undefined); // cut short by a change: not a failure
    try {
      return await Promise.race([slept, new Promise<boolean>((resolve) => (this.wake = () => resolve(true)))]);
    } finally {
      this.wake = undefined;
      this.dirty = false;
      this.signal?.removeEventListener('abort', forward);
      sleeper.abort(); // clears the timer when a change came first
    }
  }

  /** Closes every watch; a list still in flight opens none. */
  close(): void {
    this.closed = true;
    for (const controller of this.watches.values()) controller.abort();
    this.watches.clear();
  }

  /** Only the workloads waited for: a namespace's other objects of the kind are not kept. */
  private keep(key: string, object: LiveObject): void {
    if (this.wanted.has(key)) this.live.set(key, object);
  }

  private notify(): void {
    this.dirty = true;
    this.wake?.();
  }

  private open(group: Group, resourceVersion: string): void {
    if (this.closed) return;
    const controller = new AbortController();
    this.watches.set(group.key, controller);
    this.openedAt.set(group.key, Date.now());
    void this.follow(group, resourceVersion, controller).finally(() => {
      if (this.watches.get(group.key) !== controller) return; // closed or replaced: nothing lost
      this.watches.delete(group.key);
      // The wait, counting on this watch, may be in a long sleep: let it poll sooner.
      this.notify();
    });
  }

  private async follow(group: Group, resourceVersion: string, controller: AbortController): Promise<void> {
    const { apiVersion, kind, namespace, fieldSelector } = group;
    try {
      for await (const event of watchObjects(this.client, { apiVersion, kind, namespace, fieldSelector, resourceVersion, signal: controller.signal })) {
        if (controller.signal.aborted) return; // replaced by a newer list meanwhile
        if (event.type === 'BOOKMARK') continue;
        const key = keyOf(kind, namespace, event.object.metadata.name);
        if (!this.wanted.has(key)) continue; // a neighbour in the namespace
        if (event.type === 'DELETED') this.live.delete(key);
        else this.keep(key, event.object);
        this.notify();
      }
    } catch {
      // 410 Gone, a dropped connection, a refused watch: the next list reopens it.
    }
  }
}
