// The GKE adapter through the real @google-cloud/container client (HTTP/JSON transport) and a
// real google-auth-library client, against a local fake of the GKE API that records requests.
import { OAuth2Client } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discover, resolveAccess } from '../../providers/cloud/adapters.js';
import { CloudProviderError } from '../../providers/cloud/errors.js';
import { GkeAdapter } from '../../providers/cloud/gke.js';
import { toKubeConfig } from '../../providers/cloud/kube-config.js';
import { GkeStatus, startGkeFake, type GkeFake } from '../support/fakes/gke.js';

const TOKEN = 'ya29.fake-access-token-for-tests';
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
let fake: GkeFake;
let auth: OAuth2Client;
let adapter: GkeAdapter;
const expiry = Date.now() + 3_600_000;

function newAdapter(port: number, client: OAuth2Client): GkeAdapter {
  return new GkeAdapter({ authClient: client, clientOptions: { fallback: true, protocol: 'http', apiEndpoint: '127.0.0.1', port } });
}

beforeAll(async () => {
  fake = await startGkeFake({ accessToken: TOKEN });
  // A real OAuth2 client holding a current token: it signs requests without a network call.
  auth = new OAuth2Client();
  auth.setCredentials({ access_token: TOKEN, expiry_date: expiry, token_type: 'Bearer' });
  adapter = newAdapter(fake.port, auth);
  fake.addCluster('acme-prod', {
    name: 'web-eu',
    location: 'europe-west1',
    endpoint: '34.76.10.20',
    status: GkeStatus.RUNNING,
    currentMasterVersion: '1.31.5-gke.1023000',
    currentNodeCount: 6,
    masterAuth: { clusterCaCertificate: CA },
    nodePools: [{ name: 'default-pool', version: '1.31.5-gke.1023000', status: GkeStatus.RUNNING, initialNodeCount: 2, locations: ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'] }],
  });
  fake.addCluster('acme-prod', {
    name: 'batch-us',
    location: 'us-central1-a',
    endpoint: '35.1.2.3',
    status: GkeStatus.PROVISIONING,
    currentMasterVersion: '1.30.9-gke.100',
    masterAuth: { clusterCaCertificate: CA },
    nodePools: [{ name: 'pool', status: GkeStatus.PROVISIONING, initialNodeCount: 3, locations: ['us-central1-a'] }],
  });
});

afterEach(() => {
  fake.requests.length = 0;
});

afterAll(async () => {
  await adapter?.close();
  await fake?.stop();
});

describe('GkeAdapter against a GKE fake', () => {
  it('gets a cluster, decoding numeric enums, with the bearer token on the request', async () => {
    const info = await adapter.getCluster({ project: 'acme-prod', location: 'europe-west1', clusterName: 'web-eu' });
    expect(info).toMatchObject({ name: 'web-eu', location: 'europe-west1', endpoint: '34.76.10.20', caData: CA, version: '1.31.5-gke.1023000', status: 'RUNNING', nodeCount: 6 });
    expect(info.nodePools).toEqual([{ name: 'default-pool', version: '1.31.5-gke.1023000', status: 'RUNNING', initialNodeCount: 2 }]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: '/v1/projects/acme-prod/locations/europe-west1/clusters/web-eu',
      query: { $alt: 'json;enum-encoding=int' },
    });
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(fake.requests[0]!.headers['x-goog-api-client']).toMatch(/gapic\/\S+/);
  });

  it("lists clusters of every location with '-' and of one location", async () => {
    const all = await adapter.listClusters('acme-prod');
    expect(all.map((c) => [c.name, c.location, c.status])).toEqual([
      ['web-eu', 'europe-west1', 'RUNNING'],
      ['batch-us', 'us-central1-a', 'PROVISIONING'],
    ]);
    const one = await adapter.listClusters('acme-prod', 'us-central1-a');
    expect(one.map((c) => c.name)).toEqual(['batch-us']);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/projects/acme-prod/locations/-/clusters',
      'GET /v1/projects/acme-prod/locations/us-central1-a/clusters',
    ]);
  });

  it('resolves access: https endpoint, CA, and the OAuth access token as cluster token', async () => {
    const access = await adapter.access({ provider: 'gke', project: 'acme-prod', location: 'europe-west1', clusterName: 'web-eu' });
    expect(access).toMatchObject({ provider: 'gke', name: 'web-eu', server: 'https://34.76.10.20', caData: CA });
    if (access.credentials.kind !== 'token') throw new Error('expected a token');
    const token = await access.credentials.token();
    expect(token).toEqual({ token: TOKEN, expiresAt: new Date(expiry) });
    const opts: { headers?: Record<string, string> } = {};
    await toKubeConfig(access).applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('refuses access to a cluster that is not running yet', async () => {
    await expect(adapter.access({ provider: 'gke', project: 'acme-prod', location: 'us-central1-a', clusterName: 'batch-us' }))
      .rejects.toThrow(/cluster "batch-us" in acme-prod\/us-central1-a is PROVISIONING/);
  });

  it('discovers a project across locations', async () => {
    const candidates = await discover('gke', { project: 'acme-prod' }, { gke: adapter });
    expect(candidates).toEqual([
      {
        name: 'web-eu', suggestedName: 'web-eu', region: 'europe-west1', version: '1.31.5-gke.1023000', status: 'RUNNING', ready: true, nodeCount: 6,
        connection: { provider: 'gke', project: 'acme-prod', location: 'europe-west1', clusterName: 'web-eu' },
      },
      {
        name: 'batch-us', suggestedName: 'batch-us', region: 'us-central1-a', version: '1.30.9-gke.100', status: 'PROVISIONING', ready: false, nodeCount: 3,
        connection: { provider: 'gke', project: 'acme-prod', location: 'us-central1-a', clusterName: 'batch-us' },
      },
    ]);
    const access = await resolveAccess(candidates[0]!.connection, { gke: adapter });
    expect(access.server).toBe('https://34.76.10.20');
  });

  it('classifies a missing cluster as not found', async () => {
    const error = await adapter.getCluster({ project: 'acme-prod', location: 'europe-west1', clusterName: 'gone' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudProviderError);
    expect(error).toMatchObject({ provider: 'gke', operation: 'getCluster', kind: 'not-found', status: 404, code: 'NOT_FOUND', retryable: false });
    expect((error as Error).message).toBe('gke getCluster: not found cluster "gone" in acme-prod/europe-west1: Not found: projects/acme-prod/locations/europe-west1/clusters/gone. (404 NOT_FOUND)');
  });

  it('classifies throttling as retryable', async () => {
    fake.failNext({ status: 429, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for quota metric' } } });
    const error = await adapter.listClusters('acme-prod').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'throttled', status: 429, retryable: true });
  });

  it('keeps the token out of the error when the API rejects it', async () => {
    const stale = new OAuth2Client();
    stale.setCredentials({ access_token: 'ya29.stale-secret-token', expiry_date: Date.now() + 3_600_000 });
    const other = newAdapter(fake.port, stale);
    try {
      const error = await other.getCluster({ project: 'acme-prod', location: 'europe-west1', clusterName: 'web-eu' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'unauthenticated', status: 401, retryable: false });
      expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer ya29.stale-secret-token');
      expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain('stale-secret-token');
    } finally {
      await other.close();
    }
  });

  it('names the bad input', async () => {
    await expect(adapter.access({ provider: 'gke', project: 'Acme Prod', location: 'europe-west1', clusterName: 'web-eu' }))
      .rejects.toThrow(/gke access: invalid connection: project: is not a Google Cloud project id/);
    await expect(adapter.getCluster({ project: 'acme-prod', location: 'mars', clusterName: 'web-eu' })).rejects.toThrow(/location: is not a GKE location/);
    await expect(discover('gke', {}, { gke: adapter })).rejects.toThrow(/gke discover: invalid account: project: /);
    expect(fake.requests).toEqual([]);
  });
});
