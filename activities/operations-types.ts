// The contract between workflows and the change-control activities (types only): the lock
// that keeps one change at a time per environment, and the operations index.
import type { OperationReport } from '../store/operations.js';

export interface OperationActivities {
  /** Takes every environment for the holder (re-entrant) or fails as EnvironmentBusy naming the holder. */
  acquireEnvironments(input: { holder: string; environments: string[] }): Promise<void>;
  /** Releases every environment the holder has (or only those named); idempotent. */
  releaseEnvironments(input: { holder: string; environments?: string[] }): Promise<void>;
  /** Keeps the operations index in step: state at each phase change, outcome at the end. */
  reportOperation(input: OperationReport): Promise<void>;
}
