// Watches a namespace's Deployments and notes the moment every one of them runs the expected
// image tag and is rolled out (as `kubectl rollout status` judges it): when the cluster had
// really finished, whatever a client polling it noticed later.
import type { V1Deployment } from '@kubernetes/client-node';
import { KubeClient } from '../../providers/kubernetes/client.js';
import { kubeConfigFromYaml } from '../../providers/kubernetes/kubeconfig.js';
import { deploymentRollout } from '../../providers/kubernetes/rollout.js';
import { watchObjects } from '../../providers/kubernetes/watch.js';

export interface Convergence {
  /** Epoch ms at which every one of the `expected` Deployments had the tag in its spec (applied). */
  appliedAt?: number;
  /** Epoch ms at which all of them were rolled out at the tag. */
  convergedAt?: number;
}

export interface ConvergenceWatch {
  stop(): Promise<Convergence>;
}

export function watchConvergence(kubeconfig: string, namespace: string, tag: string, expected: number): ConvergenceWatch {
  const client = new KubeClient(kubeConfigFromYaml(kubeconfig));
  const controller = new AbortController();
  const done = new Map<string, boolean>();
  const applied = new Set<string>();
  let appliedAt: number | undefined;
  let convergedAt: number | undefined;
  const loop = (async () => {
    for await (const event of watchObjects(client, { apiVersion: 'apps/v1', kind: 'Deployment', namespace, signal: controller.signal })) {
      const d = event.object as V1Deployment;
      const image = d.spec?.template?.spec?.containers?.[0]?.image ?? '';
      if (image.endsWith(`:${tag}`)) applied.add(event.object.metadata.name);
      if (applied.size >= expected) appliedAt ??= Date.now();
      done.set(event.object.metadata.name, event.type !== 'DELETED' && image.endsWith(`:${tag}`) && deploymentRollout(d).done);
      const all = done.size >= expected && [...done.values()].every(Boolean);
      if (all) convergedAt ??= Date.now();
      else convergedAt = undefined;
    }
  })().catch(() => {});
  return {
    async stop() {
      controller.abort();
      await loop;
      client.close();
      return { appliedAt, convergedAt };
    },
  };
}
