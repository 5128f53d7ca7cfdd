// Typed failures of the data copy engine. Messages name environments, databases, tables and
// columns, never a URL, password, key or data value.
import type { PersonalColumn, PolicyProblem } from '../../domain/data-policy.js';
import { describeProblems } from '../../domain/data-policy.js';

export class DataCopyError extends Error {
  override readonly name: string = 'DataCopyError';
}

/** The data policy refuses the copy; nothing was written to the target. */
export class DataPolicyRefusedError extends DataCopyError {
  override readonly name = 'DataPolicyRefusedError';
  constructor(readonly problems: PolicyProblem[], readonly unruledPersonal: PersonalColumn[]) {
    super(`data policy refused the copy: ${describeProblems(problems)}`);
  }
}

/** The target holds objects Flotilla did not put there: Flotilla never wipes such a database. */
export class TargetNotEmptyError extends DataCopyError {
  override readonly name = 'TargetNotEmptyError';
}

/** The target carries the marker of another copy. */
export class TargetOwnedByOtherCopyError extends DataCopyError {
  override readonly name = 'TargetOwnedByOtherCopyError';
}

/** Source and target are one database: copying would destroy it. */
export class SameDatabaseError extends DataCopyError {
  override readonly name = 'SameDatabaseError';
}

/** The source holds something the engine cannot copy faithfully (e.g. large objects). */
export class UnsupportedSourceError extends DataCopyError {
  override readonly name = 'UnsupportedSourceError';
}

/** pg_dump, pg_restore or psql are missing, or one of them failed. */
export class PgToolError extends DataCopyError {
  override readonly name = 'PgToolError';
}

/** A row the scrubber could not transform: the copy stops rather than write it raw. */
export class ScrubError extends DataCopyError {
  override readonly name = 'ScrubError';
}

export class CopyCancelledError extends DataCopyError {
  override readonly name = 'CopyCancelledError';
}
