// Data copy activities: check a data policy, copy one PostgreSQL database into another (modes
// none, schema, snapshot, scrubbed), and drop a copy again. They read the source's spec (its
// dataPolicy) from the catalog, reach databases through the DatabaseConnector and the masking
// key through the catalog's global secrets: no URL, password or key travels in an input,
// result, heartbeat, error or log.
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { DataPolicy } from '../domain/data-policy.js';
import type { DatabaseConnector, DatabaseEndpoint } from '../providers/databases/connector.js';
import { checkPolicy, copyDatabase, dropCopiedData, type CopyProgress } from '../providers/postgres/engine.js';
import {
  CopyCancelledError, DataPolicyRefusedError, PgToolError, SameDatabaseError, ScrubError, TargetNotEmptyError,
  TargetOwnedByOtherCopyError, UnsupportedSourceError,
} from '../providers/postgres/errors.js';
import type { Catalog } from '../store/catalog.js';
import { NotFoundError } from '../store/errors.js';
import { GLOBAL_SCOPE } from '../store/secrets.js';
import type { CopyHeartbeat, DataCopyActivities, DatabaseLocation } from './data-copy-types.js';

export const MASKING_KEY_SECRET = 'FLOTILLA_MASKING_KEY';

export interface DataCopyActivityDeps {
  catalog: Catalog;
  databases: DatabaseConnector;
  /** Folder with pg_dump and pg_restore; default FLOTILLA_PG_BIN or the newest /usr/lib/postgresql/*\/bin. */
  pgBin?: string;
  /** The HMAC key of the masking transformers; default the catalog's global FLOTILLA_MASKING_KEY (made once). */
  maskingKey?: () => Promise<Buffer>;
  /** Concurrent table copies and index builds (default 2). */
  parallel?: number;
  /** Least time between two progress heartbeats of one phase (default 2 s; Temporal throttles further). */
  heartbeatMs?: number;
}

