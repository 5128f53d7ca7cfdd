// Live health per environment × service: the observer writes snapshots, the API reads them.
import type { Selectable } from 'kysely';
import { nowIso, orUndefined, toIso } from './columns.js';
import { ConflictError, guard } from './errors.js';
import type { ServiceStatusTable } from './schema.js';
import { type CatalogDb, inTransaction } from './transaction.js';

export const HEALTH_STATES = ['healthy', 'progressing', 'degraded', 'unavailable', 'unknown'] as const;
export type Health = (typeof HEALTH_STATES)[number];

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
        })))
        .execute(), {
        foreignKey: () => new ConflictError(`status of "${environment}": no such environment`),
      });
    });
  }

  async forEnvironment(environment: string): Promise<ServiceStatus[]> {
    return this.list({ environment });
  }

  async list(filter: { environment?: string; drift?: boolean } = {}): Promise<ServiceStatus[]> {
    const rows = await guard('list status', () => {
      let query = this.db.selectFrom('service_status').selectAll().orderBy('environment').orderBy('service');
      if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
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
  };
}
