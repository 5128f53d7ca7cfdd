import { createKubernetesActivities, type KubernetesActivityDeps } from './kubernetes.js';

export type ActivityDeps = KubernetesActivityDeps;

/** Every activity the worker registers, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createKubernetesActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
