// Offboarding activities, beside onboarding's (whose removeBaseline offboarding uses too): what
// is bound to the cluster, and the catalog's side of the end.
import { managedKubeconfigSecret } from '../store/clusters.js';
import type { Catalog } from '../store/catalog.js';
import { GLOBAL_SCOPE } from '../store/secrets.js';
import type { OffboardingActivities } from './offboarding-types.js';

export function createOffboardingActivities({ catalog }: { catalog: Catalog }): OffboardingActivities {
  return {
    async planOffboarding({ cluster }) {
      const record = await catalog.clusters.get(cluster);
      if (!record) return { exists: false, offboarded: false, environments: [] };
      const environments = (await catalog.environments.list({ cluster })).map((e) => e.binding.name).sort();
      return { exists: true, offboarded: record.status === 'offboarded', environments };
    },

    async finishOffboarding({ cluster, operationId, requestedBy, removed, kept }) {
      await catalog.transaction(async (tx) => {
        const record = await tx.clusters.get(cluster);
        if (!record || record.status === 'offboarded') return; // a retry after it committed
        await tx.clusters.updateStatus(cluster, { status: 'offboarded', message: `offboarded by ${operationId}` });
        const secret = managedKubeconfigSecret(cluster);
        if (record.connection.provider === 'kubeconfig' && record.connection.kubeconfigSecret === secret && (await tx.secrets.get(GLOBAL_SCOPE, secret)) !== undefined) {
          await tx.secrets.remove(GLOBAL_SCOPE, secret);
        }
        await tx.audit.append({
          actor: requestedBy, action: 'cluster.offboarded', target: `cluster/${cluster}`, result: 'ok', operationId,
          details: { baselineRemoved: removed, ...(kept.length > 0 ? { baselineKept: kept } : {}) },
        });
      });
    },
  };
}
