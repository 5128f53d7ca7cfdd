// Amazon EKS through @aws-sdk/client-eks: describe and list clusters and node groups, resolve
// a cluster's access (endpoint, CA, IAM bearer token) and discover an account's clusters.
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  paginateListClusters,
  paginateListNodegroups,
  type Cluster,
  type EKSClientConfig,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { z } from 'zod';
import { EksConnection } from '../../domain/cluster.js';
import { cachedTokenSource, isBase64, normalizeServer, type ClusterAccess } from './access.js';
import type { ClusterCandidate } from './candidate.js';
import { toDnsLabel } from './candidate.js';
import { fromAwsError } from './classify.js';
import { badResponse, invalidInput } from './errors.js';
import { AWS_REGION_PATTERN, createEksToken, isAwsRegion } from './eks-token.js';
import { parseInput } from './validate.js';

type AwsCredentialsOption = EKSClientConfig['credentials'];

export interface EksAdapterOptions {
  /** Default region for discovery when an account names none. */
  region: string;
  /** API endpoint override (moto in tests); the regional AWS endpoint when omitted. */
  endpoint?: string;
  /** Credentials or a provider of them; the SDK's default chain when omitted. */
  credentials?: AwsCredentialsOption;
  /**
   * Credentials for a connection's (or a discovery account's) `roleArn`; without it such
   * connections are refused. The worker passes `stsAssumeRole` (eks-roles.ts): STS AssumeRole
   * through @aws-sdk/credential-providers.
   */
  assumeRole?: (roleArn: string, region: string) => AwsCredentialsOption;
  /** Refresh the cached token this long before it expires. */
  refreshBeforeMs?: number;
  maxAttempts?: number;
}

export interface EksClusterInfo {
  name: string;
  arn?: string;
  region: string;
  endpoint?: string;
  caData?: string;
  version?: string;
  /** CREATING, ACTIVE, DELETING, FAILED, UPDATING, PENDING */
  status: string;
  platformVersion?: string;
  createdAt?: Date;
  tags?: Record<string, string>;
}

export interface EksNodegroupInfo {
  name: string;
  clusterName: string;
  status: string;
  version?: string;
  capacityType?: string;
  instanceTypes: string[];
  desiredSize?: number;
  minSize?: number;
  maxSize?: number;
}

const AwsRegion = z.string().regex(AWS_REGION_PATTERN, 'is not an AWS region (e.g. eu-west-1)');
export const IamRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)');

export const EksAccount = z.strictObject({
  provider: z.literal('eks'),
  /** Regions to search; the adapter's default region when omitted. */
  regions: z.array(AwsRegion).min(1).optional(),
  /** A role to assume for discovery (another account's clusters); the clusters found are reached through it too. */
  roleArn: IamRoleArn.optional(),
});
export type EksAccount = z.infer<typeof EksAccount>;

const EksClusterRef = z.strictObject({
  region: AwsRegion,
  clusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]*$/, 'is not an EKS cluster name (letters, digits, "-" and "_")').max(100),
});
type EksClusterRef = z.infer<typeof EksClusterRef>;

export class EksAdapter {
  private readonly clients = new Map<string, EKSClient>();

  constructor(private readonly options: EksAdapterOptions) {
    if (!isAwsRegion(options.region)) throw invalidInput('eks', 'configure', `region "${options.region}" is not an AWS region (e.g. eu-west-1)`);
  }

  async describeCluster(ref: EksClusterRef, roleArn?: string): Promise<EksClusterInfo> {
    const { region, clusterName } = parseInput(EksClusterRef, ref, { provider: 'eks', operation: 'describeCluster', what: 'cluster reference' });
    const client = this.client(region, roleArn);
    try {
      const { cluster } = await client.send(new DescribeClusterCommand({ name: clusterName }));
      if (!cluster) throw badResponse('eks', 'describeCluster', `cluster "${clusterName}" in ${region}: empty answer`);
      return clusterInfo(cluster, region);
    } catch (error) {
      throw fromAwsError(error, { provider: 'eks', operation: 'describeCluster', target: `cluster "${clusterName}" in ${region}` });
    }
  }

  async listClusters(region: string, roleArn?: string): Promise<string[]> {
    const checked = this.checkRegion(region, 'listClusters');
    const names: string[] = [];
    try {
      for await (const page of paginateListClusters({ client: this.client(checked, roleArn) }, {})) names.push(...(page.clusters ?? []));
    } catch (error) {
      throw fromAwsError(error, { provider: 'eks', operation: 'listClusters', target: `region ${region}` });
    }
    return names;
  }

  async listNodegroups(ref: EksClusterRef, roleArn?: string): Promise<string[]> {
    const { region, clusterName } = parseInput(EksClusterRef, ref, { provider: 'eks', operation: 'listNodegroups', what: 'cluster reference' });
    const names: string[] = [];
    try {
      for await (const page of paginateListNodegroups({ client: this.client(region, roleArn) }, { clusterName })) names.push(...(page.nodegroups ?? []));
    } catch (error) {
      throw fromAwsError(error, { provider: 'eks', operation: 'listNodegroups', target: `cluster "${clusterName}" in ${region}` });
    }
    return names;
  }

  async describeNodegroup(ref: EksClusterRef, nodegroupName: string, roleArn?: string): Promise<EksNodegroupInfo> {
    const { region, clusterName } = parseInput(EksClusterRef, ref, { provider: 'eks', operation: 'describeNodegroup', what: 'cluster reference' });
    if (!nodegroupName) throw invalidInput('eks', 'describeNodegroup', 'node group name is empty');
    try {
      const { nodegroup } = await this.client(region, roleArn).send(new DescribeNodegroupCommand({ clusterName, nodegroupName }));
      if (!nodegroup) throw badResponse('eks', 'describeNodegroup', `node group "${nodegroupName}": empty answer`);
      return nodegroupInfo(nodegroup, clusterName);
    } catch (error) {
      throw fromAwsError(error, { provider: 'eks', operation: 'describeNodegroup', target: `node group "${nodegroupName}" of cluster "${clusterName}" in ${region}` });
    }
  }

