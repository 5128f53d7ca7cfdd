// Google Kubernetes Engine through @google-cloud/container: get and list clusters, resolve a
// cluster's access (endpoint, CA, OAuth access token) and discover a project's clusters.
import { ClusterManagerClient, protos } from '@google-cloud/container';
import { GoogleAuth, type AuthClient } from 'google-auth-library';
import { z } from 'zod';
import { GkeConnection } from '../../domain/cluster.js';
import { cachedTokenSource, isBase64, normalizeServer, type BearerToken, type ClusterAccess } from './access.js';
import { toDnsLabel, type ClusterCandidate } from './candidate.js';
import { fromGoogleError } from './classify.js';
import { badResponse } from './errors.js';
import { parseInput } from './validate.js';

type ClientOptions = NonNullable<ConstructorParameters<typeof ClusterManagerClient>[0]>;
type GkeCluster = protos.google.container.v1.ICluster;

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Assumed lifetime when an auth client does not say when its token expires. */
const UNKNOWN_EXPIRY_MS = 5 * 60_000;

export interface GkeAdapterOptions {
  /** Authenticates the API calls and issues the cluster tokens; application default credentials when omitted. */
  authClient?: AuthClient;
  /** Transport options (tests: `{ fallback: true, protocol: 'http', apiEndpoint, port }`). */
  clientOptions?: Omit<ClientOptions, 'authClient'>;
  refreshBeforeMs?: number;
}

export interface GkeClusterInfo {
  name: string;
  project: string;
  location: string;
  endpoint?: string;
  caData?: string;
  version?: string;
  /** PROVISIONING, RUNNING, RECONCILING, STOPPING, ERROR, DEGRADED */
  status: string;
  nodeCount?: number;
  nodePools: { name: string; version?: string; status: string; initialNodeCount?: number }[];
  /** The cluster's resource labels (GKE's tags). */
  resourceLabels?: Record<string, string>;
}

const ProjectId = z.string().regex(/^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'is not a Google Cloud project id');
const Location = z.string().regex(/^[a-z]+-[a-z]+\d+(?:-[a-z])?$/, 'is not a GKE location (a region like europe-west1 or a zone like europe-west1-b)');

export const GkeAccount = z.strictObject({
  provider: z.literal('gke'),
  project: ProjectId,
  /** A region or zone; every location when omitted. */
  location: Location.optional(),
});
export type GkeAccount = z.infer<typeof GkeAccount>;

const GkeClusterRef = z.strictObject({
  project: ProjectId,
  location: Location,
  clusterName: z.string().regex(/^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/, 'is not a GKE cluster name (lower-case letters, digits and "-", at most 40)'),
});
type GkeClusterRef = z.infer<typeof GkeClusterRef>;

const USABLE = new Set(['RUNNING', 'RECONCILING', 'DEGRADED']);

export class GkeAdapter {
  private readonly client: ClusterManagerClient;
  private readonly authClient?: AuthClient;
  private readonly refreshBeforeMs?: number;
  private googleAuth?: GoogleAuth;

  constructor(options: GkeAdapterOptions = {}) {
    const authClient = options.authClient;
    this.authClient = authClient;
    this.refreshBeforeMs = options.refreshBeforeMs;
    // gax bundles its own google-auth-library copy; an AuthClient of either works at run time.
    this.client = new ClusterManagerClient({
      ...options.clientOptions,
      ...(authClient ? { authClient: authClient as unknown as ClientOptions['authClient'] } : { scopes: [CLOUD_PLATFORM_SCOPE] }),
    });
  }

  async getCluster(ref: GkeClusterRef): Promise<GkeClusterInfo> {
    const { project, location, clusterName } = parseInput(GkeClusterRef, ref, { provider: 'gke', operation: 'getCluster', what: 'cluster reference' });
    try {
      const [cluster] = await this.client.getCluster({ name: `projects/${project}/locations/${location}/clusters/${clusterName}` });
      return clusterInfo(cluster, project, location);
    } catch (error) {
      throw fromGoogleError(error, { provider: 'gke', operation: 'getCluster', target: `cluster "${clusterName}" in ${project}/${location}` });
    }
  }

  /** Clusters of a project in one location, or in all (`-`). */
  async listClusters(project: string, location = '-'): Promise<GkeClusterInfo[]> {
    const account = parseInput(GkeAccount, { provider: 'gke', project, ...(location === '-' ? {} : { location }) }, { provider: 'gke', operation: 'listClusters', what: 'account' });
    try {
      const [response] = await this.client.listClusters({ parent: `projects/${account.project}/locations/${location}` });
      return (response.clusters ?? []).map((c) => clusterInfo(c, account.project, c.location || location));
    } catch (error) {
      throw fromGoogleError(error, { provider: 'gke', operation: 'listClusters', target: `project ${project}, location ${location}` });
    }
  }

