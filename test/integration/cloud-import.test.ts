// `flotilla cluster import` end to end: the CLI and the API ask the worker (an in-process one on
// the tier's Temporal server, holding the cloud adapters) to discover a cloud account's clusters,
// register the selected ones with labels from their tags, and onboard each.
//
// EKS is moto (several clusters in two regions, tags; one cluster in another account, reached
// through moto's STS AssumeRole), GKE and AKS the local fakes. Each cloud cluster is served by a
// local HTTPS front of a shared KWOK cluster that takes that cloud's bearer tokens
// (test/support/cluster-front.ts) — EKS tokens are checked with moto's STS, as an EKS API server's
// authenticator does — so onboarding runs for real: baseline, version, capacity, ready.
import { CreateClusterCommand, CreateNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { temporalStarter } from '../../api/temporal.js';
import { run } from '../../cli/program.js';
import { AKS_SERVER_SCOPE, AksAdapter } from '../../providers/cloud/aks.js';
import { EksAdapter } from '../../providers/cloud/eks.js';
import { stsAssumeRole } from '../../providers/cloud/eks-roles.js';
import { decodeEksToken } from '../../providers/cloud/eks-token.js';
import { GkeAdapter } from '../../providers/cloud/gke.js';
import { activityDeps } from '../../worker/deps.js';
import { createFlotillaWorker } from '../../worker/worker.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { startClusterFront, type ClusterFront } from '../support/cluster-front.js';
import { startAksFake, type AksFake } from '../support/fakes/aks.js';
import { GkeStatus, startGkeFake, type GkeFake, type GkeWireCluster } from '../support/fakes/gke.js';
import { makeTestCertificates } from '../support/fakes/tls.js';
import { recordOutput, registerSecret } from '../support/leak-registry.js';
import { motoCallerIdentity, motoWithEndpoints, startMoto, type MotoEndpointProxy, type MotoServer } from '../support/moto.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';
import { until } from '../support/wait.js';

const toolchain = inject('toolchain');
const shared = inject('clusters');
const suffix = Math.random().toString(36).slice(2, 7);
const taskQueue = `cloud-import-${suffix}`;

const PARTNER_ROLE = 'arn:aws:iam::111111111111:role/flotilla-import';
const GKE_TOKEN = `ya29.cloud-import-${suffix}`;
const ARM_TOKEN = `arm-cloud-import-${suffix}`;
const ENTRA_TOKEN = `entra-cloud-import-${suffix}`;
const SUBSCRIPTION = '3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b';
const NODE_ROLE = 'arn:aws:iam::123456789012:role/eks-node';

/** Names unique to this run: the catalog is this file's, but the operations' workflow ids are the tier's. */
const n = (name: string) => `${name}-${suffix}`;

class FixedCredential implements TokenCredential {
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    return { token: scope === AKS_SERVER_SCOPE ? ENTRA_TOKEN : ARM_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

let moto: MotoServer;
let motoFront: MotoEndpointProxy;
let gkeFake: GkeFake;
let aksFake: AksFake;
let eksFront: ClusterFront;
let gkeFront: ClusterFront;
let aksFront: ClusterFront;
let adapters: { eks: EksAdapter; gke: GkeAdapter; aks: AksAdapter };
let api: TestApi;
let client: Client;
let worker: Worker;
let workerConnection: NativeConnection;
let running: Promise<void>;

/** The CLI in this process, as the admin of the test API: exit code and what it printed. */
async function flotilla(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: async () => '' }, { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: api.admin, HOME: '/nonexistent' });
  recordOutput('cloud-import-cli', [...out, ...err].join('\n'));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The table's rows as arrays of cells (columns are three or more spaces apart). */
const rows = (table: string) => table.split('\n').map((line) => line.trim().split(/\s{3,}/));

async function onboarded(cluster: string): Promise<void> {
  await until(`onboarding of ${cluster}`, async () => {
    const op = await api.catalog.operations.get(`onboard-${cluster}`);
    if (op?.state === 'failed') throw new Error(`onboarding of ${cluster} failed: ${op.message}`);
    return op?.state === 'completed';
  }, 180_000);
}

async function seedEks(): Promise<void> {
  const own = new EKSClient({ region: 'eu-west-1', endpoint: moto.endpoint, credentials: moto.credentials });
  const usEast = new EKSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials });
  // Another AWS account, only reachable through its role: moto puts what these credentials make there.
  const partner = new EKSClient({
    region: 'eu-west-1', endpoint: moto.endpoint,
    credentials: fromTemporaryCredentials({ params: { RoleArn: PARTNER_ROLE, RoleSessionName: 'seed' }, masterCredentials: moto.credentials, clientConfig: { region: 'eu-west-1', endpoint: moto.endpoint } }),
  });
  const create = (eks: EKSClient, name: string, tags?: Record<string, string>) =>
    eks.send(new CreateClusterCommand({ name, version: '1.34', roleArn: 'arn:aws:iam::123456789012:role/eks-cluster', resourcesVpcConfig: { subnetIds: ['subnet-0a1b2c3d'] }, tags }));
  await create(own, n('shop-prod'), { tier: 'prod', Team: 'Payments', 'aws:cloudformation:stack-name': 'eks-shop-prod' });
  await own.send(new CreateNodegroupCommand({
    clusterName: n('shop-prod'), nodegroupName: 'general', nodeRole: NODE_ROLE, subnets: ['subnet-0a1b2c3d'], scalingConfig: { desiredSize: 3, minSize: 1, maxSize: 6 },
  }));
  await create(own, n('shop-staging'), { tier: 'staging', 'Cost Center': 'R&D / Web' });
  await create(usEast, n('us-batch'), { tier: 'dev' });
  await create(partner, n('partner-prod'), { tier: 'prod', owner: 'partner-team' });
  for (const c of [own, usEast, partner]) c.destroy();
}

