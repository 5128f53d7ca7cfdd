// Teardown activities: read what the rules ask and whether the environment is busy elsewhere,
// remove its objects from the cluster, then forget it in the catalog.
import { approvalFor } from '../domain/rules.js';
import { teardownEnvironment } from '../providers/kubernetes/teardown.js';
import type { Catalog } from '../store/catalog.js';
import { involvementOf } from '../store/involvement.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { TeardownActivities } from './teardown-types.js';

export interface TeardownActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
}

/** How long the cluster may take to confirm the objects, then the namespace, are gone. */
const CONFIRM_TIMEOUT_MS = 240_000;

export function createTeardownActivities(deps: TeardownActivityDeps): TeardownActivities {
  const { catalog } = deps;
  const { withClient } = clusterClients(deps);
  return {
    async planTeardown({ environment }) {
      const record = await catalog.environments.get(environment);
      if (!record) return { gone: true, approval: { required: 0, fourEyes: false } };
      const { rules } = await catalog.rules.current();
      const { required, fourEyes } = approvalFor(rules, [record.binding.tier]);
      const involved = await involvementOf(catalog, environment);
      return {
        gone: false,
        cluster: record.binding.cluster,
        namespace: record.binding.namespace,
        tier: record.binding.tier,
        approval: { required, fourEyes },
        ...(involved ? { involvedIn: { operationId: involved.operationId, message: involved.message } } : {}),
      };
    },

    async removeEnvironmentObjects({ environment, cluster, namespace, deleteData }) {
      return withClient(cluster, (client, context) => teardownEnvironment(client, {
        namespace, environment, deleteData, timeoutMs: CONFIRM_TIMEOUT_MS,
        signal: context.cancellationSignal,
        onProgress: (what) => context.heartbeat({ teardown: what }),
      }));
    },

    async forgetEnvironment({ environment, operationId, requestedBy, removal, deleteData }) {
      await catalog.transaction(async (tx) => {
        if (!(await tx.environments.get(environment))) return; // a retry after it committed
        await tx.environments.remove(environment);
        await tx.audit.append({
          actor: requestedBy, action: 'environment.torn-down', target: `environment/${environment}`, result: 'ok', operationId,
          details: {
            deleted: removal.deleted.length, namespace: removal.namespace, deleteData,
            ...(removal.keptClaims.length > 0 ? { keptClaims: removal.keptClaims } : {}),
            ...(removal.keptBecause ? { keptBecause: removal.keptBecause } : {}),
          },
        });
      });
    },
  };
}
