// Revisions: immutable, content-addressed spec snapshots, shared by every environment.
import type { Selectable } from 'kysely';
import { canonicalJson } from '../domain/canonical.js';
import { AppSpec, type AppSpecInput } from '../domain/environment.js';
import { normalizeSpec, revisionOf } from '../domain/revision.js';
import { fromJson, nowIso } from './columns.js';
import { guard, NotFoundError } from './errors.js';
import type { RevisionsTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

export interface RevisionRecord {
  /** `sha256:<hex>` of the spec's canonical form. */
  id: string;
  spec: AppSpec;
  /** Who first stored this content. */
  author: string;
  createdAt: string;
}

export class RevisionRepository {
  constructor(private readonly db: CatalogDb) {}

  /**
   * Stores a spec under its content hash. Idempotent: the same spec (in any key or list order)
   * yields the same id and no new row; `created` tells whether this call stored it.
   */
  async put(input: AppSpecInput, meta: { author: string }): Promise<{ revision: RevisionRecord; created: boolean }> {
    const spec = AppSpec.parse(input);
    const id = revisionOf(spec);
    const row: Selectable<RevisionsTable> = {
      id,
      // The stored text is exactly what was hashed, so anyone can re-check the id.
      spec: canonicalJson(normalizeSpec(spec)),
      author: meta.author,
      created_at: nowIso(),
    };
    const result = await guard('store revision', () =>
      this.db.insertInto('revisions').values(row).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst());
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 1) return { revision: toRecord(row), created: true };
    return { revision: await this.require(id), created: false };
  }

  async get(id: string): Promise<RevisionRecord | undefined> {
    const row = await guard('get revision', () => this.db.selectFrom('revisions').selectAll().where('id', '=', id).executeTakeFirst());
    return row && toRecord(row);
  }

  async require(id: string): Promise<RevisionRecord> {
    const revision = await this.get(id);
    if (!revision) throw new NotFoundError('revision', id);
    return revision;
  }
}

function toRecord(row: Selectable<RevisionsTable>): RevisionRecord {
  return { id: row.id, spec: fromJson(row.spec), author: row.author, createdAt: row.created_at };
}