beforeAll(async () => {
  registerSecret('Entra token of the cloud-import test', ENTRA_TOKEN);
  moto = await startMoto(toolchain.motoServer);
  // EKS clusters are served by shared[0], GKE's and AKS's by shared[1].
  eksFront = await startClusterFront(shared[0]!.kubeconfig, async (token) => {
    const url = decodeEksToken(token);
    if (url.searchParams.get('Action') !== 'GetCallerIdentity' || !url.searchParams.get('X-Amz-SignedHeaders')?.split(';').includes('x-k8s-aws-id')) return undefined;
    const [accessKeyId, , region] = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
    if (!accessKeyId || !region || url.host !== `sts.${region}.amazonaws.com`) return undefined;
    return motoCallerIdentity(moto, accessKeyId, region);
  });
  gkeFront = await startClusterFront(shared[1]!.kubeconfig, async (token) => (token === GKE_TOKEN ? 'gke:oauth-user' : undefined));
  aksFront = await startClusterFront(shared[1]!.kubeconfig, async (token) => (token === ENTRA_TOKEN ? 'aks:entra-user' : undefined));
  const front = { endpoint: eksFront.server, caData: eksFront.caData };
  motoFront = await motoWithEndpoints(moto, new Map([[n('shop-prod'), front], [n('shop-staging'), front], [n('partner-prod'), front]]));
  await seedEks();

  gkeFake = await startGkeFake({ accessToken: GKE_TOKEN });
  const webEu: GkeWireCluster & { resourceLabels: Record<string, string> } = {
    name: n('web-eu'), location: 'europe-west1', endpoint: gkeFront.hostPort, status: GkeStatus.RUNNING, currentMasterVersion: '1.34.4-gke.1100000',
    currentNodeCount: 2, masterAuth: { clusterCaCertificate: gkeFront.caData }, resourceLabels: { tier: 'prod', 'cost-center': 'web', 'goog-terraform-provisioned': 'true' },
  };
  gkeFake.addCluster('acme-prod', webEu);
  gkeFake.addCluster('acme-prod', { name: n('batch-us'), location: 'us-central1-a', endpoint: '10.0.0.1', status: GkeStatus.PROVISIONING, masterAuth: { clusterCaCertificate: gkeFront.caData } });

  const tls = makeTestCertificates();
  aksFake = await startAksFake({ armToken: ARM_TOKEN, tls });
  aksFake.addCluster({
    subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-shop', name: `Shop-WEU-${suffix}`, location: 'westeurope', kubernetesVersion: '1.34.4', aad: true,
    fqdn: 'shop-weu-dns-4f5e6d.hcp.westeurope.azmk8s.io', agentPools: [{ name: 'system', count: 2 }], tags: { Environment: 'Production', 'cost center': 'CC-17', tier: 'prod' },
    userKubeconfig: [
      'apiVersion: v1', 'kind: Config', `current-context: shop-weu`,
      'clusters:', '- name: shop-weu', '  cluster:', `    server: ${aksFront.server}`, `    certificate-authority-data: ${aksFront.caData}`,
      'contexts:', '- name: shop-weu', '  context: { cluster: shop-weu, user: clusterUser_rg-shop_shop-weu }',
      'users:', '- name: clusterUser_rg-shop_shop-weu', '  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1beta1', '      command: kubelogin',
      '      args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]', '',
    ].join('\n'),
  });

  const oauth = new OAuth2Client();
  oauth.setCredentials({ access_token: GKE_TOKEN, expiry_date: Date.now() + 3_600_000, token_type: 'Bearer' });
  adapters = {
    eks: new EksAdapter({
      region: 'eu-west-1', endpoint: motoFront.endpoint, credentials: moto.credentials, maxAttempts: 2,
      assumeRole: stsAssumeRole({ endpoint: moto.endpoint, masterCredentials: moto.credentials }),
    }),
    gke: new GkeAdapter({ authClient: oauth, clientOptions: { fallback: true, protocol: 'http', apiEndpoint: '127.0.0.1', port: gkeFake.port } }),
    aks: new AksAdapter({ credential: new FixedCredential(), endpoint: aksFake.endpoint, clientOptions: { tlsOptions: { ca: tls.caPem }, retryOptions: { maxRetries: 0 } } }),
  };

  client = await tierClient();
  api = await startTestApi({ operations: temporalStarter(client, taskQueue) });
  const created = await createFlotillaWorker({
    workflowBundle: tierWorkflowBundle(),
    address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue,
    deps: activityDeps({ catalog: api.catalog, adapters }),
  });
  worker = created.worker;
  workerConnection = created.connection;
  running = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await workerConnection?.close();
  await api?.close();
  await client?.connection.close();
  adapters?.eks.destroy();
  await adapters?.gke.close();
  for (const stop of [motoFront, eksFront, gkeFront, aksFront, gkeFake, aksFake, moto]) await stop?.stop();
});

