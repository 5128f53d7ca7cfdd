// The contract of the data copy activities (types only). Inputs name environments and
// databases, never a connection string or key; results carry names, counts, checksums and
// timings, never a value of the data.
import type { DataMode } from '../domain/data-policy.js';
import type { CopyPhase, CopyResult, TableCopyResult } from '../providers/postgres/engine.js';

export type { CopyPhase, CopyResult, TableCopyResult };

/** A database by where it is declared: an environment (catalog name) and a database of its spec. */
export interface DatabaseLocation {
  environment: string;
  database: string;
}

export interface CheckDataPolicyInput {
  source: DatabaseLocation;
  mode: DataMode;
  /** Refuse personal-looking columns that no rule names (the rules' `dataPolicy: strict`). */
  strict: boolean;
  /** The source revision whose dataPolicy applies; default the deployed one (else the current one). */
  revision?: string;
}

export interface DataPolicyCheckResult {
  /** Tables the source holds (what a copy would carry). */
  tables: number;
  /** Personal-looking columns without a rule, "schema.table.column" (scrubbed only; empty otherwise). */
  unruledPersonal: string[];
}

export interface CopyDatabaseInput {
  /** Stable across retries of one copy (e.g. `${cloneId}/${database}`): the target's marker names it. */
  copyId: string;
  source: DatabaseLocation;
  target: DatabaseLocation;
  mode: DataMode;
  strict: boolean;
  revision?: string;
}

/** What copyDatabase heartbeats. */
export interface CopyHeartbeat {
  phase: CopyPhase;
  table?: string;
  rows: number;
  bytes: number;
  tablesDone: number;
  tables: number;
}

export interface DropClonedDataInput {
  copyId: string;
  target: DatabaseLocation;
}

export interface DropClonedDataResult {
  /** dropped: the target is empty again; already-empty: nothing of this copy was there. */
  outcome: 'dropped' | 'already-empty';
}

/**
 * Non-retryable failure types: DataPolicyRefused (details: [{ path, message }[]]),
 * TargetNotEmpty, TargetOwnedByOtherCopy, SameDatabase, UnsupportedSource, UnsupportedDatabase,
 * ScrubFailed, PgToolMissing, NotFound, NoRevision. Anything else is retried.
 */
export interface DataCopyActivities {
  checkDataPolicy(input: CheckDataPolicyInput): Promise<DataPolicyCheckResult>;
  copyDatabase(input: CopyDatabaseInput): Promise<CopyResult>;
  dropClonedData(input: DropClonedDataInput): Promise<DropClonedDataResult>;
}