  async access(connection: GkeConnection): Promise<ClusterAccess> {
    const conn = parseInput(GkeConnection, connection, { provider: 'gke', operation: 'access', what: 'connection' });
    parseInput(GkeClusterRef, { project: conn.project, location: conn.location, clusterName: conn.clusterName }, { provider: 'gke', operation: 'access', what: 'connection' });
    const info = await this.getCluster({ project: conn.project, location: conn.location, clusterName: conn.clusterName });
    const target = `cluster "${conn.clusterName}" in ${conn.project}/${conn.location}`;
    if (!USABLE.has(info.status)) throw badResponse('gke', 'access', `${target} is ${info.status}: its API server cannot be used`);
    if (!info.endpoint) throw badResponse('gke', 'access', `${target} has no endpoint yet`);
    if (!info.caData || !isBase64(info.caData)) throw badResponse('gke', 'access', `${target} has no usable cluster CA certificate`);
    const token = cachedTokenSource(() => this.accessToken(target), { refreshBeforeMs: this.refreshBeforeMs });
    return {
      provider: 'gke',
      name: conn.clusterName,
      server: normalizeServer(`https://${info.endpoint}`),
      caData: info.caData,
      credentials: { kind: 'token', token },
    };
  }

  async discover(account: GkeAccount): Promise<ClusterCandidate[]> {
    const { project, location } = parseInput(GkeAccount, account, { provider: 'gke', operation: 'discover', what: 'account' });
    const clusters = await this.listClusters(project, location ?? '-');
    return clusters.map((c) => ({
      name: c.name,
      suggestedName: toDnsLabel(c.name),
      connection: { provider: 'gke', project, location: c.location, clusterName: c.name },
      region: c.location,
      version: c.version,
      status: c.status,
      ready: USABLE.has(c.status),
      nodeCount: c.nodeCount,
      ...(c.resourceLabels && Object.keys(c.resourceLabels).length > 0 ? { tags: c.resourceLabels } : {}),
    }));
  }

  close(): Promise<void> {
    return this.client.close();
  }

  // GKE accepts the caller's OAuth access token as a Kubernetes bearer token.
  private async accessToken(target: string): Promise<BearerToken> {
    try {
      // Application default credentials are looked up on first use, not at construction.
      const client = this.authClient ?? (await (this.googleAuth ??= new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] })).getClient());
      const { token } = await client.getAccessToken();
      if (!token) throw badResponse('gke', 'token', `the auth client returned no access token for ${target}`);
      const expiry = client.credentials?.expiry_date;
      return { token, expiresAt: new Date(typeof expiry === 'number' ? expiry : Date.now() + UNKNOWN_EXPIRY_MS) };
    } catch (error) {
      throw fromGoogleError(error, { provider: 'gke', operation: 'token', target });
    }
  }
}

// Proto3 defaults: absent strings arrive as '', absent numbers as 0.
function clusterInfo(cluster: GkeCluster, project: string, location: string): GkeClusterInfo {
  const pools = cluster.nodePools ?? [];
  const poolNodes = pools.reduce((sum, p) => sum + (p.initialNodeCount ?? 0) * Math.max(1, (p.locations ?? []).length), 0);
  return {
    name: cluster.name ?? '',
    project,
    location: cluster.location || location,
    endpoint: cluster.endpoint || undefined,
    caData: cluster.masterAuth?.clusterCaCertificate || undefined,
    version: cluster.currentMasterVersion || undefined,
    status: enumName(cluster.status, ClusterStatus),
    nodeCount: cluster.currentNodeCount || poolNodes || undefined,
    nodePools: pools.map((p) => ({
      name: p.name ?? '',
      version: p.version || undefined,
      status: enumName(p.status, NodePoolStatus),
      initialNodeCount: p.initialNodeCount ?? undefined,
    })),
    ...(cluster.resourceLabels ? { resourceLabels: { ...cluster.resourceLabels } } : {}),
  };
}

const ClusterStatus = protos.google.container.v1.Cluster.Status;
const NodePoolStatus = protos.google.container.v1.NodePool.Status;

// The HTTP transport decodes enums to names; gRPC may hand back numbers.
function enumName(value: unknown, names: Record<number, string>): string {
  if (typeof value === 'number') return names[value] ?? 'STATUS_UNSPECIFIED';
  return typeof value === 'string' && value ? value : 'STATUS_UNSPECIFIED';
}
