// The contract between the promote workflow and its activities (types only).
import type { RulesVerdict } from '../domain/rules.js';

export interface PlannedTarget {
  environment: string;
  cluster: string;
  namespace: string;
  tier: string;
  /** What it runs now: where a rollback returns to (undefined: nothing deployed yet). */
  previousRevision?: string;
  /** The overrides version it runs now: a rollback restores exactly that. */
  previousOverridesVersion?: number;
  /** The revision it should run before the promotion: a rollback puts that back too. */
  previousDesired?: string;
  /** Its overrides version when planned: the promotion deploys with it (pinned). */
  overridesVersion?: number;
  /** How many rollout waits its deploy has (databases, migrations, workloads): sizes the per-target timeout. */
  waits?: number;
}

export interface PromotionPlan {
  revision: string;
  /** Per stage, in input order. `count`: how many distinct approvers the rules ask for. */
  stages: { targets: PlannedTarget[]; approval: { required: boolean; fourEyes: boolean; count?: number } }[];
  verdict: RulesVerdict;
}

export interface PromotionActivities {
  /** Resolves the revision, reads every target, checks the rules once for the whole change. */
  planPromotion(input: { source: string; revision?: string; stages: string[][]; at: string }): Promise<PromotionPlan>;
  /** Are the environment's workloads at this revision all ready right now? */
  checkHealth(input: { environment: string; revision: string }): Promise<{ healthy: boolean; message?: string }>;
}
