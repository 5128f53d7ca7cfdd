// Offboarding a cluster through the API: a cluster already offboarded is forgotten (its catalog
// entry goes); one with environments bound is refused unless drain; otherwise offboardCluster
// starts (a second request while one runs gets that one).
import type { ClusterRecord } from '../../store/clusters.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import type { OperationReservation } from '../starter.js';
import { removeCluster } from './clusters.js';
import { startOperation } from './operations.js';

export type OffboardAnswer = { forgotten: true } | { forgotten: false; operationId: string };

export async function offboard(
  deps: ApiDeps, cluster: ClusterRecord, options: { drain: boolean; deleteData: boolean; by: string }, reservation?: OperationReservation,
): Promise<OffboardAnswer> {
  if (cluster.status === 'offboarded') {
    await removeCluster(deps, cluster.name);
    return { forgotten: true };
  }
  const running = await deps.catalog.operations.list({ cluster: cluster.name, kind: 'offboarding', state: ['running', 'waiting'], limit: 1 });
  if (running.items[0]) return { forgotten: false, operationId: running.items[0].id };
  const bound = (await deps.catalog.environments.list({ cluster: cluster.name })).map((e) => e.binding.name).sort();
  if (bound.length > 0 && !options.drain) {
    throw new ApiError(409, 'cluster_in_use', `${bound.length} environment(s) are bound to cluster "${cluster.name}": ${bound.join(', ')}; tear them down first, or offboard with drain=true`,
      bound.map((name) => ({ path: 'drain', message: `environment ${name} is bound to it` })));
  }
  const { operationId } = await startOperation(deps, {
    id: `offboard-${cluster.name}-${deps.now().getTime().toString(36)}`,
    kind: 'offboarding',
    workflowType: 'offboardCluster',
    input: { cluster: cluster.name, requestedBy: options.by, ...(options.drain ? { drain: true } : {}), ...(options.deleteData ? { deleteData: true } : {}) },
    environments: bound,
    clusters: [cluster.name],
    requestedBy: options.by,
  }, reservation);
  return { forgotten: false, operationId };
}
