// The contract between the promote workflow and its activities (types only).
import type { RulesVerdict } from '../domain/rules.js';

export interface PlannedTarget {
  environment: string;
  cluster: string;
  namespace: string;
  tier: string;
  /** What it runs now: where a rollback returns to (undefined: nothing deployed yet). */
  previousRevision?: string;
}

export interface PromotionPlan {
  revision: string;
  /** Per stage, in input order. */
  stages: { targets: PlannedTarget[]; approval: { required: boolean; fourEyes: boolean } }[];
  verdict: RulesVerdict;
}

export interface PromotionActivities {
  /** Resolves the revision, reads every target, checks the rules once for the whole change. */
  planPromotion(input: { source: string; revision?: string; stages: string[][]; at: string }): Promise<PromotionPlan>;
  /** Are the environment's workloads at this revision all ready right now? */
  checkHealth(input: { environment: string; revision: string }): Promise<{ healthy: boolean; message?: string }>;
}
