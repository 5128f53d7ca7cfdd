// The contract between the clone workflows and their activities (types only). Activities take
// the clone's id and names, never a spec, a secret or a connection string: they read the
// catalog again, so histories stay small and secret-free.
import type { ClonePurpose, CloneState, DataPlanEntry, DatabaseCopySummary } from '../domain/clone.js';
import type { RulesVerdict } from '../domain/rules.js';

export interface ClonePlan {
  cloneId: string;
  /** The clone's environment. */
  clone: string;
  source: string;
  revision: string;
  cluster: string;
  namespace: string;
  purpose: ClonePurpose;
  state: CloneState;
  data: DataPlanEntry[];
  ttlSeconds?: number;
  /** When its TTL clock tears it down; absent without a TTL or once the TTL is cancelled. */
  expiresAt?: string;
  /** The organisation's rules say unruled personal columns refuse a scrubbed copy (`dataPolicy: strict`). */
  strictDataPolicy: boolean;
  /** The rules on the clone as it would run now. */
  verdict: RulesVerdict;
}

export interface CloneActivities {
  /** Reads the clone's record and its environment, and judges the rules on it at `at`. */
  planClone(input: { cloneId: string; at: string }): Promise<ClonePlan>;
  /** Moves the clone's record along its life. */
  markClone(input: { cloneId: string; state: CloneState; message?: string; dataResult?: DatabaseCopySummary[]; expiresAt?: string | null }): Promise<void>;
  /**
   * Removes the clone's environment from the catalog (with its secrets and status) and marks its
   * record torn-down with the reason, in one transaction. Idempotent: an environment already gone is fine.
   */
  forgetCloneEnvironment(input: { cloneId: string; reason: string }): Promise<void>;
}