  /** Every node group of a cluster, described. */
  async nodegroups(ref: EksClusterRef, roleArn?: string): Promise<EksNodegroupInfo[]> {
    const names = await this.listNodegroups(ref, roleArn);
    return Promise.all(names.map((name) => this.describeNodegroup(ref, name, roleArn)));
  }

  /**
   * Endpoint, CA and a token source for a cluster. The token is signed with the same
   * credentials the EKS client uses (the role's, when the connection names one).
   */
  async access(connection: EksConnection): Promise<ClusterAccess> {
    const conn = parseInput(EksConnection, connection, { provider: 'eks', operation: 'access', what: 'connection' });
    parseInput(EksClusterRef, { region: conn.region, clusterName: conn.clusterName }, { provider: 'eks', operation: 'access', what: 'connection' });
    const info = await this.describeCluster({ region: conn.region, clusterName: conn.clusterName }, conn.roleArn);
    const target = `cluster "${conn.clusterName}" in ${conn.region}`;
    if (info.status !== 'ACTIVE' && info.status !== 'UPDATING') {
      throw badResponse('eks', 'access', `${target} is ${info.status}, not ACTIVE: its API server cannot be used yet`);
    }
    if (!info.endpoint) throw badResponse('eks', 'access', `${target} has no API endpoint yet`);
    if (!info.caData || !isBase64(info.caData)) throw badResponse('eks', 'access', `${target} has no usable certificate authority data`);
    const client = this.client(conn.region, conn.roleArn);
    const token = cachedTokenSource(
      async () => {
        try {
          const credentials = await client.config.credentials();
          return await createEksToken({ clusterName: conn.clusterName, region: conn.region, credentials });
        } catch (error) {
          throw fromAwsError(error, { provider: 'eks', operation: 'token', target });
        }
      },
      { refreshBeforeMs: this.options.refreshBeforeMs },
    );
    return {
      provider: 'eks',
      name: conn.clusterName,
      server: normalizeServer(info.endpoint),
      caData: info.caData,
      credentials: { kind: 'token', token },
    };
  }

  /** Clusters in the account's regions (through its role, when it names one), with their node counts and tags. */
  async discover(account: EksAccount = { provider: 'eks' }): Promise<ClusterCandidate[]> {
    const { regions, roleArn } = parseInput(EksAccount, account, { provider: 'eks', operation: 'discover', what: 'account' });
    const perRegion = await Promise.all(
      (regions ?? [this.options.region]).map(async (region) => {
        const names = await this.listClusters(region, roleArn);
        return Promise.all(names.map((clusterName) => this.candidate(region, clusterName, roleArn)));
      }),
    );
    return perRegion.flat();
  }

  /** Closes the SDK clients' sockets. */
  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private async candidate(region: string, clusterName: string, roleArn?: string): Promise<ClusterCandidate> {
    const info = await this.describeCluster({ region, clusterName }, roleArn);
    const groups = info.status === 'ACTIVE' ? await this.nodegroups({ region, clusterName }, roleArn) : [];
    const nodeCount = groups.length ? groups.reduce((sum, g) => sum + (g.desiredSize ?? 0), 0) : undefined;
    return {
      name: clusterName,
      suggestedName: toDnsLabel(clusterName),
      connection: { provider: 'eks', region, clusterName, ...(roleArn ? { roleArn } : {}) },
      region,
      version: info.version,
      status: info.status,
      ready: info.status === 'ACTIVE' || info.status === 'UPDATING',
      nodeCount,
      ...(info.tags && Object.keys(info.tags).length > 0 ? { tags: info.tags } : {}),
    };
  }

  private checkRegion(region: string, operation: string): string {
    if (!isAwsRegion(region)) throw invalidInput('eks', operation, `region "${region}" is not an AWS region (e.g. eu-west-1)`);
    return region;
  }

  // One client per region and identity: clients hold sockets and a credential cache.
  private client(region: string, roleArn?: string): EKSClient {
    const key = `${region}|${roleArn ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      let credentials = this.options.credentials;
      if (roleArn) {
        if (!this.options.assumeRole) {
          throw invalidInput('eks', 'access', `connection names roleArn ${roleArn}, but this worker has no way to assume roles (EksAdapterOptions.assumeRole)`);
        }
        credentials = this.options.assumeRole(roleArn, region);
      }
      client = new EKSClient({
        region,
        endpoint: this.options.endpoint,
        credentials,
        maxAttempts: this.options.maxAttempts,
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

function clusterInfo(cluster: Cluster, region: string): EksClusterInfo {
  return {
    name: cluster.name ?? '',
    arn: cluster.arn,
    region,
    endpoint: cluster.endpoint || undefined,
    caData: cluster.certificateAuthority?.data || undefined,
    version: cluster.version,
    status: cluster.status ?? 'UNKNOWN',
    platformVersion: cluster.platformVersion,
    createdAt: cluster.createdAt,
    tags: cluster.tags,
  };
}

function nodegroupInfo(group: Nodegroup, clusterName: string): EksNodegroupInfo {
  return {
    name: group.nodegroupName ?? '',
    clusterName,
    status: group.status ?? 'UNKNOWN',
    version: group.version,
    capacityType: group.capacityType,
    instanceTypes: group.instanceTypes ?? [],
    desiredSize: group.scalingConfig?.desiredSize,
    minSize: group.scalingConfig?.minSize,
    maxSize: group.scalingConfig?.maxSize,
  };
}
