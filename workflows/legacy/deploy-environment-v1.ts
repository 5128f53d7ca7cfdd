// FROZEN: deployEnvironment as it ran before the 'change-control' patch. New runs never come here; runs (and
// recorded histories) from before the patch replay through it. Do not change its commands;
// delete it once no run from before the patch is open (then deprecatePatch).
// deployEnvironment: check rules → render → apply → prune → wait for rollout → record.
// Re-running it for the revision already deployed changes nothing.
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { DeployActivities, DeployPlan, WorkloadState } from '../../activities/deploy-types.js';

interface DeployInput {
  environment: string;
  /** Defaults to the environment's current revision. */
  revision?: string;
  requestedBy: string;
  rolloutTimeoutSeconds?: number;
  /** Set by promotions and rollbacks; a plain deploy records 'deploy'. */
  kind?: 'deploy' | 'promotion' | 'rollback';
  /** Rules were already checked for the whole change (promotions check once, up front). */
  skipRules?: boolean;
}

interface DeployResult {
  environment: string;
  cluster: string;
  revision: string;
  previousRevision?: string;
  applied: { created: number; configured: number; unchanged: number };
  pruned: string[];
  workloads: WorkloadState[];
  changed: boolean;
}

// Catalog reads and writes are quick; a lost worker is noticed when the short timeout passes.
const { planDeploy, recordDeployment } = proxyActivities<DeployActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});
// Cluster writes heartbeat per object: a lost worker is noticed within the heartbeat timeout,
// not after the whole start-to-close time.
const { applyRevision, pruneRevision } = proxyActivities<DeployActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

export async function deployEnvironmentV1(input: DeployInput): Promise<DeployResult> {
  const timeoutSeconds = input.rolloutTimeoutSeconds ?? 600;
  const { waitForRevision } = proxyActivities<DeployActivities>({
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    heartbeatTimeout: '15 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
  });

  const plan: DeployPlan = await planDeploy({ environment: input.environment, revision: input.revision, at: new Date().toISOString() });
  if (!input.skipRules && !plan.verdict.allowed) {
    throw ApplicationFailure.nonRetryable(
      `refused by organisation rules: ${plan.verdict.violations.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ')}`,
      'RuleViolation',
      plan.verdict.violations,
    );
  }
  const target = { environment: plan.environment, revision: plan.revision };

  if (plan.hasMigrations) {
    await applyRevision({ ...target, phase: 'migrations' });
    await waitForRevision({ ...target, phase: 'migrations', timeoutSeconds });
  }
  const applied = await applyRevision({ ...target, phase: 'all' });
  const { deleted } = await pruneRevision(target);
  const workloads = await waitForRevision({ ...target, phase: 'all', timeoutSeconds });
  const { changed } = await recordDeployment({
    ...target,
    requestedBy: input.requestedBy,
    operationId: workflowInfo().workflowId,
    kind: input.kind ?? 'deploy',
  });
  return {
    environment: plan.environment,
    cluster: plan.cluster,
    revision: plan.revision,
    previousRevision: plan.previousRevision,
    applied,
    pruned: deleted,
    workloads,
    changed,
  };
}
