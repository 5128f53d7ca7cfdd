// The contract between complianceClone (a schedule's run) and its activities (types only). The
// clone request travels in the run's input (it holds no secret); the secrets a schedule gives
// its clones are read from the catalog by the activity.
import type { CloneRequest, CloneState } from '../domain/clone.js';

export interface ScheduleActivities {
  /** Clones an earlier run of the schedule made (by `requestedBy`) that are not torn down yet, under the clone's name. */
  previousClones(input: { name: string; requestedBy: string }): Promise<{ cloneId: string; state: CloneState }[]>;
  /**
   * Plans, checks (rules judged at `at`) and writes this run's clone, as the API does for a
   * clone request: its environment, its secrets (the source's, and the schedule's own) and its
   * record. A clone already written under `cloneId` (a retry) is left as it is. Refused:
   * non-retryable `RuleViolation` (the rules) or `InvalidCloneRequest` (anything else).
   */
  writeScheduledClone(input: { schedule: string; cloneId: string; clone: CloneRequest; requestedBy: string; at: string }): Promise<{ written: boolean }>;
}
