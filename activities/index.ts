import type { Catalog } from '../store/catalog.js';
import type { KubernetesActivityDeps } from './cluster-client.js';
import { createDeployActivities } from './deploy.js';
import { createKubernetesActivities } from './kubernetes.js';
import { createOnboardingActivities } from './onboarding.js';
import { createOperationActivities } from './operations.js';
import { createPromotionActivities } from './promotion.js';

export interface ActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
}

/** Every activity the worker registers, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createKubernetesActivities(deps),
    ...createOnboardingActivities(deps),
    ...createDeployActivities(deps),
    ...createPromotionActivities(deps),
    ...createOperationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