export function createDataCopyActivities(deps: DataCopyActivityDeps): DataCopyActivities {
  const { catalog, databases } = deps;

  async function required<T>(what: Promise<T>): Promise<T> {
    try {
      return await what;
    } catch (error) {
      if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFound');
      throw error;
    }
  }

  /** The database's declaration in the environment's deployed (else current) revision, or `revision`. */
  async function declared(at: DatabaseLocation, revision?: string): Promise<{ policy?: DataPolicy }> {
    const record = await required(catalog.environments.require(at.environment));
    const id = revision ?? record.deployed?.revision ?? record.currentRevision;
    if (!id) throw ApplicationFailure.nonRetryable(`environment "${at.environment}" has no revision`, 'NoRevision');
    const { spec } = await required(catalog.revisions.require(id));
    const db = spec.databases.find((d) => d.name === at.database);
    if (!db) throw ApplicationFailure.nonRetryable(`environment "${at.environment}" declares no database "${at.database}"`, 'NotFound');
    if (db.engine !== 'postgres') {
      throw ApplicationFailure.nonRetryable(`database "${at.database}" of "${at.environment}" is ${db.engine}: data copies are PostgreSQL only`, 'UnsupportedDatabase');
    }
    return db.dataPolicy ? { policy: db.dataPolicy } : {};
  }

  async function maskingKey(): Promise<Buffer> {
    if (deps.maskingKey) return deps.maskingKey();
    let value = await catalog.secrets.get(GLOBAL_SCOPE, MASKING_KEY_SECRET);
    if (value === undefined) {
      await catalog.secrets.put(GLOBAL_SCOPE, MASKING_KEY_SECRET, randomBytes(32).toString('base64'));
      // Read back: if two workers raced, both use whichever was stored last.
      value = await catalog.secrets.require(GLOBAL_SCOPE, MASKING_KEY_SECRET);
    }
    const key = Buffer.from(value, 'base64');
    if (key.length < 16) throw ApplicationFailure.nonRetryable(`global secret ${MASKING_KEY_SECRET} must hold at least 16 bytes, base64`, 'MaskingKeyInvalid');
    return key;
  }

  async function open(at: DatabaseLocation): Promise<DatabaseEndpoint> {
    return databases.open(at.environment, at.database);
  }

  return {
    async checkDataPolicy({ source, mode, strict, revision }) {
      const { policy } = await declared(source, revision);
      if (mode === 'none') return { tables: 0, unruledPersonal: [] };
      const endpoint = await open(source);
      try {
        const check = await checkPolicy({ source: endpoint, mode, strict, ...(policy ? { policy } : {}) });
        return { tables: check.tables, unruledPersonal: check.unruledPersonal.map((c) => c.column) };
      } catch (error) {
        return toFailure(error);
      } finally {
        await endpoint.close().catch(() => undefined);
      }
    },

    async copyDatabase({ copyId, source, target, mode, strict, revision }) {
      const context = Context.current();
      const { policy } = await declared(source, revision);
      if (mode === 'none') return copyDatabase({ copyId, mode, source: { url: '', describe: '' }, target: { url: '', describe: '' } });
      const key = mode === 'scrubbed' ? await maskingKey() : undefined;
      const endpoints: DatabaseEndpoint[] = [];
      const every = deps.heartbeatMs ?? 2_000;
      let last = 0;
      let lastPhase: string | undefined;
      const heartbeat = (p: CopyProgress) => {
        const now = Date.now();
        if (now - last < every && p.phase === lastPhase) return;
        last = now;
        lastPhase = p.phase;
        const details: CopyHeartbeat = { phase: p.phase, rows: p.rows, bytes: p.bytes, tablesDone: p.tablesDone, tables: p.tables, ...(p.table ? { table: p.table } : {}) };
        context.heartbeat(details);
      };
      // Beat on a clock too: pg_restore's index builds report nothing while they run.
      const ticker = setInterval(() => context.heartbeat(), Math.max(every, 1_000) * 5);
      try {
        const from = await open(source);
        endpoints.push(from);
        const to = await open(target);
        endpoints.push(to);
        context.log.info('copying database', { copyId, mode, source: from.describe, target: to.describe });
        const result = await copyDatabase({
          copyId, mode, strict, source: from, target: to, onProgress: heartbeat, progressEveryMs: Math.min(200, every), signal: context.cancellationSignal,
          ...(policy ? { policy } : {}), ...(key ? { maskingKey: key } : {}), ...(deps.pgBin ? { pgBin: deps.pgBin } : {}),
          ...(deps.parallel ? { parallel: deps.parallel } : {}),
        });
        context.log.info('database copied', { copyId, mode, tables: result.tables.length, rows: result.rows, bytes: result.bytes, attempt: result.attempt });
        return result;
      } catch (error) {
        return toFailure(error);
      } finally {
        clearInterval(ticker);
        key?.fill(0);
        await Promise.all(endpoints.map((e) => e.close().catch(() => undefined)));
      }
    },

    async dropClonedData({ copyId, target }) {
      const endpoint = await open(target);
      try {
        return { outcome: await dropCopiedData(copyId, endpoint) };
      } catch (error) {
        return toFailure(error);
      } finally {
        await endpoint.close().catch(() => undefined);
      }
    },
  };
}

/** The engine's errors as Temporal failures; anything unknown is retried, its message stripped of quoted values. */
function toFailure(error: unknown): never {
  if (error instanceof ApplicationFailure || error instanceof CancelledFailure) throw error;
  if (error instanceof CopyCancelledError) throw new CancelledFailure(error.message);
  if (error instanceof DataPolicyRefusedError) {
    throw ApplicationFailure.nonRetryable(error.message, 'DataPolicyRefused', error.problems, error.unruledPersonal.map((c) => c.column));
  }
  const nonRetryable: [new (...args: never[]) => Error, string][] = [
    [TargetNotEmptyError, 'TargetNotEmpty'], [TargetOwnedByOtherCopyError, 'TargetOwnedByOtherCopy'], [SameDatabaseError, 'SameDatabase'],
    [UnsupportedSourceError, 'UnsupportedSource'], [ScrubError, 'ScrubFailed'],
  ];
  for (const [type, name] of nonRetryable) if (error instanceof type) throw ApplicationFailure.nonRetryable(error.message, name);
  if (error instanceof PgToolError) {
    throw ApplicationFailure.create({ message: error.message, type: /no pg_dump|cannot run/.test(error.message) ? 'PgToolMissing' : 'PgToolFailed', nonRetryable: /no pg_dump|cannot run/.test(error.message) });
  }
  const code = error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // PostgreSQL quotes input values at the end of some messages ("invalid input syntax for type integer: "…"").
  throw ApplicationFailure.retryable(`${code ? `PostgreSQL ${code}: ` : ''}${message.replace(/: "[^"]*"$/, ': "[value]"')}`, 'DataCopyFailed');
}