describe('flotilla cluster import', () => {
  it('EKS: imports every cluster of a region with labels from its tags, and onboards each', async () => {
    const imported = await flotilla('cluster', 'import', 'eks', '--region', 'eu-west-1', '--all', '--label', 'geo=eu', '--allowed-tiers', 'dev');
    expect(imported.code, imported.err).toBe(0);
    expect(rows(imported.out).sort()).toEqual([
      ['NAME', 'CLOUD NAME', 'REGION', 'ACTION', 'OPERATION', 'LABELS'],
      [n('shop-prod'), n('shop-prod'), 'eu-west-1', 'created', `onboard-${n('shop-prod')}`, 'team=Payments,tier=prod,flotilla.dev/provider=eks,topology.kubernetes.io/region=eu-west-1,geo=eu'],
      [n('shop-staging'), n('shop-staging'), 'eu-west-1', 'created', `onboard-${n('shop-staging')}`, 'cost-center=R-D-Web,tier=staging,flotilla.dev/provider=eks,topology.kubernetes.io/region=eu-west-1,geo=eu'],
    ].sort());
    expect(imported.err).toBe(`${n('shop-prod')}: tag "aws:cloudformation:stack-name" not made a label: reserved for the cloud provider`);

    await onboarded(n('shop-prod'));
    await onboarded(n('shop-staging'));
    expect(await api.catalog.clusters.require(n('shop-prod'))).toMatchObject({
      status: 'ready', version: 'v1.34.4', region: 'eu-west-1', allowedTiers: ['dev'],
      labels: { team: 'Payments', tier: 'prod', geo: 'eu', 'flotilla.dev/provider': 'eks', 'topology.kubernetes.io/region': 'eu-west-1' },
      connection: { provider: 'eks', region: 'eu-west-1', clusterName: n('shop-prod') },
      capacity: { nodes: 2 },
    });
    expect(await api.catalog.clusters.require(n('shop-staging'))).toMatchObject({ status: 'ready' });
    // The EKS front let in the worker's own identity (its IAM token, checked with STS).
    expect(eksFront.accepted).toEqual(['arn:aws:sts::123456789012:user/moto']);
    // Neither the other region's cluster nor the other account's was imported.
    expect(await api.catalog.clusters.get(n('us-batch'))).toBeUndefined();
    expect(await api.catalog.clusters.get(n('partner-prod'))).toBeUndefined();
  });

  it('EKS: a cluster of another account, imported and reached through an assumed role (moto STS)', async () => {
    // The worker's own identity does not see it; the role does.
    const own = await api.request<{ items: { name: string }[] }>('POST', '/v1/providers/eks/discover', { body: { regions: ['eu-west-1'] } });
    expect(own.body.items.map((c) => c.name)).not.toContain(n('partner-prod'));
    const res = await api.request<{ results: unknown[] }>('POST', '/v1/providers/eks/import', { body: { regions: ['eu-west-1'], roleArn: PARTNER_ROLE, names: [n('partner-prod')] } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results).toEqual([{
      name: n('partner-prod'), cloudName: n('partner-prod'), region: 'eu-west-1', action: 'created', operationId: `onboard-${n('partner-prod')}`,
      labels: { owner: 'partner-team', tier: 'prod', 'flotilla.dev/provider': 'eks', 'topology.kubernetes.io/region': 'eu-west-1' },
    }]);
    await onboarded(n('partner-prod'));
    expect(await api.catalog.clusters.require(n('partner-prod'))).toMatchObject({
      status: 'ready', connection: { provider: 'eks', region: 'eu-west-1', clusterName: n('partner-prod'), roleArn: PARTNER_ROLE },
    });
    // Its API server was reached with a token signed by the role's credentials.
    expect(eksFront.accepted).toContain('arn:aws:sts::111111111111:assumed-role/flotilla-import/flotilla');
  });

  it('GKE: imports a cluster of a project by name, labels from its resource labels, and onboards it', async () => {
    const imported = await flotilla('cluster', 'import', 'gke', '--project', 'acme-prod', n('web-eu'), '-o', 'json');
    expect(imported.code, imported.err).toBe(0);
    expect(JSON.parse(imported.out)).toEqual({
      results: [{
        name: n('web-eu'), cloudName: n('web-eu'), region: 'europe-west1', action: 'created', operationId: `onboard-${n('web-eu')}`,
        labels: { 'cost-center': 'web', tier: 'prod', 'flotilla.dev/provider': 'gke', 'topology.kubernetes.io/region': 'europe-west1' },
        skippedTags: [{ tag: 'goog-terraform-provisioned', reason: 'reserved for the cloud provider' }],
      }],
    });
    await onboarded(n('web-eu'));
    expect(await api.catalog.clusters.require(n('web-eu'))).toMatchObject({
      status: 'ready', version: 'v1.34.4', connection: { provider: 'gke', project: 'acme-prod', location: 'europe-west1', clusterName: n('web-eu') },
    });
    expect(gkeFront.accepted).toEqual(['gke:oauth-user']);
    expect(await api.catalog.clusters.get(n('batch-us'))).toBeUndefined();
  });

  it('AKS: imports every cluster of a subscription, labels from its tags, and onboards it', async () => {
    const res = await api.request<{ results: unknown[] }>('POST', '/v1/providers/aks/import', { body: { subscriptionId: SUBSCRIPTION, all: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const name = `shop-weu-${suffix}`;
    expect(res.body.results).toEqual([{
      name, cloudName: `Shop-WEU-${suffix}`, region: 'westeurope', action: 'created', operationId: `onboard-${name}`,
      labels: { 'cost-center': 'CC-17', environment: 'Production', tier: 'prod', 'flotilla.dev/provider': 'aks', 'topology.kubernetes.io/region': 'westeurope' },
    }]);
    await onboarded(name);
    expect(await api.catalog.clusters.require(name)).toMatchObject({
      status: 'ready', version: 'v1.34.4', connection: { provider: 'aks', subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-shop', clusterName: `Shop-WEU-${suffix}` },
    });
    expect(aksFront.accepted).toEqual(['aks:entra-user']);
  });

  it('importing again reports the registered clusters unchanged and starts nothing', async () => {
    const again = await flotilla('cluster', 'import', 'eks', '--region', 'eu-west-1', '--all');
    expect(again.code, again.err).toBe(0);
    expect(rows(again.out).slice(1).map((r) => [r[0], r[3], r[4]]).sort()).toEqual([
      [n('shop-prod'), 'unchanged', '-'],
      [n('shop-staging'), 'unchanged', '-'],
    ]);
    const onboardings = (await api.catalog.operations.list({ kind: 'onboarding' })).items.map((o) => o.id).sort();
    expect(onboardings).toEqual([n('partner-prod'), n('shop-prod'), n('shop-staging'), `shop-weu-${suffix}`, n('web-eu')].map((c) => `onboard-${c}`).sort());
  });
});
