// Clones (domain/clone.ts): the operation that made each one, its source and data, its TTL and
// where it is in its life. Rows stay after teardown (state torn-down): the history of previews,
// drills and compliance clones.
import type { Selectable } from 'kysely';
import type { ClonePurpose, CloneState, DataPlanEntry, DatabaseCopySummary } from '../domain/clone.js';
import { fromJson, fromJsonOrUndefined, nowIso, orUndefined, toIso, toJson } from './columns.js';
import { ConflictError, guard, NotFoundError } from './errors.js';
import type { ClonesTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

export interface CloneRecord {
  /** The clone operation's id (its workflow id). */
  id: string;
  name: string;
  source: string;
  sourceRevision: string;
  cluster: string;
  purpose: ClonePurpose;
  state: CloneState;
  data: DataPlanEntry[];
  dataResult?: DatabaseCopySummary[];
  message?: string;
  ttlSeconds?: number;
  expiresAt?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewClone {
  id: string;
  name: string;
  source: string;
  sourceRevision: string;
  cluster: string;
  purpose: ClonePurpose;
  data: DataPlanEntry[];
  ttlSeconds?: number;
  expiresAt?: string;
  createdBy: string;
}

export interface CloneFilter {
  source?: string;
  name?: string;
  /** Only clones not yet torn down (the default of the API's list). */
  active?: boolean;
}

const ENDED: CloneState[] = ['torn-down'];

export class CloneRepository {
  constructor(private readonly db: CatalogDb) {}

  async create(input: NewClone): Promise<CloneRecord> {
    const at = nowIso();
    const row: Selectable<ClonesTable> = {
      id: input.id,
      name: input.name,
      source: input.source,
      source_revision: input.sourceRevision,
      cluster: input.cluster,
      purpose: input.purpose,
      state: 'creating',
      data_plan: toJson(input.data),
      data_result: null,
      message: null,
      ttl_seconds: input.ttlSeconds ?? null,
      expires_at: input.expiresAt === undefined ? null : toIso(input.expiresAt),
      created_by: input.createdBy,
      created_at: at,
      updated_at: at,
    };
    await guard('create clone', () => this.db.insertInto('clones').values(row).execute(), {
      unique: () => new ConflictError(`clone operation "${input.id}" already exists`),
    });
    return toRecord(row);
  }

  async get(id: string): Promise<CloneRecord | undefined> {
    const row = await guard('get clone', () => this.db.selectFrom('clones').selectAll().where('id', '=', id).executeTakeFirst());
    return row && toRecord(row);
  }

  async require(id: string): Promise<CloneRecord> {
    const clone = await this.get(id);
    if (!clone) throw new NotFoundError('clone', id);
    return clone;
  }

  /** The clone that made (or is making) the environment `name` now, if it is one. */
  async activeFor(name: string): Promise<CloneRecord | undefined> {
    const row = await guard('get clone', () => this.db.selectFrom('clones').selectAll()
      .where('name', '=', name).where('state', 'not in', ENDED)
      .orderBy('created_at', 'desc').executeTakeFirst());
    return row && toRecord(row);
  }

  /** Newest first. */
  async list(filter: CloneFilter = {}): Promise<CloneRecord[]> {
    const rows = await guard('list clones', () => {
      let query = this.db.selectFrom('clones').selectAll().orderBy('created_at', 'desc').orderBy('id');
      if (filter.source) query = query.where('source', '=', filter.source);
      if (filter.name) query = query.where('name', '=', filter.name);
      if (filter.active) query = query.where('state', 'not in', ENDED);
      return query.execute();
    });
    return rows.map(toRecord);
  }

  /** Moves the clone along its life; `message` says why (a failure's reason), `dataResult` what its copy did. */
  async update(id: string, change: { state?: CloneState; message?: string | null; dataResult?: DatabaseCopySummary[]; expiresAt?: string | null; ttlSeconds?: number | null }): Promise<CloneRecord> {
    const set: Partial<ClonesTable> = { updated_at: nowIso() };
    if (change.state !== undefined) set.state = change.state;
    if (change.message !== undefined) set.message = change.message;
    if (change.dataResult !== undefined) set.data_result = toJson(change.dataResult);
    if (change.expiresAt !== undefined) set.expires_at = change.expiresAt === null ? null : toIso(change.expiresAt);
    if (change.ttlSeconds !== undefined) set.ttl_seconds = change.ttlSeconds;
    const row = await guard('update clone', () => this.db.updateTable('clones').set(set).where('id', '=', id).returningAll().executeTakeFirst());
    if (!row) throw new NotFoundError('clone', id);
    return toRecord(row);
  }
}

function toRecord(row: Selectable<ClonesTable>): CloneRecord {
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    sourceRevision: row.source_revision,
    cluster: row.cluster,
    purpose: row.purpose as ClonePurpose,
    state: row.state as CloneState,
    data: fromJson(row.data_plan),
    dataResult: fromJsonOrUndefined(row.data_result),
    message: orUndefined(row.message),
    ttlSeconds: orUndefined(row.ttl_seconds),
    expiresAt: orUndefined(row.expires_at),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
