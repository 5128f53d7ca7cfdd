// Promotion activities: planning (revision, targets, rules for the whole change) and the
// health checks of a soak. Deploying and rolling back reuse deployEnvironment.
import { ApplicationFailure } from '@temporalio/common';
import type { RulesVerdict } from '../domain/rules.js';
import { RolloutFailedError, waitForRollouts, RolloutTimeoutError, type WorkloadKind } from '../providers/kubernetes/rollout.js';
import type { Catalog } from '../store/catalog.js';
import { changeVerdict, type VerdictTarget } from '../store/change-verdict.js';
import { NotFoundError } from '../store/errors.js';
import { renderEnvironment } from '../store/chart-renders.js';
import { chartsOf, type HelmDeps, helmRenderer } from './charts.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { PromotionActivities } from './promotion-types.js';

export interface PromotionActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
  helm?: HelmDeps;
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
      const manifests = await renderEnvironment(catalog, { binding: from.binding, spec, overrides: from.overrides, revision: id }, helmRenderer(deps.helm, catalog));
      const waits = 1 + (manifests.some((m) => m.kind === 'StatefulSet') ? 1 : 0) + (manifests.some((m) => m.kind === 'Job') ? 1 : 0);
      const { rules } = await catalog.rules.current();
      const judge = async (targets: VerdictTarget[]): Promise<RulesVerdict> => {
        try {
          return await changeVerdict(catalog, { kind: 'promote', at, targets, rules });
        } catch (error) {
          if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`${error.message} (a target's cluster)`, 'UnknownCluster');
          throw error;
        }
      };
      const planned = [];
      const everyTarget: VerdictTarget[] = [];
      for (const names of stages) {
        const targets = [];
        const stageTargets: VerdictTarget[] = [];
        for (const name of names) {
          const env = await required(catalog.environments.require(name));
          const charts = await chartsOf(catalog, deps.helm, { binding: env.binding, spec, overrides: env.overrides });
          stageTargets.push({ binding: env.binding, spec, overrides: env.overrides, ...(charts ? { charts } : {}) });
          targets.push({
            environment: name,
            cluster: env.binding.cluster,
            namespace: env.binding.namespace,
            tier: env.binding.tier,
            previousRevision: env.deployed?.revision,
            previousOverridesVersion: env.deployed?.overridesVersion,
            previousDesired: env.currentRevision,
            overridesVersion: env.overridesVersion,
            waits,
          });
        }
        everyTarget.push(...stageTargets);
        const { approval } = await judge(stageTargets);
        planned.push({ targets, approval: { required: approval.required > 0, fourEyes: approval.fourEyes, count: approval.required } });
      }
      return { revision: id, stages: planned, verdict: await judge(everyTarget) };
    },

    async checkHealth({ environment, revision }) {
      const env = await required(catalog.environments.require(environment));
      const { spec } = await required(catalog.revisions.require(revision));
      const manifests = await renderEnvironment(catalog, { binding: env.binding, spec, overrides: env.overrides, revision }, helmRenderer(deps.helm, catalog));
      const workloads = manifests
        .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet' || m.kind === 'DaemonSet')
        .map((m) => ({ kind: m.kind as WorkloadKind, namespace: m.metadata.namespace!, name: m.metadata.name }));
      return withClient(env.binding.cluster, async (client) => {
        try {
          await waitForRollouts(client, workloads, { timeoutMs: 0, pollMs: 0 });
          return { healthy: true };
        } catch (error) {
          if (error instanceof RolloutTimeoutError || error instanceof RolloutFailedError) return { healthy: false, message: error.message };
          throw error;
        }
      });
    },
  };
}
