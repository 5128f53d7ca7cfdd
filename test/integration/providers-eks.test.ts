// The EKS adapter against moto's real EKS server: clusters and node groups are created through
// @aws-sdk/client-eks, then described, listed, discovered and turned into access.
import { CreateClusterCommand, CreateNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports.js';
import { ensureToolchain } from '../../local/toolchain.js';
import { discover, resolveAccess } from '../../providers/cloud/adapters.js';
import { EksAdapter } from '../../providers/cloud/eks.js';
import { decodeEksToken } from '../../providers/cloud/eks-token.js';
import { CloudProviderError } from '../../providers/cloud/errors.js';
import { toKubeConfig } from '../../providers/cloud/kube-config.js';
import { startMoto, type MotoServer } from '../support/moto.js';

let moto: MotoServer;
let adapter: EksAdapter;
const ROLE = 'arn:aws:iam::123456789012:role/eks-cluster';
const NODE_ROLE = 'arn:aws:iam::123456789012:role/eks-node';

async function seed(region: string, name: string, nodegroups: { name: string; desired: number }[] = []) {
  const eks = new EKSClient({ region, endpoint: moto.endpoint, credentials: moto.credentials });
  await eks.send(new CreateClusterCommand({ name, version: '1.31', roleArn: ROLE, resourcesVpcConfig: { subnetIds: ['subnet-0a1b2c3d'] } }));
  for (const ng of nodegroups) {
    await eks.send(new CreateNodegroupCommand({
      clusterName: name,
      nodegroupName: ng.name,
      nodeRole: NODE_ROLE,
      subnets: ['subnet-0a1b2c3d'],
      instanceTypes: ['m6i.large'],
      scalingConfig: { desiredSize: ng.desired, minSize: 1, maxSize: 10 },
    }));
  }
  eks.destroy();
}

beforeAll(async () => {
  moto = await startMoto(ensureToolchain().motoServer);
  adapter = new EksAdapter({ region: 'eu-west-1', endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
  await seed('eu-west-1', 'prod', [{ name: 'general', desired: 3 }, { name: 'batch', desired: 2 }]);
  await seed('eu-west-1', 'staging');
  await seed('us-east-1', 'us-app', [{ name: 'general', desired: 4 }]);
});

afterAll(async () => {
  adapter?.destroy();
  await moto?.stop();
});

describe('EksAdapter against moto', () => {
  it('describes a cluster: endpoint, CA, version, status', async () => {
    const info = await adapter.describeCluster({ region: 'eu-west-1', clusterName: 'prod' });
    expect(info).toMatchObject({ name: 'prod', region: 'eu-west-1', version: '1.31', status: 'ACTIVE' });
    expect(info.arn).toBe('arn:aws:eks:eu-west-1:123456789012:cluster/prod');
    expect(info.endpoint).toMatch(/^https:\/\/.+\.eu-west-1\.eks\.amazonaws\.com\/?$/);
    expect(info.caData).toMatch(/^[A-Za-z0-9+/=]+$/);
  });

  it('lists clusters per region', async () => {
    expect((await adapter.listClusters('eu-west-1')).sort()).toEqual(['prod', 'staging']);
    expect(await adapter.listClusters('us-east-1')).toEqual(['us-app']);
    expect(await adapter.listClusters('ap-south-1')).toEqual([]);
  });

  it('lists and describes node groups', async () => {
    const ref = { region: 'eu-west-1', clusterName: 'prod' };
    expect((await adapter.listNodegroups(ref)).sort()).toEqual(['batch', 'general']);
    const general = await adapter.describeNodegroup(ref, 'general');
    expect(general).toMatchObject({ name: 'general', clusterName: 'prod', status: 'ACTIVE', instanceTypes: ['m6i.large'], desiredSize: 3, minSize: 1, maxSize: 10 });
    expect((await adapter.nodegroups(ref)).map((g) => g.desiredSize).sort()).toEqual([2, 3]);
  });

  it('resolves access: server without trailing slash, CA, and an aws-iam-authenticator token', async () => {
    const info = await adapter.describeCluster({ region: 'eu-west-1', clusterName: 'prod' });
    const access = await adapter.access({ provider: 'eks', region: 'eu-west-1', clusterName: 'prod' });
    expect(access.server).toBe(info.endpoint!.replace(/\/$/, ''));
    expect(access.caData).toBe(info.caData);
    expect(access.credentials.kind).toBe('token');
    if (access.credentials.kind !== 'token') return;

    const before = Date.now();
    const first = await access.credentials.token();
    expect(first.token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = decodeEksToken(first.token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${moto.credentials.accessKeyId}/\\d{8}/eu-west-1/sts/aws4_request$`));
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // About 15 minutes, reported a minute short.
    const lifetime = first.expiresAt!.getTime() - before;
    expect(lifetime).toBeGreaterThan(13 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(14 * 60_000 + 1_000);
    // Cached: the same token until shortly before expiry.
    expect((await access.credentials.token()).token).toBe(first.token);
  });

  it('signs with the role credentials when a connection names a roleArn', async () => {
    const assumed: string[] = [];
    const withRoles = new EksAdapter({
      region: 'eu-west-1',
      endpoint: moto.endpoint,
      credentials: moto.credentials,
      assumeRole: (roleArn) => {
        assumed.push(roleArn);
        return { accessKeyId: 'ASIAROLECREDENTIALS0', secretAccessKey: 'role-secret', sessionToken: 'role-session' };
      },
    });
    try {
      const access = await withRoles.access({ provider: 'eks', region: 'eu-west-1', clusterName: 'prod', roleArn: 'arn:aws:iam::123456789012:role/flotilla' });
      if (access.credentials.kind !== 'token') throw new Error('expected a token');
      const url = decodeEksToken((await access.credentials.token()).token);
      expect(assumed).toEqual(['arn:aws:iam::123456789012:role/flotilla']);
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAROLECREDENTIALS0\//);
      expect(url.searchParams.get('X-Amz-Security-Token')).toBe('role-session');
    } finally {
      withRoles.destroy();
    }
  });

  it('refuses a roleArn it cannot assume, saying why', async () => {
    await expect(adapter.access({ provider: 'eks', region: 'eu-west-1', clusterName: 'prod', roleArn: 'arn:aws:iam::123456789012:role/x' }))
      .rejects.toThrow(/roleArn arn:aws:iam::123456789012:role\/x.*no way to assume roles/);
  });

  it('discovers the clusters of several regions with their node counts', async () => {
    const candidates = await adapter.discover({ provider: 'eks', regions: ['eu-west-1', 'us-east-1'] });
    const byName = Object.fromEntries(candidates.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['prod', 'staging', 'us-app']);
    expect(byName.prod).toEqual({
      name: 'prod',
      suggestedName: 'prod',
      connection: { provider: 'eks', region: 'eu-west-1', clusterName: 'prod' },
      region: 'eu-west-1',
      version: '1.31',
      status: 'ACTIVE',
      ready: true,
      nodeCount: 5,
    });
    expect(byName.staging!.nodeCount).toBeUndefined();
    expect(byName['us-app']).toMatchObject({ region: 'us-east-1', nodeCount: 4 });
    // The default region when the account names none.
    expect((await adapter.discover()).map((c) => c.name).sort()).toEqual(['prod', 'staging']);
  });

  it('works through the provider-neutral dispatchers and toKubeConfig', async () => {
    const adapters = { eks: adapter };
    const found = await discover('eks', { regions: ['us-east-1'] }, adapters);
    expect(found.map((c) => c.connection)).toEqual([{ provider: 'eks', region: 'us-east-1', clusterName: 'us-app' }]);
    const access = await resolveAccess(found[0]!.connection, adapters);
    const kc = toKubeConfig(access);
    expect(kc.getCurrentCluster()).toMatchObject({ server: access.server, caData: access.caData });
    const opts: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toMatch(/^Bearer k8s-aws-v1\./);
  });

  it('classifies a missing cluster as not found, not retryable', async () => {
    const error = await adapter.describeCluster({ region: 'eu-west-1', clusterName: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudProviderError);
    expect(error).toMatchObject({ provider: 'eks', operation: 'describeCluster', kind: 'not-found', status: 404, code: 'ResourceNotFoundException', retryable: false });
    expect((error as Error).message).toMatch(/eks describeCluster: not found cluster "nope" in eu-west-1/);
  });

  it('classifies an unreachable endpoint as a retryable network error without credentials in it', async () => {
    const port = await freePort();
    const down = new EksAdapter({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`, credentials: moto.credentials, maxAttempts: 1 });
    try {
      const error = await down.listClusters('eu-west-1').catch((e: unknown) => e);
      expect(error).toMatchObject({ provider: 'eks', kind: 'network', retryable: true });
      expect(JSON.stringify(error) + String(error)).not.toContain(moto.credentials.secretAccessKey);
    } finally {
      down.destroy();
    }
  });

  it('names the bad input', async () => {
    await expect(adapter.access({ provider: 'eks', region: 'Europe', clusterName: 'prod' })).rejects.toThrow(/eks access: invalid connection: region: is not an AWS region/);
    await expect(adapter.describeCluster({ region: 'eu-west-1', clusterName: '' })).rejects.toThrow(/clusterName: is not an EKS cluster name/);
    await expect(adapter.discover({ provider: 'eks', regions: [] })).rejects.toThrow(/invalid account: regions: /);
    await expect(discover('eks', { provider: 'gke' }, { eks: adapter })).rejects.toThrow(/account is for provider "gke", not "eks"/);
    await expect(discover('openstack', {}, { eks: adapter })).rejects.toThrow(/unknown provider "openstack" \(one of: eks, gke, aks, kubeconfig\)/);
    await expect(discover('gke', { project: 'my-project-1' }, { eks: adapter })).rejects.toThrow(/no gke adapter configured/);
  });
});
