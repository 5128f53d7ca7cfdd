// The PostgreSQL data copy: one consistent snapshot of the source, copied into an empty (or
// Flotilla-marked) target in three phases:
//   schema     pg_dump --section=pre-data at the snapshot → pg_restore, one transaction;
//   data       N connections share the snapshot (pg_export_snapshot / SET TRANSACTION SNAPSHOT)
//              and stream COPY TO → COPY FROM per table, largest first: binary and untouched
//              for `snapshot` and for tables without rules; tables with rules through a
//              scrubber (binary when every ruled column is a string, else text); back-pressure
//              end to end, so memory stays flat;
//   post-data  indexes, constraints and foreign keys after the rows (faster, and it validates
//              every foreign key of the copied data), pg_restore --jobs N.
// Before anything is written: the policy verdict (scrubbed), the same-database check and the
// target claim (empty, or marked by an earlier attempt of this copy, which is then reset).
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import {
  dataPolicyVerdict, rulesByTable, tableKey, type DataMode, type DataPolicy, type PersonalColumn, type Transformer,
} from '../../domain/data-policy.js';
import { findPgBin } from './binaries.js';
import { CopyMeter } from './copy-streams.js';
import { BinaryScrubStream, ScrubStream } from './scrub.js';
import { CopyCancelledError, DataCopyError, DataPolicyRefusedError, UnsupportedSourceError } from './errors.js';
import { describeSource, qualified, quoteIdent, sampleTextColumns, type SourceDescription, type SourceTable } from './introspect.js';
import { Masker } from './masking.js';
import { dumpSchema, restorePostData, restorePreData, type ToolRun } from './schema-tools.js';
import { claimTarget, completeMarker, dropCopy, refuseSameDatabase } from './target.js';

export interface DatabaseRef {
  /** postgres:// URL with credentials: used to connect, never logged or returned. */
  url: string;
  /** Safe to log: "external orders-db of shop-prod". */
  describe: string;
}

export type CopyPhase = 'schema' | 'data' | 'post-data';

export interface CopyProgress {
  phase: CopyPhase;
  /** The table being copied (the latest one to move, when several are). */
  table?: string;
  rows: number;
  bytes: number;
  tablesDone: number;
  tables: number;
}

