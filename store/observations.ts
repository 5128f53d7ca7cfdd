// What the observer saw: per cluster (reachable or not, since when, last answer), per
// environment (health, live revision, drift) with its services (store/status.ts), and which
// observer may write each cluster. Every write of a cluster's observations checks, in its
// transaction, that the writer holds the cluster's lease: two observers never write one cluster.
import type { Selectable } from 'kysely';
import type { ObjectDrift } from '../domain/drift.js';
import { fromJson, orUndefined, toIso, toJson } from './columns.js';
import { guard, StoreError } from './errors.js';
import type { ClusterObservationsTable, EnvironmentObservationsTable } from './schema.js';
import { type Health, StatusRepository, type ServiceStatusInput } from './status.js';
import { type CatalogDb, inTransaction } from './transaction.js';

export interface ClusterObservation {
  cluster: string;
  reachable: boolean;
  /** When it last turned reachable or unreachable. */
  since: string;
  /** When it last answered. */
  lastSeenAt?: string;
  /** Why it is unreachable. */
  message?: string;
  observer: string;
}

export interface EnvironmentObservation {
  environment: string;
  cluster: string;
  health: Health;
  /** The revision (short) the live workloads carry. */
  revision?: string;
  drift: ObjectDrift[];
  /** Since when the environment has drifted without a break. */
  driftSince?: string;
  observedAt: string;
  /** When the observer last saw anything of it change. */
  changedAt: string;
}

export interface EnvironmentSnapshot {
  environment: string;
  cluster: string;
  health: Health;
  revision?: string;
  drift: ObjectDrift[];
  services: ServiceStatusInput[];
  at: string;
}

/** The writer no longer holds the cluster's lease: another observer took over. */
export class LeaseLostError extends StoreError {
  override readonly name = 'LeaseLostError';
  constructor(readonly cluster: string, readonly holder: string) {
    super(`observer "${holder}" does not hold the lease of cluster "${cluster}"`, 'lease-lost');
  }
}

export class ObservationRepository {
  constructor(private readonly db: CatalogDb) {}

