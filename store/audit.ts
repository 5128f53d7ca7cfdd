// The audit log: append-only (no update or delete here), queried newest first.
import type { Selectable } from 'kysely';
import { fromJsonOrUndefined, nowIso, orUndefined, toIso, toJson } from './columns.js';
import { guard } from './errors.js';
import { newId } from './ids.js';
import { clampLimit, decodeCursor, type Page, toPage } from './pagination.js';
import type { AuditLogTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

export const AUDIT_RESULTS = ['ok', 'denied', 'error'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export interface AuditEntry {
  id: string;
  at: string;
  /** Token name or "system:<component>". */
  actor: string;
  /** Verb, e.g. "environment.deploy", "token.create". */
  action: string;
  /** Object, e.g. "environment/shop-prod". */
  target: string;
  result: AuditResult;
  operationId?: string;
  /** Never secret values: callers pass names and ids only. */
  details?: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'> & { at?: string };

export interface AuditQuery {
  actor?: string;
  target?: string;
  action?: string;
  result?: AuditResult;
  operationId?: string;
  /** Inclusive lower bound. */
  since?: string;
  /** Exclusive upper bound. */
  until?: string;
  limit?: number;
  cursor?: string;
}

export class AuditLog {
  constructor(private readonly db: CatalogDb) {}

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    const row: Selectable<AuditLogTable> = {
      id: newId(),
      at: entry.at === undefined ? nowIso() : toIso(entry.at),
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      result: entry.result,
      operation_id: entry.operationId ?? null,
      details: entry.details === undefined ? null : toJson(entry.details),
    };
    await guard('append audit entry', () => this.db.insertInto('audit_log').values(row).execute());
    return toEntry(row);
  }

  async query(q: AuditQuery = {}): Promise<Page<AuditEntry>> {
    const limit = clampLimit(q.limit);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const since = q.since === undefined ? undefined : toIso(q.since);
    const until = q.until === undefined ? undefined : toIso(q.until);
    const rows = await guard('query audit log', () => {
      let query = this.db.selectFrom('audit_log').selectAll();
      if (q.actor !== undefined) query = query.where('actor', '=', q.actor);
      if (q.target !== undefined) query = query.where('target', '=', q.target);
      if (q.action !== undefined) query = query.where('action', '=', q.action);
      if (q.result !== undefined) query = query.where('result', '=', q.result);
      if (q.operationId !== undefined) query = query.where('operation_id', '=', q.operationId);
      if (since !== undefined) query = query.where('at', '>=', since);
      if (until !== undefined) query = query.where('at', '<', until);
      if (after) query = query.where((eb) => eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '<', after.id)])]));
      return query.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    });
    return toPage(rows.map(toEntry), limit, (e) => e);
  }
}

function toEntry(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    result: row.result as AuditResult,
    operationId: orUndefined(row.operation_id),
    details: fromJsonOrUndefined(row.details),
  };
}
