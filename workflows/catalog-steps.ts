// The catalog steps of the deploy and promote workflows, as local activities (LOCAL_CATALOG_PATCH)
// or, for runs started before that patch, as the activities they were. Catalog reads and writes
// are quick; a lost worker is noticed when the short timeout passes.
import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../activities/deploy-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import type { PromotionActivities } from '../activities/promotion-types.js';
import { RELEASE_AS_TASK_PATCH } from './patches.js';

const catalogOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;

export type CatalogSteps = Pick<DeployActivities, 'planDeploy' | 'recordDeployment'>
  & Pick<OperationActivities, 'acquireEnvironments' | 'releaseEnvironments' | 'reportOperation'>
  & Pick<PromotionActivities, 'planPromotion'>;

/**
 * The steps, local or not; `options` as each workflow had them (the promotion's retry less). The
 * release is an activity task since RELEASE_AS_TASK_PATCH, whichever the others are: it fixes how
 * the operation ends before anything is freed (patches.ts says why).
 */
export function catalogSteps(local: boolean, options: { maximumInterval?: string; maximumAttempts?: number } = {}): CatalogSteps {
  const o = { ...catalogOptions, retry: { ...catalogOptions.retry, ...options } };
  const deploy = local ? proxyLocalActivities<DeployActivities>(o) : proxyActivities<DeployActivities>(o);
  const operations = local ? proxyLocalActivities<OperationActivities>(o) : proxyActivities<OperationActivities>(o);
  const operationTasks = proxyActivities<OperationActivities>(o);
  const promotion = local ? proxyLocalActivities<PromotionActivities>(o) : proxyActivities<PromotionActivities>(o);
  return {
    planDeploy: deploy.planDeploy,
    recordDeployment: deploy.recordDeployment,
    acquireEnvironments: operations.acquireEnvironments,
    releaseEnvironments: (release) => (patched(RELEASE_AS_TASK_PATCH) ? operationTasks : operations).releaseEnvironments(release),
    reportOperation: operations.reportOperation,
    planPromotion: promotion.planPromotion,
  };
}
