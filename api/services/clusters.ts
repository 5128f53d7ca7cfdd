// Registering a cluster: store it (status onboarding), keep an inline kubeconfig as an
// encrypted catalog secret referenced by name, then start onboardCluster with the name only.

import type { ClusterConnection } from '../../domain/cluster.js';
import { forbiddenServer } from '../../domain/endpoints.js';
import { KubeconfigError, parseKubeconfig } from '../../providers/cloud/kubeconfig.js';
import { managedKubeconfigSecret } from '../../store/clusters.js';
import { GLOBAL_SCOPE } from '../../store/secrets.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest } from '../errors.js';
import type { RegisterCluster } from '../schemas.js';
import { startOperation } from './operations.js';


export function onboardingId(cluster: string): string {
  return `onboard-${cluster}`;
}

/** Checks a request before anything is written; returns the connection to store. */
export async function prepareRegistration(deps: ApiDeps, request: RegisterCluster): Promise<ClusterConnection> {
  const { connection, kubeconfig } = request;
  if (connection.provider !== 'kubeconfig') {
    if (kubeconfig !== undefined) throw badRequest([{ path: 'kubeconfig', message: `only for provider kubeconfig, not ${connection.provider}` }]);
    return connection;
  }
  if (kubeconfig !== undefined) {
    if (connection.kubeconfigSecret !== undefined) {
      throw badRequest([{ path: 'connection.kubeconfigSecret', message: 'give either kubeconfig (inline) or connection.kubeconfigSecret, not both' }]);
    }
    checkKubeconfig(kubeconfig, connection.context, request.allowLinkLocalServer === true, 'kubeconfig');
    return { ...connection, kubeconfigSecret: managedKubeconfigSecret(request.name) };
  }
  if (connection.kubeconfigSecret === undefined) {
    throw badRequest([{ path: 'kubeconfig', message: 'required for provider kubeconfig (or connection.kubeconfigSecret naming a stored secret)' }]);
  }
  const stored = await deps.catalog.secrets.get(GLOBAL_SCOPE, connection.kubeconfigSecret);
  if (stored === undefined) {
    throw new ApiError(422, 'invalid_reference', `secret "${connection.kubeconfigSecret}" is not in the catalog`, [
      { path: 'connection.kubeconfigSecret', message: 'no such secret' },
    ]);
  }
  checkKubeconfig(stored, connection.context, request.allowLinkLocalServer === true, 'connection.kubeconfigSecret');
  return { ...connection, kubeconfigSecret: connection.kubeconfigSecret };
}

/**
 * A kubeconfig Flotilla can use, refused now rather than at the first deploy: it parses (errors
 * name positions, never credentials), authenticates with what Flotilla runs (a token or a client
 * certificate, not an exec plugin or auth-provider), and its server is not a link-local or cloud
 * metadata address (unless an admin says the cluster really lives there).
 */
function checkKubeconfig(text: string, context: string | undefined, allowLinkLocal: boolean, path: string): void {
  let parsed;
  try {
    parsed = parseKubeconfig(text, context);
  } catch (error) {
    const message = error instanceof KubeconfigError ? error.message : 'is not a usable kubeconfig document';
    throw badRequest([{ path, message }]);
  }
  if (parsed.auth.kind === 'external') {
    throw badRequest([{ path, message: `user "${parsed.user}" authenticates through an ${parsed.auth.via}, which Flotilla does not run; use an eks, gke or aks connection, a token or a client certificate` }]);
  }
  const forbidden = forbiddenServer(parsed.server);
  if (forbidden && !allowLinkLocal) {
    throw badRequest([{ path, message: `server ${parsed.server} is ${forbidden}; if the cluster really lives there, register it with allowLinkLocalServer: true` }]);
  }
}

/** Stores the cluster (and its kubeconfig secret) and starts onboarding; undoes both if the start fails. */
export async function registerCluster(deps: ApiDeps, request: RegisterCluster, connection: ClusterConnection, by: string): Promise<string> {
  const { catalog } = deps;
  await catalog.transaction(async (tx) => {
    await tx.clusters.create({
      name: request.name, region: request.region, labels: request.labels,
      allowedTiers: request.allowedTiers, adoptableNamespaces: request.adoptableNamespaces, connection, status: 'onboarding',
    });
    if (request.kubeconfig !== undefined && connection.provider === 'kubeconfig') {
      await tx.secrets.put(GLOBAL_SCOPE, connection.kubeconfigSecret, request.kubeconfig);
    }
  });
  try {
    return await startOnboarding(deps, request.name, by);
  } catch (error) {
    await removeCluster(deps, request.name).catch(() => undefined);
    throw error;
  }
}

/** Starts onboardCluster for a stored cluster; its operation id. */
export async function startOnboarding(deps: ApiDeps, cluster: string, by: string): Promise<string> {
  const { operationId } = await startOperation(deps, {
    id: onboardingId(cluster), kind: 'onboarding', workflowType: 'onboardCluster', input: { cluster }, clusters: [cluster], requestedBy: by,
  });
  return operationId;
}

/** Removes a cluster and the kubeconfig secret the API made for it. */
export async function removeCluster(deps: ApiDeps, name: string): Promise<void> {
  const cluster = await deps.catalog.clusters.require(name);
  await deps.catalog.clusters.remove(name);
  if (cluster.connection.provider === 'kubeconfig' && cluster.connection.kubeconfigSecret === managedKubeconfigSecret(name)) {
    await deps.catalog.secrets.remove(GLOBAL_SCOPE, cluster.connection.kubeconfigSecret);
  }
}
