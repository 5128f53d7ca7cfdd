// Registering a kubeconfig cluster refuses now what would only fail later (issue 10, finding
// 11): an exec plugin or auth-provider Flotilla does not run, and a server on a link-local or
// cloud metadata address (unless an admin says the cluster really lives there). Nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_SCOPE } from '../../../store/secrets.js';
import { kubeconfigCluster, startTestApi, testKubeconfig, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

type ErrorBody = { error: { code: string; details?: { path: string; message: string }[] } };

describe('cluster registration refuses unusable or dangerous kubeconfigs', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const register = (body: unknown) => api.request<ErrorBody>('POST', '/v1/clusters', { body });
  const nothingStored = async (name: string) => {
    expect(await api.catalog.clusters.get(name)).toBeUndefined();
    expect((await api.catalog.secrets.list(GLOBAL_SCOPE)).map((s) => s.name)).not.toContain(`${name}-kubeconfig`);
  };

  it('refuses an exec plugin user with 400 naming the field, stores nothing', async () => {
    const kubeconfig = testKubeconfig('execs').replace(/ {4}token: .*/, '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws');
    const res = await register(kubeconfigCluster('execs', {}, kubeconfig));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'kubeconfig', message: expect.stringContaining('exec plugin "aws"') }]);
    await nothingStored('execs');
  });

  it('refuses an auth-provider user', async () => {
    const kubeconfig = testKubeconfig('authp').replace(/ {4}token: .*/, '    auth-provider:\n      name: gcp');
    const res = await register(kubeconfigCluster('authp', {}, kubeconfig));
    expect(res.status).toBe(400);
    expect(res.body.error.details![0]!.message).toContain('auth-provider "gcp"');
    await nothingStored('authp');
  });

  it('refuses a metadata or link-local server unless allowLinkLocalServer says so', async () => {
    const at = (name: string, server: string) => testKubeconfig(name).replace('https://127.0.0.1:6443', server);
    const metadata = await register(kubeconfigCluster('meta', {}, at('meta', 'https://169.254.169.254')));
    expect(metadata.status).toBe(400);
    expect(metadata.body.error.details![0]).toEqual({ path: 'kubeconfig', message: expect.stringContaining('cloud metadata service address') });
    await nothingStored('meta');
    const linkLocal = await register(kubeconfigCluster('ll', {}, at('ll', 'https://[fe80::1]:6443')));
    expect(linkLocal.status).toBe(400);
    await nothingStored('ll');
    const allowed = await register({ ...kubeconfigCluster('ll-ok', {}, at('ll-ok', 'https://169.254.10.1:6443')), allowLinkLocalServer: true });
    expect(allowed.status).toBe(202);
  });

  it('checks a stored kubeconfig named by connection.kubeconfigSecret the same way', async () => {
    await api.catalog.secrets.put(GLOBAL_SCOPE, 'stored-exec', testKubeconfig('stored').replace(/ {4}token: .*/, '    exec:\n      command: gke-gcloud-auth-plugin'));
    const res = await register({ name: 'stored', connection: { provider: 'kubeconfig', kubeconfigSecret: 'stored-exec' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'connection.kubeconfigSecret', message: expect.stringContaining('exec plugin') }]);
    expect(await api.catalog.clusters.get('stored')).toBeUndefined();
  });
});

describe('environments in system namespaces are refused by the API', () => {
  it('POST /v1/environments and POST /v1/apply answer 400 naming the field, and store nothing', async () => {
    const api = await startTestApi();
    try {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('c1', { tier: 'dev' }) })).status).toBe(202);
      const doc = shopEnvironment({ name: 'sneaky', tier: 'dev', cluster: 'c1' }) as { spec: { namespace?: string } };
      doc.spec.namespace = 'kube-system';
      const created = await api.request<ErrorBody>('POST', '/v1/environments', { body: doc });
      expect(created.status).toBe(400);
      expect(created.body.error.details).toEqual([{ path: 'spec.namespace', message: expect.stringContaining('system namespace') }]);
      const applied = await api.request<ErrorBody>('POST', '/v1/apply', { raw: JSON.stringify(doc), headers: { 'content-type': 'application/json' } });
      expect(applied.status).toBe(400);
      expect(await api.catalog.environments.get('sneaky')).toBeUndefined();
    } finally {
      await api.close();
    }
  });
});