export interface CopyOptions {
  copyId: string;
  source: DatabaseRef;
  target: DatabaseRef;
  mode: DataMode;
  policy?: DataPolicy;
  /** Refuse personal-looking columns without a rule (scrubbed). */
  strict?: boolean;
  /** HMAC key of the transformers; required for scrubbed. */
  maskingKey?: Buffer;
  /** Folder with pg_dump and pg_restore (default: findPgBin()). */
  pgBin?: string;
  /** Concurrent table copies and index builds (default 2). */
  parallel?: number;
  onProgress?: (progress: CopyProgress) => void;
  /** The least time between two progress reports while rows stream (default 200 ms). */
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export interface TableCopyResult {
  /** "public.orders" */
  name: string;
  rows: number;
  bytes: number;
  /** SHA-256 (hex) of the COPY stream loaded into the target, in `format`. */
  checksum: string;
  format: 'binary' | 'text';
  /** Columns written through a transformer (scrubbed). */
  masked: string[];
}

export interface CopyResult {
  copyId: string;
  mode: DataMode;
  tables: TableCopyResult[];
  rows: number;
  bytes: number;
  /** When the source snapshot was taken (ISO): the age of the data, for RPO. */
  snapshotAt?: string;
  phases: { schemaMs: number; dataMs: number; postDataMs: number };
  durationMs: number;
  /** Personal-looking columns copied without a rule ("public.customers.email"), scrubbed only. */
  unruledPersonal: string[];
  /** Which attempt of this copy wrote the target (1 unless an earlier one was reset). */
  attempt: number;
}

export interface PolicyCheck {
  tables: number;
  unruledPersonal: PersonalColumn[];
}

/** A session name per copy: how a retry finds (and ends) the sessions of an attempt that died. */
export function copyApplicationName(copyId: string): string {
  return `flotilla-copy-${createHash('sha256').update(copyId).digest('hex').slice(0, 16)}`;
}

async function connect(ref: DatabaseRef, applicationName: string): Promise<pg.Client> {
  // The copy's own application name, even over one the URL carries (pg lets the URL's win): a
  // retry finds and ends the sessions a killed attempt left by it, e.g. through a port-forward
  // whose far end outlives the worker.
  const url = new URL(ref.url);
  url.searchParams.delete('application_name');
  const client = new pg.Client({ connectionString: url.toString(), application_name: applicationName });
  // A connection error must not carry the URL: pg's messages name host and user at most.
  client.on('error', () => undefined);
  await client.connect();
  // A copy is long and its snapshot transaction sits idle while the tables stream.
  await client.query('set statement_timeout = 0; set idle_in_transaction_session_timeout = 0; set lock_timeout = 0');
  return client;
}

async function closeAll(clients: (pg.Client | undefined)[]): Promise<void> {
  await Promise.all(clients.map((c) => c?.end().catch(() => undefined)));
}

/** The snapshot every reader shares, and when it was taken. */
async function openSnapshot(client: pg.Client): Promise<{ snapshot: string; at: string }> {
  await client.query('begin isolation level repeatable read read only');
  const { rows } = await client.query<{ snapshot: string; at: Date }>('select pg_export_snapshot() as snapshot, statement_timestamp() as at');
  return { snapshot: rows[0]!.snapshot, at: rows[0]!.at.toISOString() };
}

/** The policy verdict of a scrubbed copy on an open snapshot; throws DataPolicyRefusedError. */
async function judgePolicy(client: pg.Client, source: SourceDescription, policy: DataPolicy | undefined, strict: boolean): Promise<PersonalColumn[]> {
  const ruled = rulesByTable(policy);
  const samples = await sampleTextColumns(client, source.tables, (column) => {
    const dot = column.lastIndexOf('.');
    return Object.hasOwn(ruled.get(column.slice(0, dot))?.columns ?? {}, column.slice(dot + 1));
  });
  const verdict = dataPolicyVerdict({ policy, schema: source, samples, strict });
  if (verdict.refused.length > 0) throw new DataPolicyRefusedError(verdict.refused, verdict.unruledPersonal);
  return verdict.unruledPersonal;
}

/** checkDataPolicy: the verdict alone, against the source as it is now. Writes nothing anywhere. */
export async function checkPolicy(options: { source: DatabaseRef; policy?: DataPolicy; strict: boolean; mode: DataMode }): Promise<PolicyCheck> {
  const client = await connect(options.source, 'flotilla-policy-check');
  try {
    await client.query('begin isolation level repeatable read read only');
    const source = await describeSource(client);
    const unruledPersonal = options.mode === 'scrubbed' ? await judgePolicy(client, source, options.policy, options.strict) : [];
    return { tables: source.tables.length, unruledPersonal };
  } finally {
    await closeAll([client]);
  }
}

interface TablePlan {
  table: SourceTable;
  /** Column index → transformer, for the copied columns (generated ones are not). */
  rules: Map<number, Transformer>;
  columns: string[];
  /**
   * Binary whenever every column's type has binary I/O and every rule writes a string column
   * (a string's binary form is its text) or NULL; text otherwise (e.g. a fixed value for a date).
   */
  format: 'binary' | 'text';
}

function planTables(source: SourceDescription, mode: DataMode, policy: DataPolicy | undefined): TablePlan[] {
  const ruled = mode === 'scrubbed' ? rulesByTable(policy) : new Map();
  return [...source.tables].sort((a, b) => b.bytes - a.bytes).map((table) => {
    const copied = table.columns.filter((c) => !c.generated);
    const rules = new Map<number, Transformer>();
    const declared = ruled.get(tableKey(table))?.columns ?? {};
    for (const [column, transformer] of Object.entries(declared) as [string, Transformer][]) {
      if (transformer === 'keep') continue;
      const index = copied.findIndex((c) => c.name === column);
      // The verdict already refused unknown columns; a generated one cannot be written at all.
      if (index < 0) throw new DataPolicyRefusedError([{ path: ['tables', tableKey(table), column], message: 'a generated column cannot be masked (it is computed from the others): rule its inputs' }], []);
      rules.set(index, transformer);
    }
    const binary = table.binary && [...rules].every(([i, t]) => t === 'null' || copied[i]!.textual);
    return { table, rules, columns: copied.map((c) => c.name), format: binary ? 'binary' : 'text' };
  });
}

/**
 * Copies `source` into `target` in `mode`. Idempotent per copyId: a completed copy returns its
 * recorded result, an interrupted one is reset and done again from a new snapshot.
 */
export async function copyDatabase(options: CopyOptions): Promise<CopyResult> {
  const started = Date.now();
  const { copyId, mode } = options;
  const empty: CopyResult = {
    copyId, mode, tables: [], rows: 0, bytes: 0, phases: { schemaMs: 0, dataMs: 0, postDataMs: 0 }, durationMs: 0, unruledPersonal: [], attempt: 1,
  };
  if (mode === 'none') return empty;
  if (mode === 'scrubbed' && (!options.maskingKey || options.maskingKey.length < 16)) throw new DataCopyError('a scrubbed copy needs a masking key');
  const signal = options.signal;
  const applicationName = copyApplicationName(copyId);
  const pgBin = options.pgBin ?? findPgBin();
  const parallel = Math.max(1, options.parallel ?? 2);
  const tools: ToolRun = { pgBin, applicationName, ...(signal ? { signal } : {}) };
  const clients: pg.Client[] = [];
  const cancelled = () => {
    if (signal?.aborted) throw new CopyCancelledError('the copy was cancelled');
  };
  const onAbort = () => void closeAll(clients);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const coordinator = await connect(options.source, applicationName);
    clients.push(coordinator);
    // A killed attempt's source sessions (an idle snapshot transaction) would otherwise hold back
    // vacuum until the far end of its route gives up; only this copy's are ended.
    await coordinator.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()',
      [applicationName]).catch(() => undefined);
    const { snapshot, at: snapshotAt } = await openSnapshot(coordinator);
    const source = await describeSource(coordinator);
    if (source.largeObjects > 0 && mode !== 'schema') {
      throw new UnsupportedSourceError(`source ${options.source.describe} holds ${source.largeObjects} large objects, which the copy does not carry: refusing an incomplete copy`);
    }
    const unruled = mode === 'scrubbed' ? await judgePolicy(coordinator, source, options.policy, options.strict ?? false) : [];
    const plans = planTables(source, mode, options.policy);
    cancelled();

