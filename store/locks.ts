// One change at a time per environment: the operation (workflow id) that changes an
// environment holds its lock until it ends. The primary key makes two holders impossible,
// across API processes and workers sharing one catalog.
import { nowIso } from './columns.js';
import { classifyDriverError, guard, StoreError } from './errors.js';
import { inTransaction, type CatalogDb } from './transaction.js';

export interface EnvironmentLock {
  environment: string;
  operationId: string;
  acquiredAt: string;
}

/** Another operation holds one of the environments (→ 409 naming it). */
export class EnvironmentBusyError extends StoreError {
  override readonly name = 'EnvironmentBusyError';
  constructor(readonly held: EnvironmentLock[]) {
    super(held.map((l) => `environment "${l.environment}" is being changed by operation "${l.operationId}"`).join('; '), 'busy');
  }
}

export class EnvironmentLockRepository {
  constructor(private readonly db: CatalogDb) {}

  /**
   * Takes every environment for `holder`, or none: EnvironmentBusyError names those another
   * operation holds. Re-entrant: environments the holder already has are fine.
   */
  async acquire(environments: readonly string[], holder: string): Promise<void> {
    const wanted = [...new Set(environments)].sort();
    if (wanted.length === 0) return;
    try {
      await inTransaction(this.db, async (trx) => {
        const held = await guard('read locks', () => trx.selectFrom('environment_locks').selectAll().where('environment', 'in', wanted).execute());
        const others = held.filter((l) => l.operation_id !== holder);
        if (others.length > 0) throw new EnvironmentBusyError(others.map(toLock));
        const mine = new Set(held.map((l) => l.environment));
        const missing = wanted.filter((e) => !mine.has(e));
        if (missing.length === 0) return;
        const at = nowIso();
        // A concurrent acquirer inserting the same row makes this fail as a unique violation.
        await trx.insertInto('environment_locks').values(missing.map((environment) => ({ environment, operation_id: holder, acquired_at: at }))).execute();
      });
    } catch (error) {
      if (classifyDriverError(error) === 'unique') {
        throw new EnvironmentBusyError(await this.heldBy(wanted, holder));
      }
      if (error instanceof StoreError) throw error;
      return guard('acquire locks', () => Promise.reject(error));
    }
  }

  /** Releases everything the holder has, or only the environments named; idempotent. */
  async release(holder: string, environments?: readonly string[]): Promise<number> {
    if (environments?.length === 0) return 0;
    const result = await guard('release locks', () => {
      let query = this.db.deleteFrom('environment_locks').where('operation_id', '=', holder);
      if (environments) query = query.where('environment', 'in', [...environments]);
      return query.executeTakeFirst();
    });
    return Number(result.numDeletedRows);
  }

  /** The locks on these environments held by anyone but `except`. */
  async heldBy(environments: readonly string[], except?: string): Promise<EnvironmentLock[]> {
    if (environments.length === 0) return [];
    const rows = await guard('read locks', () => this.db.selectFrom('environment_locks').selectAll().where('environment', 'in', [...environments]).execute());
    return rows.filter((r) => r.operation_id !== except).map(toLock);
  }

  async list(): Promise<EnvironmentLock[]> {
    const rows = await guard('read locks', () => this.db.selectFrom('environment_locks').selectAll().orderBy('environment').execute());
    return rows.map(toLock);
  }
}

function toLock(row: { environment: string; operation_id: string; acquired_at: string }): EnvironmentLock {
  return { environment: row.environment, operationId: row.operation_id, acquiredAt: row.acquired_at };
}
