// The input of the promote workflow, shared by the workflow, the API and the CLI.
import type { PromotionPlan } from '../activities/promotion-types.js';
import type { PromotionState } from './messages.js';
export interface PromotionStageInput {
  name: string;
  /** Target environments; each keeps its own overrides. */
  targets: string[];
  /** At most this many clusters change at once within the stage (default: all). */
  maxParallel?: number;
  /** Wait for an approval before this stage (rules may require one regardless). */
  approval?: boolean;
  /** After the stage: keep checking the targets' health this long before going on. */
  soakSeconds?: number;
}

export interface PromoteInput {
  /** The environment whose deployed revision is promoted. */
  source: string;
  /** Defaults to the source's deployed revision (else its current one). */
  revision?: string;
  stages: PromotionStageInput[];
  failurePolicy?: 'rollback' | 'pause' | 'continue';
  requestedBy: string;
  /** An approval that does not arrive in this time cancels the promotion (default 24 h). */
  approvalTimeoutSeconds?: number;
  /** Per target: how long each rollout wait may take (default 600 s). */
  rolloutTimeoutSeconds?: number;
  /**
   * Per target: give up on a deploy (e.g. an unreachable cluster) after this long. Default:
   * enough for every rollout wait the deploy has (databases, migrations, workloads) plus a
   * margin, so it cannot fire before the rollout timeout it contains.
   */
  targetTimeoutSeconds?: number;
  /** Continue as new at a stage boundary once this run's history is longer (default 5,000 events). */
  maxHistoryEvents?: number;
  /** Set by the workflow itself when it continues as new; callers leave it out. */
  carried?: PromotionCarry;
}

/** What a promotion hands to its next run when it continues as new between stages. */
export interface PromotionCarry {
  state: PromotionState;
  plan: PromotionPlan;
  /** Environments in the order they were changed (rollback walks it backwards). */
  touched: string[];
  nextStage: number;
}
