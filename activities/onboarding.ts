// Onboarding activities: reach a cluster through its provider, install and remove the
// baseline, read capacity, and keep the catalog's view of the cluster current.
//
// Probing and the baseline use the registered credential: they are what onboarding (and
// offboarding) is for. Capacity is read as Flotilla's agent, like everything after onboarding,
// so a cluster becomes ready only once the agent it just installed can work.
import { ApplicationFailure } from '@temporalio/common';
import { baselineManifests } from '../domain/baseline.js';
import { parseQuantity } from '../domain/quantity.js';
import { mayDo } from '../providers/kubernetes/agent-access.js';
import { applyBaseline, removeBaseline } from '../providers/kubernetes/baseline.js';
import type { Catalog } from '../store/catalog.js';
import { NotFoundError } from '../store/errors.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { ClusterCapacity, OnboardingActivities, SetClusterStatusInput } from './onboarding-types.js';

export interface OnboardingActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
}

export function createOnboardingActivities(deps: OnboardingActivityDeps): OnboardingActivities {
  const { withClient, withRegisteredClient } = clusterClients(deps);

  return {
    async probeCluster({ cluster }) {
      return withRegisteredClient(cluster, async (client) => {
        const version = await client.request<{ gitVersion: string }>('GET', '/version');
        return { gitVersion: version.gitVersion, server: client.kc.getCurrentCluster()!.server };
      });
    },

    async installBaseline({ cluster }) {
      return withRegisteredClient(cluster, async (client, context) => {
        const applied = await applyBaseline(client, baselineManifests(), {
          // The baseline is Flotilla's own: take it back from anyone who edited it.
          force: true,
          signal: context.cancellationSignal,
          onProgress: ({ applied: n, total }) => context.heartbeat({ applied: n, total }),
        });
        return { applied: applied.length };
      });
    },

    async removeBaseline({ cluster }) {
      return withRegisteredClient(cluster, async (client) => {
        // Only what Flotilla created; RoleBindings the bootstrap account made in environment
        // namespaces go with those namespaces (teardown).
        const { removed, kept } = await removeBaseline(client, baselineManifests());
        return { removed: removed.length, kept };
      });
    },

    async readCapacity({ cluster }) {
      return withClient(cluster, async (client, context) => {
        // The agent's ClusterRoleBinding was made a moment ago: let it reach the authorizer.
        await mayDo(client, { verb: 'list', resource: 'nodes' }, 15_000, undefined, context.cancellationSignal);
        const nodes = await client.request<{ items: { status?: { allocatable?: Record<string, string> } }[] }>('GET', '/api/v1/nodes');
        return capacityOf(nodes.items.map((n) => n.status?.allocatable ?? {}));
      });
    },

    async setClusterStatus({ cluster, ...change }: SetClusterStatusInput) {
      try {
        await deps.catalog.clusters.updateStatus(cluster, change);
      } catch (error) {
        if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`cluster "${cluster}" is not registered`, 'UnknownCluster');
        throw error;
      }
    },
  };
}

/** Sums nodes' allocatable resources into quantities a person reads ("64", "256Gi"). */
export function capacityOf(allocatable: Record<string, string>[]): ClusterCapacity {
  let cpu = 0;
  let memory = 0;
  let pods = 0;
  for (const a of allocatable) {
    cpu += parseQuantity(a.cpu ?? '0') ?? 0;
    memory += parseQuantity(a.memory ?? '0') ?? 0;
    pods += parseQuantity(a.pods ?? '0') ?? 0;
  }
  return { nodes: allocatable.length, cpu: formatCpu(cpu), memory: `${Math.floor(memory / 2 ** 30)}Gi`, pods };
}

function formatCpu(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}
