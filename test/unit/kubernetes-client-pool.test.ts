// The worker's pool of cluster clients (providers/kubernetes/client-pool.ts): one client per key
// shared by concurrent and later users, its connections closed only once idle for idleMs, and a
// client that reaches another API server (a changed identity) never reused.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeClient } from '../../providers/kubernetes/client.js';
import { KubeClientPool } from '../../providers/kubernetes/client-pool.js';

/** Stands in for a KubeClient: the pool only ever closes it. */
function stubClient(name: string) {
  return { name, closed: 0, close() { this.closed++; } };
}
type Stub = ReturnType<typeof stubClient>;

describe('KubeClientPool', () => {
  afterEach(() => vi.useRealTimers());

  it('hands the same client to concurrent and later users of a key, building it once', async () => {
    const pool = new KubeClientPool(1_000);
    const built: Stub[] = [];
    const create = () => { const c = stubClient(`c${built.length}`); built.push(c); return c as unknown as KubeClient; };
    const seen: unknown[] = [];
    const use = () => pool.use('a', 'id-1', create, async (c) => { seen.push(c); await new Promise((r) => setTimeout(r, 5)); });
    await Promise.all([use(), use()]);
    await use();
    expect(built).toHaveLength(1);
    expect(seen).toEqual([built[0], built[0], built[0]]);
    // Another key: another client.
    await pool.use('b', 'id-1', create, async () => undefined);
    expect(built).toHaveLength(2);
    pool.close();
  });

  it('closes a client\'s connections only after it has been idle for idleMs', async () => {
    vi.useFakeTimers();
    const pool = new KubeClientPool(30_000);
    const client = stubClient('c');
    const create = () => client as unknown as KubeClient;
    await pool.use('a', 'id', create, async () => undefined);
    vi.advanceTimersByTime(29_000);
    expect(client.closed).toBe(0);
    // A user within the idle time keeps it open, and the idle time counts again from its end.
    await pool.use('a', 'id', create, async () => undefined);
    vi.advanceTimersByTime(29_000);
    expect(client.closed).toBe(0);
    vi.advanceTimersByTime(1_001);
    expect(client.closed).toBe(1);
    // Still usable (a closed client opens new connections): the next user gets it back.
    let got: unknown;
    await pool.use('a', 'id', () => stubClient('other') as unknown as KubeClient, async (c) => { got = c; });
    expect(got).toBe(client);
  });

  it('never closes a client while someone uses it', async () => {
    vi.useFakeTimers();
    const pool = new KubeClientPool(10);
    const client = stubClient('c');
    const create = () => client as unknown as KubeClient;
    let release!: () => void;
    const long = pool.use('a', 'id', create, () => new Promise<void>((r) => { release = r; }));
    await pool.use('a', 'id', create, async () => undefined); // a short user ends meanwhile
    vi.advanceTimersByTime(1_000);
    expect(client.closed).toBe(0);
    release();
    await long;
    vi.advanceTimersByTime(11);
    expect(client.closed).toBe(1);
  });

  it('replaces a client whose cluster now has another identity, closing the old one after its last user', async () => {
    const pool = new KubeClientPool(60_000);
    const old = stubClient('old');
    const fresh = stubClient('new');
    let release!: () => void;
    const inUse = pool.use('a', 'server-1', () => old as unknown as KubeClient, () => new Promise<void>((r) => { release = r; }));
    let got: unknown;
    await pool.use('a', 'server-2', () => fresh as unknown as KubeClient, async (c) => { got = c; });
    expect(got).toBe(fresh);
    expect(old.closed).toBe(0); // its user is not cut off
    release();
    await inUse;
    expect(old.closed).toBe(1);
    expect(fresh.closed).toBe(0);
    // The key now holds the new client.
    await pool.use('a', 'server-2', () => stubClient('third') as unknown as KubeClient, async (c) => { got = c; });
    expect(got).toBe(fresh);
    expect(pool.size).toBe(1);
    pool.close();
    expect(fresh.closed).toBe(1);
  });
});
