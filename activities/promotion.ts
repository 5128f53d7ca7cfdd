// Promotion activities: planning (revision, targets, rules for the whole change) and the
// health checks of a soak. Deploying and rolling back reuse deployEnvironment.
import { ApplicationFailure } from '@temporalio/common';
import { render } from '../domain/render.js';
import { evaluateRules, type ChangeTarget } from '../domain/rules.js';
import { waitForRollouts, RolloutTimeoutError, type WorkloadKind } from '../providers/kubernetes/rollout.js';
import type { Catalog } from '../store/catalog.js';
import { NotFoundError } from '../store/errors.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { PromotionActivities } from './promotion-types.js';

export interface PromotionActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
}

export function createPromotionActivities(deps: PromotionActivityDeps): PromotionActivities {
  const { catalog } = deps;
  const { withClient } = clusterClients(deps);

  async function required<T>(what: Promise<T>): Promise<T> {
    try {
      return await what;
    } catch (error) {
      if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFound');
      throw error;
    }
  }

  return {
    async planPromotion({ source, revision, stages, at }) {
      const from = await required(catalog.environments.require(source));
      const id = revision ?? from.deployed?.revision ?? from.currentRevision;
      if (!id) throw ApplicationFailure.nonRetryable(`environment "${source}" has no revision to promote`, 'NoRevision');
      const { spec } = await required(catalog.revisions.require(id));
      const { rules } = await catalog.rules.current();
      const planned = [];
      const changeTargets: ChangeTarget[] = [];
      for (const names of stages) {
        const targets = [];
        for (const name of names) {
          const env = await required(catalog.environments.require(name));
          const cluster = await catalog.clusters.get(env.binding.cluster);
          if (!cluster) throw ApplicationFailure.nonRetryable(`cluster "${env.binding.cluster}" of "${name}" is not registered`, 'UnknownCluster');
          changeTargets.push({ binding: env.binding, spec, overrides: env.overrides, cluster: { name: cluster.name, labels: cluster.labels } });
          targets.push({
            environment: name,
            cluster: env.binding.cluster,
            namespace: env.binding.namespace,
            tier: env.binding.tier,
            previousRevision: env.deployed?.revision,
          });
        }
        const verdict = evaluateRules(rules, { kind: 'promote', at, targets: changeTargets.slice(-targets.length) });
        planned.push({ targets, approval: { required: verdict.approval.required > 0, fourEyes: verdict.approval.fourEyes } });
      }
      const verdict = evaluateRules(rules, { kind: 'promote', at, targets: changeTargets });
      return { revision: id, stages: planned, verdict };
    },

    async checkHealth({ environment, revision }) {
      const env = await required(catalog.environments.require(environment));
      const { spec } = await required(catalog.revisions.require(revision));
      const manifests = render({ binding: env.binding, spec, overrides: env.overrides, revision });
      const workloads = manifests
        .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
        .map((m) => ({ kind: m.kind as WorkloadKind, namespace: m.metadata.namespace!, name: m.metadata.name }));
      return withClient(env.binding.cluster, async (client) => {
        try {
          await waitForRollouts(client, workloads, { timeoutMs: 0, pollMs: 0 });
          return { healthy: true };
        } catch (error) {
          if (error instanceof RolloutTimeoutError) return { healthy: false, message: error.message };
          throw error;
        }
      });
    },
  };
}
