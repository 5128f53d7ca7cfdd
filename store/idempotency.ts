// Idempotency keys: the first request with a key claims it; its answer is stored when it
// succeeds, so a retry gets that answer instead of doing the work twice.
import { fromJson, orUndefined, toJson } from './columns.js';
import { guard } from './errors.js';
import type { CatalogDb } from './transaction.js';

/** Keys older than this are forgotten: a retry a day later is a new request. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/**
 * A claim still pending after this long was left by a request whose API process died: no
 * request runs that long (bodies are small, starts are quick), so a retry takes it over and
 * finishes what the first attempt began.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;

export interface StoredResponse {
  status: number;
  body: unknown;
  location?: string;
}

export type Claim =
  /**
   * The request may run. `resumed`: it takes over the claim of an attempt that died mid-way,
   * and `operation` is the operation that attempt reserved (if it got that far).
   */
  | { kind: 'claimed'; resumed?: boolean; operation?: string }
  | { kind: 'replay'; response: StoredResponse }
  /** The key was used for a different request. */
  | { kind: 'mismatch' }
  /** The first request with this key is still running. */
  | { kind: 'in-progress' };

export class IdempotencyRepository {
  constructor(private readonly db: CatalogDb) {}

  async claim(principal: string, key: string, fingerprint: string, now = Date.now(), leaseMs = IDEMPOTENCY_LEASE_MS): Promise<Claim> {
    const expired = new Date(now - IDEMPOTENCY_TTL_MS).toISOString();
    await guard('claim idempotency key', () => this.db.deleteFrom('idempotency_keys')
      .where('principal', '=', principal).where('key', '=', key).where('created_at', '<', expired).execute());
    const inserted = await guard('claim idempotency key', () => this.db.insertInto('idempotency_keys')
      .values({ principal, key, fingerprint, state: 'pending', status: null, body: null, location: null, created_at: new Date(now).toISOString() })
      .onConflict((oc) => oc.columns(['principal', 'key']).doNothing())
      .executeTakeFirst());
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { kind: 'claimed' };
    const row = await guard('claim idempotency key', () => this.db.selectFrom('idempotency_keys').selectAll()
      .where('principal', '=', principal).where('key', '=', key).executeTakeFirst());
    if (!row) return this.claim(principal, key, fingerprint, now); // released meanwhile
    if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (row.state !== 'done' || row.status === null) {
      if (row.created_at >= new Date(now - leaseMs).toISOString()) return { kind: 'in-progress' };
      // Abandoned: take it over, unless another retry just did (the claim's time moves on).
      const taken = await guard('claim idempotency key', () => this.db.updateTable('idempotency_keys')
        .set({ created_at: new Date(now).toISOString() })
        .where('principal', '=', principal).where('key', '=', key).where('state', '=', 'pending').where('created_at', '=', row.created_at)
        .executeTakeFirst());
      if (Number(taken.numUpdatedRows) !== 1) return { kind: 'in-progress' };
      return { kind: 'claimed', resumed: true, ...(row.location !== null ? { operation: row.location } : {}) };
    }
    return { kind: 'replay', response: { status: row.status, body: row.body === null ? undefined : fromJson(row.body), location: orUndefined(row.location) } };
  }

  /**
   * Notes the operation a claimed request is about to start (kept in `location` while the
   * claim is pending; the answer's Location replaces it), so a retry that takes the claim over
   * finishes that operation instead of starting another.
   */
  async reserve(principal: string, key: string, operation: string): Promise<void> {
    await guard('reserve idempotency key', () => this.db.updateTable('idempotency_keys')
      .set({ location: operation })
      .where('principal', '=', principal).where('key', '=', key).where('state', '=', 'pending').execute());
  }

  /** Stores the answer of a claimed key. */
  async complete(principal: string, key: string, response: StoredResponse): Promise<void> {
    await guard('complete idempotency key', () => this.db.updateTable('idempotency_keys')
      .set({ state: 'done', status: response.status, body: response.body === undefined ? null : toJson(response.body), location: response.location ?? null })
      .where('principal', '=', principal).where('key', '=', key).execute());
  }

  /** Forgets a claimed key (its request failed): a retry runs again. */
  async release(principal: string, key: string): Promise<void> {
    await guard('release idempotency key', () => this.db.deleteFrom('idempotency_keys')
      .where('principal', '=', principal).where('key', '=', key).where('state', '=', 'pending').execute());
  }

  /** Drops expired keys; returns how many. */
  async purge(now = Date.now()): Promise<number> {
    const result = await guard('purge idempotency keys', () => this.db.deleteFrom('idempotency_keys')
      .where('created_at', '<', new Date(now - IDEMPOTENCY_TTL_MS).toISOString()).executeTakeFirst());
    return Number(result.numDeletedRows);
  }
}