    const admin = await connect(options.target, applicationName);
    clients.push(admin);
    await refuseSameDatabase(coordinator, admin, `${options.source.describe} → ${options.target.describe}`);
    await takeOver(admin, applicationName);
    const found = await claimTarget(admin, copyId, options.target.describe);
    if (found?.state === 'complete' && found.result) return found.result as CopyResult;
    const attempt = found ? found.attempt + 1 : 1;

    const progress: CopyProgress = { phase: 'schema', rows: 0, bytes: 0, tablesDone: 0, tables: mode === 'schema' ? 0 : plans.length };
    const report = throttled(options.onProgress, progress, options.progressEveryMs ?? 200);
    report(true);
    const t0 = Date.now();
    const dump = await dumpSchema(options.source.url, snapshot, tools);
    try {
      await restorePreData(options.target.url, dump, tools);
      const t1 = Date.now();
      let tables: TableCopyResult[] = [];
      if (mode !== 'schema') {
        progress.phase = 'data';
        report(true);
        tables = await copyRows(options, plans, snapshot, applicationName, clients, progress, report, parallel);
        await copySequences(coordinator, admin, source);
      }
      cancelled();
      const t2 = Date.now();
      progress.phase = 'post-data';
      report(true);
      await restorePostData(options.target.url, dump, parallel, tools);
      const t3 = Date.now();
      const result: CopyResult = {
        copyId, mode, tables: tables.sort((a, b) => a.name.localeCompare(b.name)),
        rows: tables.reduce((n, t) => n + t.rows, 0), bytes: tables.reduce((n, t) => n + t.bytes, 0),
        snapshotAt, phases: { schemaMs: t1 - t0, dataMs: t2 - t1, postDataMs: t3 - t2 }, durationMs: Date.now() - started,
        unruledPersonal: unruled.map((u) => u.column), attempt,
      };
      cancelled();
      await completeMarker(admin, result);
      return result;
    } finally {
      await dump.dispose();
    }
  } catch (error) {
    if (signal?.aborted) throw new CopyCancelledError('the copy was cancelled; the target keeps its marker and is reset by a retry or dropClonedData');
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await closeAll(clients);
  }
}

/**
 * Ends the sessions of an earlier attempt of this copy that may still write (a worker that lost
 * its heartbeat, a pg_restore orphaned by a killed worker), then holds the copy's lock.
 */
async function takeOver(admin: pg.Client, applicationName: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()',
      [applicationName]);
    const { rows } = await admin.query<{ locked: boolean }>(`select pg_try_advisory_lock(hashtext('flotilla_clone')) as locked`);
    if (rows[0]?.locked) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new DataCopyError('another session holds the target\'s copy lock');
}

function throttled(onProgress: CopyOptions['onProgress'], progress: CopyProgress, everyMs: number): (force?: boolean) => void {
  let last = 0;
  return (force = false) => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - last < everyMs) return;
    last = now;
    onProgress({ ...progress });
  };
}

