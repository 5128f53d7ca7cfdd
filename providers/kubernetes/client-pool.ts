// Long-lived clients, one per cluster and account, shared by every activity of a worker. An
// activity used to open a client of its own, so every apply, rollout wait, prune and health
// check began with new TCP and TLS handshakes: two round trips before its first request, per
// connection, which over a WAN cost more than the requests themselves. A pooled client keeps its
// connections while in use and closes them `idleMs` after its last user; a client whose
// cluster's connection facts changed (server, CA, TLS name, proxy) is replaced, never reused.
import type { KubeClient } from './client.js';

interface Entry {
  /** clusterIdentity of the kubeconfig the client was built from. */
  identity: string;
  client: KubeClient;
  users: number;
  idle?: ReturnType<typeof setTimeout>;
}

export class KubeClientPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly idleMs = 30_000) {}

  /**
   * Runs `work` with the pooled client for `key`, built with `create` when there is none, or
   * when the one there reaches another `identity`.
   */
  async use<T>(key: string, identity: string, create: () => KubeClient, work: (client: KubeClient) => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (!entry || entry.identity !== identity) {
      if (entry && entry.users === 0) this.retire(entry);
      entry = { identity, client: create(), users: 0 };
      this.entries.set(key, entry);
    }
    const current = entry;
    if (current.idle) clearTimeout(current.idle);
    current.idle = undefined;
    current.users++;
    try {
      return await work(current.client);
    } finally {
      current.users--;
      if (current.users === 0) {
        // Replaced meanwhile: its last user closes it. Otherwise its connections wait for the next user.
        if (this.entries.get(key) !== current) this.retire(current);
        else current.idle = setTimeout(() => this.retire(current), this.idleMs).unref();
      }
    }
  }

  /** Closes every idle client's connections (in-use ones close after their last user). */
  close(): void {
    for (const entry of this.entries.values()) if (entry.users === 0) this.retire(entry);
  }

  /** How many clients the pool holds: for tests. */
  get size(): number {
    return this.entries.size;
  }

  private retire(entry: Entry): void {
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = undefined;
    // The client stays usable: a later request opens a new connection.
    entry.client.close();
  }
}