  /**
   * Takes or renews the cluster's lease for `holder` until `until`; false while another
   * holder's lease runs. A lapsed lease goes to whoever asks first.
   */
  async acquireLease(cluster: string, holder: string, now: string, until: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const lease = await guard('read lease', () => trx.selectFrom('observer_leases').selectAll().where('cluster', '=', cluster).executeTakeFirst());
      if (!lease) {
        await guard('take lease', () => trx.insertInto('observer_leases').values({ cluster, holder, expires_at: toIso(until) })
          .onConflict((oc) => oc.column('cluster').doNothing()).execute());
      } else if (lease.holder === holder || lease.expires_at <= toIso(now)) {
        await guard('renew lease', () => trx.updateTable('observer_leases').set({ holder, expires_at: toIso(until) })
          .where('cluster', '=', cluster).where('holder', '=', lease.holder).where('expires_at', '=', lease.expires_at).execute());
      }
      const after = await guard('read lease', () => trx.selectFrom('observer_leases').select('holder').where('cluster', '=', cluster).executeTakeFirst());
      return after?.holder === holder;
    });
  }

  /** Gives up one cluster's lease, if the holder has it (sharding hands it to another observer). */
  async releaseLease(cluster: string, holder: string): Promise<void> {
    await guard('release lease', () => this.db.deleteFrom('observer_leases').where('cluster', '=', cluster).where('holder', '=', holder).execute());
  }

  /** Gives up the holder's leases (a clean shutdown), so another observer need not wait them out. */
  async releaseLeases(holder: string): Promise<void> {
    await guard('release leases', () => this.db.deleteFrom('observer_leases').where('holder', '=', holder).execute());
  }

  async leases(): Promise<{ cluster: string; holder: string; expiresAt: string }[]> {
    const rows = await guard('list leases', () => this.db.selectFrom('observer_leases').selectAll().orderBy('cluster').execute());
    return rows.map((r) => ({ cluster: r.cluster, holder: r.holder, expiresAt: r.expires_at }));
  }

  /** Records the cluster's reachability; `since` moves only when it changes. */
  async setReachability(holder: string, cluster: string, change: { reachable: boolean; at: string; message?: string }): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await requireLease(trx, cluster, holder, change.at);
      const before = await guard('read cluster observation', () => trx.selectFrom('cluster_observations').selectAll().where('cluster', '=', cluster).executeTakeFirst());
      const at = toIso(change.at);
      const row: Selectable<ClusterObservationsTable> = {
        cluster,
        reachable: change.reachable ? 1 : 0,
        since: before && (before.reachable === 1) === change.reachable ? before.since : at,
        last_seen_at: change.reachable ? at : (before?.last_seen_at ?? null),
        message: change.reachable ? null : (change.message ?? null),
        observer: holder,
      };
      await guard('write cluster observation', () => trx.insertInto('cluster_observations').values(row)
        .onConflict((oc) => oc.column('cluster').doUpdateSet({ reachable: row.reachable, since: row.since, last_seen_at: row.last_seen_at, message: row.message, observer: row.observer }))
        .execute());
    });
  }

  async clusters(): Promise<ClusterObservation[]> {
    const rows = await guard('list cluster observations', () => this.db.selectFrom('cluster_observations').selectAll().orderBy('cluster').execute());
    return rows.map(toClusterObservation);
  }

  /** Writes an environment's snapshot, keeping `driftSince` and `changedAt` when nothing changed. */
  async writeEnvironment(holder: string, snapshot: EnvironmentSnapshot): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await requireLease(trx, snapshot.cluster, holder, snapshot.at);
      const before = await guard('read environment observation', () => trx.selectFrom('environment_observations').selectAll()
        .where('environment', '=', snapshot.environment).executeTakeFirst());
      const at = toIso(snapshot.at);
      const drift = toJson(snapshot.drift);
      const same = before !== undefined && before.cluster === snapshot.cluster && before.health === snapshot.health &&
        before.revision === (snapshot.revision ?? null) && before.drift === drift;
      const row: Selectable<EnvironmentObservationsTable> = {
        environment: snapshot.environment,
        cluster: snapshot.cluster,
        health: snapshot.health,
        revision: snapshot.revision ?? null,
        drift,
        drift_since: snapshot.drift.length === 0 ? null : (before?.drift_since ?? at),
        observed_at: at,
        changed_at: same ? before.changed_at : at,
      };
      const { environment: _key, ...update } = row;
      await guard('write environment observation', () => trx.insertInto('environment_observations').values(row)
        .onConflict((oc) => oc.column('environment').doUpdateSet(update)).execute());
      const status = new StatusRepository(trx);
      // A service's changedAt moves only when something of it changed.
      const previous = new Map((await status.forEnvironment(snapshot.environment)).map((s) => [s.service, s]));
      await status.replace(snapshot.environment, snapshot.services.map((s) => {
        const was = previous.get(s.service);
        const same = was !== undefined && serviceValues(was) === serviceValues(s);
        return { ...s, observedAt: at, changedAt: same ? (was.changedAt ?? at) : at };
      }));
    });
  }

  async environments(filter: { drifted?: boolean; environments?: readonly string[] } = {}): Promise<EnvironmentObservation[]> {
    const rows = await guard('list environment observations', () => {
      let query = this.db.selectFrom('environment_observations').selectAll().orderBy('environment');
      if (filter.drifted) query = query.where('drift_since', 'is not', null);
      if (filter.environments) query = query.where('environment', 'in', filter.environments.length > 0 ? [...filter.environments] : ['']);
      return query.execute();
    });
    return rows.map(toEnvironmentObservation);
  }

  /**
   * Changes whenever anything the fleet view shows changed: the newest write and the row count
   * of every table it reads (a count catches deletions).
   */
  async version(): Promise<string> {
    const stamp = (table: 'clusters' | 'environments', column: 'updated_at') =>
      this.db.selectFrom(table).select((eb) => [eb.fn.max(column).as('at'), eb.fn.countAll().as('n')]).executeTakeFirst();
    const rows = await guard('read observation version', () => Promise.all([
      stamp('clusters', 'updated_at'),
      stamp('environments', 'updated_at'),
      this.db.selectFrom('environment_observations').select((eb) => [eb.fn.max('observed_at').as('at'), eb.fn.countAll().as('n')]).executeTakeFirst(),
      this.db.selectFrom('cluster_observations').select((eb) => [eb.fn.max('last_seen_at').as('at'), eb.fn.max('since').as('since'), eb.fn.countAll().as('n')]).executeTakeFirst(),
      this.db.selectFrom('service_status').select((eb) => [eb.fn.max('observed_at').as('at'), eb.fn.countAll().as('n')]).executeTakeFirst(),
    ]));
    return JSON.stringify(rows);
  }

  async environment(name: string): Promise<EnvironmentObservation | undefined> {
    const row = await guard('read environment observation', () => this.db.selectFrom('environment_observations').selectAll().where('environment', '=', name).executeTakeFirst());
    return row ? toEnvironmentObservation(row) : undefined;
  }
}

function serviceValues(s: Omit<ServiceStatusInput, 'observedAt' | 'changedAt'>): string {
  return JSON.stringify([s.health, s.desiredReplicas, s.readyReplicas, s.updatedReplicas ?? 0, s.restarts ?? 0, s.revision ?? null, s.drift, s.details ?? null]);
}

async function requireLease(trx: CatalogDb, cluster: string, holder: string, at: string): Promise<void> {
  const lease = await guard('read lease', () => trx.selectFrom('observer_leases').selectAll().where('cluster', '=', cluster).executeTakeFirst());
  if (!lease || lease.holder !== holder || lease.expires_at <= toIso(at)) throw new LeaseLostError(cluster, holder);
}

function toClusterObservation(row: Selectable<ClusterObservationsTable>): ClusterObservation {
  return {
    cluster: row.cluster,
    reachable: row.reachable === 1,
    since: row.since,
    lastSeenAt: orUndefined(row.last_seen_at),
    message: orUndefined(row.message),
    observer: row.observer,
  };
}

function toEnvironmentObservation(row: Selectable<EnvironmentObservationsTable>): EnvironmentObservation {
  return {
    environment: row.environment,
    cluster: row.cluster,
    health: row.health as Health,
    revision: orUndefined(row.revision),
    drift: fromJson<ObjectDrift[]>(row.drift),
    driftSince: orUndefined(row.drift_since),
    observedAt: row.observed_at,
    changedAt: row.changed_at,
  };
}
