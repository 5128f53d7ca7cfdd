// Per-environment history: every spec change, deploy, promotion and rollback, newest first.
import type { Selectable } from 'kysely';
import { nowIso, orUndefined, toIso } from './columns.js';
import { ConflictError, guard } from './errors.js';
import { newId } from './ids.js';
import { clampLimit, decodeCursor, type Page, toPage } from './pagination.js';
import type { RevisionHistoryTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

// 'undeploy': a rollback removed a revision from an environment that ran nothing before it.
// 'clone': a clone's first deploy, of its source's revision.
export const HISTORY_KINDS = ['spec-change', 'deploy', 'promotion', 'rollback', 'undeploy', 'clone'] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

export interface HistoryEntry {
  id: string;
  environment: string;
  revision: string;
  author: string;
  kind: HistoryKind;
  operationId?: string;
  /** The overrides version deployed with the revision. */
  overridesVersion?: number;
  at: string;
}

export interface NewHistoryEntry {
  environment: string;
  revision: string;
  author: string;
  kind: HistoryKind;
  operationId?: string;
  overridesVersion?: number;
  at?: string;
}

export class RevisionHistoryRepository {
  constructor(private readonly db: CatalogDb) {}

  async record(entry: NewHistoryEntry): Promise<HistoryEntry> {
    const row: Selectable<RevisionHistoryTable> = {
      id: newId(),
      environment: entry.environment,
      revision: entry.revision,
      author: entry.author,
      kind: entry.kind,
      operation_id: entry.operationId ?? null,
      overrides_version: entry.overridesVersion ?? null,
      at: entry.at === undefined ? nowIso() : toIso(entry.at),
    };
    await guard('record history', () => this.db.insertInto('revision_history').values(row).execute(), {
      foreignKey: () => new ConflictError(`history of "${entry.environment}": the environment or revision ${entry.revision} does not exist`),
    });
    return toEntry(row);
  }

  async list(environment: string, options: { kind?: HistoryKind; limit?: number; cursor?: string } = {}): Promise<Page<HistoryEntry>> {
    const limit = clampLimit(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const rows = await guard('list history', () => {
      let query = this.db.selectFrom('revision_history').selectAll().where('environment', '=', environment);
      if (options.kind) query = query.where('kind', '=', options.kind);
      if (after) query = query.where((eb) => eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '<', after.id)])]));
      return query.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    });
    return toPage(rows.map(toEntry), limit, (e) => e);
  }
}

function toEntry(row: Selectable<RevisionHistoryTable>): HistoryEntry {
  return {
    id: row.id,
    environment: row.environment,
    revision: row.revision,
    author: row.author,
    kind: row.kind as HistoryKind,
    operationId: orUndefined(row.operation_id),
    ...(row.overrides_version !== null ? { overridesVersion: row.overrides_version } : {}),
    at: row.at,
  };
}
