import { AppsV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';

export interface DeploymentRollout {
  namespace: string;
  name: string;
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  done: boolean;
}

/** The rollout state of one Deployment, read the way `kubectl rollout status` reads it. */
export function deploymentRollout(deployment: V1Deployment): DeploymentRollout {
  const spec = deployment.spec;
  const status = deployment.status ?? {};
  const replicas = spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const done =
    observed &&
    updated >= replicas &&
    (status.replicas ?? 0) <= updated && // no old replicas left
    available >= replicas;
  return {
    namespace: deployment.metadata?.namespace ?? '',
    name: deployment.metadata?.name ?? '',
    replicas,
    updated,
    ready: status.readyReplicas ?? 0,
    available,
    done,
  };
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Called after every poll; activities heartbeat here. */
  onProgress?: (rollouts: DeploymentRollout[]) => void;
  signal?: AbortSignal;
}

export class RolloutTimeoutError extends Error {
  constructor(readonly pending: DeploymentRollout[], timeoutMs: number) {
    super(
      `rollout not complete after ${Math.round(timeoutMs / 1000)}s: ` +
        pending.map((r) => `${r.namespace}/${r.name} ${r.available}/${r.replicas} available`).join(', '),
    );
    this.name = 'RolloutTimeoutError';
  }
}

/** Polls until every named Deployment has rolled out, or the timeout passes. */
export async function waitForDeployments(
  kc: KubeConfig,
  deployments: readonly { namespace: string; name: string }[],
  options: WaitOptions,
): Promise<DeploymentRollout[]> {
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const rollouts = await Promise.all(
      deployments.map(async (d) => deploymentRollout(await apps.readNamespacedDeployment({ namespace: d.namespace, name: d.name }))),
    );
    options.onProgress?.(rollouts);
    if (rollouts.every((r) => r.done)) return rollouts;
    if (Date.now() > deadline) throw new RolloutTimeoutError(rollouts.filter((r) => !r.done), options.timeoutMs);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}