async function copyRows(
  options: CopyOptions, plans: TablePlan[], snapshot: string, applicationName: string, clients: pg.Client[],
  progress: CopyProgress, report: (force?: boolean) => void, parallel: number,
): Promise<TableCopyResult[]> {
  const masker = options.mode === 'scrubbed' ? new Masker(options.maskingKey!) : undefined;
  // On this thread: worker threads were measured (2 cores) to add ~+130 MB of peak memory and no speed.
  const scrubber = (plan: TablePlan): Transform => {
    const name = tableKey(plan.table);
    return plan.format === 'binary' ? new BinaryScrubStream(plan.columns.length, plan.rules, masker!, name) : new ScrubStream(plan.columns.length, plan.rules, masker!, name);
  };
  const queue = [...plans];
  const results: TableCopyResult[] = [];
  const worker = async () => {
    const reader = await connect(options.source, applicationName);
    clients.push(reader);
    await reader.query('begin isolation level repeatable read read only');
    await reader.query(`set transaction snapshot '${snapshot.replace(/'/g, "''")}'`);
    const writer = await connect(options.target, applicationName);
    clients.push(writer);
    // Safe without a flush per table: the marker says complete only after every row's commit.
    await writer.query('set synchronous_commit = off');
    for (let plan = queue.shift(); plan; plan = queue.shift()) {
      if (options.signal?.aborted) throw new CopyCancelledError('the copy was cancelled');
      results.push(await copyTable(reader, writer, plan, plan.rules.size > 0 ? scrubber(plan) : undefined, progress, report, options.signal));
      progress.tablesDone++;
      report(true);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, plans.length) }, worker));
  return results;
}

async function copyTable(
  reader: pg.Client, writer: pg.Client, plan: TablePlan, scrub: Transform | undefined,
  progress: CopyProgress, report: (force?: boolean) => void, signal: AbortSignal | undefined,
): Promise<TableCopyResult> {
  const { table, rules, columns, format } = plan;
  const name = tableKey(table);
  // Fail closed: a table with rules goes through a scrubber, or not at all.
  if (rules.size > 0 && !scrub) throw new DataCopyError(`table ${name} has rules but no scrubber`);
  const list = columns.map(quoteIdent).join(', ');
  const out = reader.query(copyTo(`copy ${qualified(table)} (${list}) to stdout (format ${format})`));
  const into = writer.query(copyFrom(`copy ${qualified(table)} (${list}) from stdin (format ${format})`));
  let rows = 0;
  let bytes = 0;
  const meter = new CopyMeter(format, (reading) => {
    progress.rows += reading.rows - rows;
    progress.bytes += reading.bytes - bytes;
    rows = reading.rows;
    bytes = reading.bytes;
    progress.table = name;
    report();
  });
  const stages: (NodeJS.ReadableStream | Transform | NodeJS.WritableStream)[] = [out];
  if (scrub) stages.push(scrub);
  stages.push(meter, into);
  await (pipeline as (...args: unknown[]) => Promise<void>)(...stages, ...(signal ? [{ signal }] : []));
  const sent = out.rowCount;
  const loaded = into.rowCount;
  if (sent !== meter.rows || loaded !== meter.rows) {
    throw new DataCopyError(`table ${name}: the source sent ${sent} rows, the stream carried ${meter.rows}, the target loaded ${loaded}`);
  }
  return {
    name, rows: meter.rows, bytes: meter.bytes, checksum: meter.digest(), format,
    masked: [...rules.keys()].map((i) => columns[i]!),
  };
}

/** Sequence positions as the source has them (sequences are not transactional: read at the end of the copy, never behind it). */
async function copySequences(reader: pg.Client, writer: pg.Client, source: SourceDescription): Promise<void> {
  for (const seq of source.sequences) {
    const { rows } = await reader.query<{ last_value: string; is_called: boolean }>(`select last_value::text, is_called from ${qualified(seq)}`);
    const row = rows[0];
    if (!row) continue;
    await writer.query('select setval($1::regclass, $2::bigint, $3)', [qualified(seq), row.last_value, row.is_called]);
  }
}

/** dropClonedData: the target back to an empty database, if (and only if) this copy made it. */
export async function dropCopiedData(copyId: string, target: DatabaseRef): Promise<'dropped' | 'already-empty'> {
  const applicationName = copyApplicationName(copyId);
  const admin = await connect(target, applicationName);
  try {
    await takeOver(admin, applicationName);
    return await dropCopy(admin, copyId, target.describe);
  } finally {
    await closeAll([admin]);
  }
}
