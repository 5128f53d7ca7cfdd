// Live health per environment × service: the observer writes snapshots, the API reads them.
import type { Selectable } from 'kysely';
import { fromJson, nowIso, orUndefined, toIso, toJson } from './columns.js';
import { ConflictError, guard } from './errors.js';
import type { ServiceStatusTable } from './schema.js';
import { type CatalogDb, inTransaction } from './transaction.js';

export const HEALTH_STATES = ['healthy', 'progressing', 'degraded', 'unavailable', 'unknown'] as const;
export type Health = (typeof HEALTH_STATES)[number];

/** The health of several services together: the worst of them; unknown when there are none. */
export function worstHealth(healths: readonly Health[]): Health {
  const order: Health[] = ['unavailable', 'degraded', 'progressing', 'unknown', 'healthy'];
  return order.find((h) => healths.includes(h)) ?? 'unknown';
}

export interface ServiceStatus {
  environment: string;
  service: string;
  readyReplicas: number;
  desiredReplicas: number;
  health: Health;
  /** The revision the live objects carry. */
  revision?: string;
  /** Live objects differ from the revision. */
  drift: boolean;
  observedAt: string;
  updatedReplicas?: number;
  /** Container restarts summed over the service's pods. */
  restarts?: number;
  details?: ServiceDetails;
  /** When the observer last saw the row's values change. */
  changedAt?: string;
}

/** What a person needs to see why a service is not healthy. */
export interface ServiceDetails {
  kind?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  problems?: string[];
}

export type ServiceStatusInput = Omit<ServiceStatus, 'environment' | 'observedAt'> & { observedAt?: string };

export class StatusRepository {
  constructor(private readonly db: CatalogDb) {}

  /**
   * Replaces an environment's snapshot: given services are upserted, others removed (they no
   * longer exist in the cluster).
   */
  async replace(environment: string, services: ServiceStatusInput[]): Promise<void> {
    const now = nowIso();
    const rows: Selectable<ServiceStatusTable>[] = services.map((s) => ({
      environment,
      service: s.service,
      ready_replicas: s.readyReplicas,
      desired_replicas: s.desiredReplicas,
      health: s.health,
      revision: s.revision ?? null,
      drift: s.drift ? 1 : 0,
      observed_at: s.observedAt === undefined ? now : toIso(s.observedAt),
      updated_replicas: s.updatedReplicas ?? 0,
      restarts: s.restarts ?? 0,
      details: s.details === undefined ? null : toJson(s.details),
      changed_at: s.changedAt === undefined ? null : toIso(s.changedAt),
    }));
    await inTransaction(this.db, async (trx) => {
      let stale = trx.deleteFrom('service_status').where('environment', '=', environment);
      if (rows.length > 0) stale = stale.where('service', 'not in', rows.map((r) => r.service));
      await guard('replace status', () => stale.execute());
      if (rows.length === 0) return;
      await guard('replace status', () => trx.insertInto('service_status').values(rows)
        .onConflict((oc) => oc.columns(['environment', 'service']).doUpdateSet((eb) => ({
          ready_replicas: eb.ref('excluded.ready_replicas'),
          desired_replicas: eb.ref('excluded.desired_replicas'),
          health: eb.ref('excluded.health'),
          revision: eb.ref('excluded.revision'),
          drift: eb.ref('excluded.drift'),
          observed_at: eb.ref('excluded.observed_at'),
          updated_replicas: eb.ref('excluded.updated_replicas'),
          restarts: eb.ref('excluded.restarts'),
          details: eb.ref('excluded.details'),
          changed_at: eb.ref('excluded.changed_at'),
        })))
        .execute(), {
        foreignKey: () => new ConflictError(`status of "${environment}": no such environment`),
      });
    });
  }

  async forEnvironment(environment: string): Promise<ServiceStatus[]> {
    return this.list({ environment });
  }

  async list(filter: { environment?: string; environments?: readonly string[]; drift?: boolean } = {}): Promise<ServiceStatus[]> {
    const rows = await guard('list status', () => {
      let query = this.db.selectFrom('service_status').selectAll().orderBy('environment').orderBy('service');
      if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
      if (filter.environments !== undefined) query = query.where('environment', 'in', filter.environments.length > 0 ? [...filter.environments] : ['']);
      if (filter.drift !== undefined) query = query.where('drift', '=', filter.drift ? 1 : 0);
      return query.execute();
    });
    return rows.map(toStatus);
  }
}

function toStatus(row: Selectable<ServiceStatusTable>): ServiceStatus {
  return {
    environment: row.environment,
    service: row.service,
    readyReplicas: row.ready_replicas,
    desiredReplicas: row.desired_replicas,
    health: row.health as ServiceStatus['health'],
    revision: orUndefined(row.revision),
    drift: row.drift === 1,
    observedAt: row.observed_at,
    updatedReplicas: row.updated_replicas,
    restarts: row.restarts,
    ...(row.details === null ? {} : { details: fromJson<ServiceDetails>(row.details) }),
    ...(row.changed_at === null ? {} : { changedAt: row.changed_at }),
  };
}
