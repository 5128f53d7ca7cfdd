// Applications: the spec written once, as a revision (content-addressed, like every spec), and
// the revision it is at now. The environments that track it move with it (store/changes.ts).
import type { Selectable } from 'kysely';
import type { AppSpecInput } from '../domain/environment.js';
import { nowIso } from './columns.js';
import { guard, NotFoundError } from './errors.js';
import { RevisionRepository } from './revisions.js';
import type { ApplicationsTable } from './schema.js';
import { type CatalogDb, inTransaction } from './transaction.js';

export interface ApplicationRecord {
  name: string;
  /** The revision of its spec as last applied. */
  currentRevision: string;
  updatedBy: string;
  generation: number;
  createdAt: string;
  updatedAt: string;
}

export class ApplicationRepository {
  constructor(private readonly db: CatalogDb) {}

  async get(name: string): Promise<ApplicationRecord | undefined> {
    const row = await guard('get application', () => this.db.selectFrom('applications').selectAll().where('name', '=', name).executeTakeFirst());
    return row && toRecord(row);
  }

  async require(name: string): Promise<ApplicationRecord> {
    const found = await this.get(name);
    if (!found) throw new NotFoundError('application', name);
    return found;
  }

  async list(): Promise<ApplicationRecord[]> {
    const rows = await guard('list applications', () => this.db.selectFrom('applications').selectAll().orderBy('name').execute());
    return rows.map(toRecord);
  }

  /** Stores the spec as a revision and points the application at it; `changed: false` when it was there already. */
  async put(name: string, spec: AppSpecInput, meta: { author: string }): Promise<{ application: ApplicationRecord; changed: boolean }> {
    return inTransaction(this.db, async (trx) => {
      const { revision } = await new RevisionRepository(trx).put(spec, meta);
      const at = nowIso();
      const existing = await new ApplicationRepository(trx).get(name);
      if (existing?.currentRevision === revision.id) return { application: existing, changed: false };
      const row: Selectable<ApplicationsTable> = existing
        ? { name, current_revision: revision.id, updated_by: meta.author, generation: existing.generation + 1, created_at: existing.createdAt, updated_at: at }
        : { name, current_revision: revision.id, updated_by: meta.author, generation: 1, created_at: at, updated_at: at };
      if (existing) await guard('store application', () => trx.updateTable('applications').set(row).where('name', '=', name).execute());
      else await guard('store application', () => trx.insertInto('applications').values(row).execute());
      return { application: toRecord(row), changed: true };
    });
  }

  /** Removes the application (its revisions stay); refused by the caller while environments use it. */
  async remove(name: string): Promise<void> {
    const result = await guard('remove application', () => this.db.deleteFrom('applications').where('name', '=', name).executeTakeFirst());
    if (result.numDeletedRows === 0n) throw new NotFoundError('application', name);
  }
}

function toRecord(row: Selectable<ApplicationsTable>): ApplicationRecord {
  return {
    name: row.name, currentRevision: row.current_revision, updatedBy: row.updated_by, generation: row.generation, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}
