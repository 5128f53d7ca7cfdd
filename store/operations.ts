// An index of operations (workflow runs) for listing and filtering; Temporal stays the source
// of truth for their progress.
import type { Selectable } from 'kysely';
import { nowIso, orUndefined, toIso } from './columns.js';
import { guard, NotFoundError } from './errors.js';
import { clampLimit, decodeCursor, type Page, toPage } from './pagination.js';
import type { OperationsTable } from './schema.js';
import { type CatalogDb, inTransaction } from './transaction.js';

export const OPERATION_KINDS = ['onboarding', 'offboarding', 'deploy', 'promotion', 'clone', 'drill', 'compliance-clone', 'teardown', 'stop', 'start'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATES = ['running', 'waiting', 'paused', 'completed', 'failed', 'cancelled', 'terminated', 'timed-out'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];
const FINAL_STATES: readonly OperationState[] = ['completed', 'failed', 'cancelled', 'terminated', 'timed-out'];

/** How an operation ended for the user; only `failed` means Flotilla could not do its job. */
export const OPERATION_OUTCOMES = ['completed', 'rejected', 'cancelled', 'rolled-back', 'completed-with-failures', 'failed'] as const;
export type OperationOutcome = (typeof OPERATION_OUTCOMES)[number];

export interface OperationRecord {
  /** The workflow id. */
  id: string;
  kind: OperationKind;
  state: OperationState;
  environments: string[];
  clusters: string[];
  requestedBy?: string;
  outcome?: OperationOutcome;
  /** Why it ended as it did (rejected by whom, what failed). */
  message?: string;
  startedAt: string;
  finishedAt?: string;
  updatedAt: string;
}

/** What a workflow reports of itself at each phase change. */
export interface OperationReport {
  id: string;
  kind: OperationKind;
  state: OperationState;
  outcome?: OperationOutcome;
  message?: string;
  environments?: string[];
  clusters?: string[];
  requestedBy?: string;
  at?: string;
}

export interface NewOperation {
  id: string;
  kind: OperationKind;
  state?: OperationState;
  environments?: string[];
  clusters?: string[];
  requestedBy?: string;
  startedAt?: string;
}

export interface OperationFilter {
  kind?: OperationKind;
  state?: OperationState | OperationState[];
  outcome?: OperationOutcome;
  environment?: string;
  cluster?: string;
  limit?: number;
  cursor?: string;
}

export class OperationRepository {
  constructor(private readonly db: CatalogDb) {}

  /**
   * Idempotent on the id, like the workflow start it mirrors: a retry returns the first record
   * (with any subjects it did not have yet added).
   */
  async record(input: NewOperation): Promise<OperationRecord> {
    const at = nowIso();
    const row: Selectable<OperationsTable> = {
      id: input.id,
      kind: input.kind,
      state: input.state ?? 'running',
      requested_by: input.requestedBy ?? null,
      outcome: null,
      message: null,
      started_at: input.startedAt === undefined ? at : toIso(input.startedAt),
      finished_at: null,
      updated_at: at,
    };
    const subjects = [
      ...[...new Set(input.environments ?? [])].map((name) => ({ operation_id: input.id, subject_kind: 'environment', name })),
      ...[...new Set(input.clusters ?? [])].map((name) => ({ operation_id: input.id, subject_kind: 'cluster', name })),
    ];
    await inTransaction(this.db, async (trx) => {
      await guard('record operation', () =>
        trx.insertInto('operations').values(row).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst());
      // Subjects are added even when the operation exists: the workflow's own first report may
      // have recorded it before the API did, knowing fewer of its clusters.
      if (subjects.length > 0) {
        await guard('record operation', () => trx.insertInto('operation_subjects').values(subjects)
          .onConflict((oc) => oc.columns(['operation_id', 'subject_kind', 'name']).doNothing()).execute());
      }
    });
    return this.require(input.id);
  }

  /**
   * The workflow's own report: records the operation if nobody did (a start outside the API),
   * then its state and, at the end, its outcome. A report never reopens a finished operation.
   */
  async report(input: OperationReport): Promise<OperationRecord> {
    const existing = await this.get(input.id) ?? await this.record({
      id: input.id, kind: input.kind, environments: input.environments, clusters: input.clusters, requestedBy: input.requestedBy,
    });
    if (existing.finishedAt !== undefined && !FINAL_STATES.includes(input.state)) return existing;
    const when = input.at === undefined ? nowIso() : toIso(input.at);
    await guard('update operation', () => this.db.updateTable('operations')
      .set({
        state: input.state,
        updated_at: when,
        finished_at: FINAL_STATES.includes(input.state) ? when : null,
        ...(input.outcome !== undefined ? { outcome: input.outcome } : {}),
        ...(input.message !== undefined ? { message: input.message } : {}),
      })
      .where('id', '=', input.id)
      .execute());
    return this.require(input.id);
  }

  /** Moves an operation to a state; final states stamp the finish time. */
  async setState(id: string, state: OperationState, at?: string): Promise<OperationRecord> {
    const when = at === undefined ? nowIso() : toIso(at);
    const result = await guard('update operation', () => this.db.updateTable('operations')
      .set({ state, updated_at: when, finished_at: FINAL_STATES.includes(state) ? when : null })
      .where('id', '=', id)
      .executeTakeFirst());
    if (result.numUpdatedRows === 0n) throw new NotFoundError('operation', id);
    return this.require(id);
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    const row = await guard('get operation', () => this.db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst());
    return row && (await this.withSubjects([row]))[0];
  }

  async require(id: string): Promise<OperationRecord> {
    const operation = await this.get(id);
    if (!operation) throw new NotFoundError('operation', id);
    return operation;
  }

  /** Newest first. */
  async list(filter: OperationFilter = {}): Promise<Page<OperationRecord>> {
    const limit = clampLimit(filter.limit);
    const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const states = filter.state === undefined ? undefined : ([] as OperationState[]).concat(filter.state);
    const rows = await guard('list operations', () => {
      let query = this.db.selectFrom('operations').selectAll();
      if (filter.kind) query = query.where('kind', '=', filter.kind);
      if (states) query = query.where('state', 'in', states);
      if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
      for (const [kind, name] of [['environment', filter.environment], ['cluster', filter.cluster]] as const) {
        if (name === undefined) continue;
        query = query.where((eb) => eb.exists(eb.selectFrom('operation_subjects as s').select('s.name')
          .whereRef('s.operation_id', '=', 'operations.id').where('s.subject_kind', '=', kind).where('s.name', '=', name)));
      }
      if (after) {
        query = query.where((eb) => eb.or([eb('started_at', '<', after.at), eb.and([eb('started_at', '=', after.at), eb('id', '<', after.id)])]));
      }
      return query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    });
    const page = toPage(rows, limit, (r) => ({ at: r.started_at, id: r.id }));
    return { ...page, items: await this.withSubjects(page.items) };
  }

  /** Operations recorded or changed at or after `at`, oldest change first (at most `limit`). */
  async changedSince(at: string, limit = 200): Promise<OperationRecord[]> {
    const rows = await guard('list operations', () => this.db.selectFrom('operations').selectAll()
      .where('updated_at', '>=', at).orderBy('updated_at').orderBy('id').limit(limit).execute());
    return this.withSubjects(rows);
  }

  private async withSubjects(rows: Selectable<OperationsTable>[]): Promise<OperationRecord[]> {
    if (rows.length === 0) return [];
    const subjects = await guard('list operations', () => this.db.selectFrom('operation_subjects').selectAll()
      .where('operation_id', 'in', rows.map((r) => r.id)).orderBy('name').execute());
    return rows.map((row) => {
      const mine = subjects.filter((s) => s.operation_id === row.id);
      return {
        id: row.id,
        kind: row.kind as OperationKind,
        state: row.state as OperationState,
        environments: mine.filter((s) => s.subject_kind === 'environment').map((s) => s.name),
        clusters: mine.filter((s) => s.subject_kind === 'cluster').map((s) => s.name),
        requestedBy: orUndefined(row.requested_by),
        ...(row.outcome !== null ? { outcome: row.outcome as OperationOutcome } : {}),
        ...(row.message !== null ? { message: row.message } : {}),
        startedAt: row.started_at,
        finishedAt: orUndefined(row.finished_at),
        updatedAt: row.updated_at,
      };
    });
  }
}
