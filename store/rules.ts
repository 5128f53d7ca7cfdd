// The organisation's rules: one current document, every earlier version kept.
import type { Selectable } from 'kysely';
import { Rules, type RulesInput } from '../domain/rules.js';
import { fromJson, nowIso, toJson } from './columns.js';
import { ConflictError, guard, NotFoundError } from './errors.js';
import type { RulesVersionsTable } from './schema.js';
import { type CatalogDb, inTransaction } from './transaction.js';

export interface RulesRecord {
  rules: Rules;
  /** 0 until the first document is stored. */
  version: number;
  updatedBy?: string;
  updatedAt?: string;
}

export class RulesRepository {
  constructor(private readonly db: CatalogDb) {}

  /** The current rules; the defaults (no rule set), version 0, before any were stored. */
  async current(): Promise<RulesRecord> {
    const row = await guard('get rules', () =>
      this.db.selectFrom('rules_versions').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst());
    return row ? toRecord(row) : { rules: Rules.parse({}), version: 0 };
  }

  /**
   * Stores a new version. With `expectedVersion`, refuses (ConflictError) unless the current
   * version is that one: two editors cannot silently overwrite each other.
   */
  async put(input: RulesInput, meta: { by: string; expectedVersion?: number }): Promise<RulesRecord> {
    const rules = Rules.parse(input);
    return inTransaction(this.db, async (trx) => {
      const latest = await guard('put rules', () =>
        trx.selectFrom('rules_versions').select('version').orderBy('version', 'desc').limit(1).executeTakeFirst());
      const current = latest?.version ?? 0;
      if (meta.expectedVersion !== undefined && meta.expectedVersion !== current) {
        throw new ConflictError(`rules are at version ${current}, not ${meta.expectedVersion}; reload and retry`);
      }
      const row = { version: current + 1, document: toJson(rules), updated_by: meta.by, updated_at: nowIso() };
      // The version is the primary key: a concurrent writer that read the same version loses here.
      await guard('put rules', () => trx.insertInto('rules_versions').values(row).execute(), {
        unique: () => new ConflictError(`rules changed meanwhile (version ${row.version} exists); reload and retry`),
      });
      return toRecord(row);
    });
  }

  async get(version: number): Promise<RulesRecord> {
    const row = await guard('get rules', () =>
      this.db.selectFrom('rules_versions').selectAll().where('version', '=', version).executeTakeFirst());
    if (!row) throw new NotFoundError('rules version', String(version));
    return toRecord(row);
  }

  /** Every stored version, newest first. */
  async history(options: { limit?: number } = {}): Promise<RulesRecord[]> {
    const rows = await guard('list rules history', () => {
      const query = this.db.selectFrom('rules_versions').selectAll().orderBy('version', 'desc');
      return (options.limit === undefined ? query : query.limit(options.limit)).execute();
    });
    return rows.map(toRecord);
  }
}

function toRecord(row: Selectable<RulesVersionsTable>): RulesRecord {
  return { rules: fromJson(row.document), version: row.version, updatedBy: row.updated_by, updatedAt: row.updated_at };
}
