// offboardCluster: plan → refuse while environments are bound (unless drain: tear each down
// first, as child teardownEnvironment workflows) → remove the baseline Flotilla installed
// (namespace, service accounts, RBAC) with the registered credential → mark the cluster
// offboarded and drop the credential Flotilla kept. An environment that could not be torn down
// (rejected, cancelled, failed) stops it before the baseline goes: nothing is half-offboarded.
import { CancellationScope, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { OffboardingActivities } from '../activities/offboarding-types.js';
import type { OnboardingActivities } from '../activities/onboarding-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import { messageOf } from './failures.js';
import { teardownEnvironment, type TeardownEnvironmentResult } from './teardown-environment.js';

export interface OffboardClusterInput {
  cluster: string;
  requestedBy: string;
  /** Tear down the environments bound to it first (else it is refused while there are any). */
  drain?: boolean;
  /** With drain: delete the environments' data (PersistentVolumeClaims) too. */
  deleteData?: boolean;
}

export interface OffboardClusterResult {
  cluster: string;
  outcome: 'completed' | 'rejected';
  /** Environments a drain tore down. */
  tornDown: string[];
  baseline?: { removed: number; kept: string[] };
  alreadyOffboarded?: boolean;
  message?: string;
}

/** Teardowns a drain runs at once. */
const DRAIN_PARALLELISM = 4;

const catalogOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;
const { planOffboarding, finishOffboarding } = proxyActivities<OffboardingActivities>(catalogOptions);
const { reportOperation } = proxyActivities<OperationActivities>(catalogOptions);
const { removeBaseline } = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export async function offboardCluster(input: OffboardClusterInput): Promise<OffboardClusterResult> {
  const id = workflowInfo().workflowId;
  const { cluster } = input;
  const report = (state: 'running' | 'completed' | 'failed', outcome?: 'completed' | 'rejected' | 'failed', message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'offboarding', state, clusters: [cluster], requestedBy: input.requestedBy, ...(outcome ? { outcome } : {}), ...(message !== undefined ? { message } : {}),
    }));
  const end = async (result: OffboardClusterResult) => {
    await report('completed', result.outcome, result.message);
    return result;
  };

  const plan = await planOffboarding({ cluster });
  if (!plan.exists || plan.offboarded) {
    return end({ cluster, outcome: 'completed', tornDown: [], alreadyOffboarded: true, message: `cluster "${cluster}" is ${plan.exists ? 'already offboarded' : 'not registered'}` });
  }
  await report('running');
  try {
    if (plan.environments.length > 0 && !input.drain) {
      return await end({
        cluster, outcome: 'rejected', tornDown: [],
        message: `${plan.environments.length} environment(s) still bound to cluster "${cluster}" (${plan.environments.join(', ')}); tear them down first, or offboard with drain`,
      });
    }
    const tornDown: string[] = [];
    const failed: string[] = [];
    for (let i = 0; i < plan.environments.length; i += DRAIN_PARALLELISM) {
      const batch = plan.environments.slice(i, i + DRAIN_PARALLELISM);
      const results = await Promise.all(batch.map((environment) => executeChild(teardownEnvironment, {
        workflowId: `${id}-teardown-${environment}`,
        args: [{ environment, requestedBy: input.requestedBy, ...(input.deleteData ? { deleteData: true } : {}) }],
      }).then((r: TeardownEnvironmentResult) => r, (error: unknown) => ({ environment, outcome: 'failed', message: messageOf(error) }))));
      for (const r of results) {
        if (r.outcome === 'completed') tornDown.push(r.environment);
        else failed.push(`${r.environment}: ${r.outcome}${r.message ? ` (${r.message})` : ''}`);
      }
    }
    if (failed.length > 0) {
      return await end({ cluster, outcome: 'rejected', tornDown, message: `not offboarded: ${failed.length} environment(s) not torn down: ${failed.join('; ')}` });
    }
    const baseline = await removeBaseline({ cluster });
    const kept = baseline.kept ?? [];
    await finishOffboarding({ cluster, operationId: id, requestedBy: input.requestedBy, removed: baseline.removed, kept });
    return await end({
      cluster, outcome: 'completed', tornDown, baseline: { removed: baseline.removed, kept },
      ...(kept.length > 0 ? { message: `left what Flotilla found there before it: ${kept.join(', ')}` } : {}),
    });
  } catch (error) {
    await report('failed', 'failed', messageOf(error));
    throw error;
  }
}
