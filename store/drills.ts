// DR drill reports (domain/drill.ts), newest first; the RTO trend of an environment is its
// reports' RTOs in time order.
import type { Selectable } from 'kysely';
import type { DrillOutcome, DrillReport } from '../domain/drill.js';
import { fromJson, toIso, toJson } from './columns.js';
import { guard, NotFoundError } from './errors.js';
import type { DrillReportsTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

export interface StoredDrill {
  report: DrillReport;
  markdown: string;
}

export interface DrillSummary {
  id: string;
  source: string;
  clone: string;
  cluster: string;
  outcome: DrillOutcome;
  rtoSeconds?: number;
  rpoSeconds?: number;
  startedAt: string;
  finishedAt: string;
}

export class DrillReportRepository {
  constructor(private readonly db: CatalogDb) {}

  /** Stores a drill's report; a second save of the same drill (a retried activity) replaces it. */
  async save(report: DrillReport, markdown: string): Promise<void> {
    const row: Selectable<DrillReportsTable> = {
      id: report.id, source: report.source, clone: report.clone, cluster: report.cluster, outcome: report.outcome,
      rto_seconds: report.rtoSeconds ?? null, rpo_seconds: report.rpoSeconds ?? null,
      started_at: toIso(report.startedAt), finished_at: toIso(report.finishedAt), report: toJson(report), markdown,
    };
    await guard('save drill report', () => this.db.insertInto('drill_reports').values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ ...row }))
      .execute());
  }

  async get(id: string): Promise<StoredDrill | undefined> {
    const row = await guard('get drill report', () => this.db.selectFrom('drill_reports').select(['report', 'markdown']).where('id', '=', id).executeTakeFirst());
    return row && { report: fromJson(row.report), markdown: row.markdown };
  }

  async require(id: string): Promise<StoredDrill> {
    const found = await this.get(id);
    if (!found) throw new NotFoundError('drill', id);
    return found;
  }

  /** Newest first, at most `limit`. */
  async list(filter: { source?: string; limit?: number } = {}): Promise<DrillSummary[]> {
    const rows = await guard('list drill reports', () => {
      let query = this.db.selectFrom('drill_reports')
        .select(['id', 'source', 'clone', 'cluster', 'outcome', 'rto_seconds', 'rpo_seconds', 'started_at', 'finished_at'])
        .orderBy('started_at', 'desc').orderBy('id').limit(Math.min(filter.limit ?? 100, 500));
      if (filter.source) query = query.where('source', '=', filter.source);
      return query.execute();
    });
    return rows.map((r) => ({
      id: r.id, source: r.source, clone: r.clone, cluster: r.cluster, outcome: r.outcome as DrillOutcome,
      ...(r.rto_seconds !== null ? { rtoSeconds: r.rto_seconds } : {}), ...(r.rpo_seconds !== null ? { rpoSeconds: r.rpo_seconds } : {}),
      startedAt: r.started_at, finishedAt: r.finished_at,
    }));
  }
}
