// `flotilla push chart|bundle` against the in-process API: what is stored in the catalog (the
// archive's bytes, the bundle's documents), the digest printed (sha256 of what was sent, computed
// here with node:crypto), a second push of the same content being the same upload; bad input is a
// 400 naming the field or document, before anything is stored. Then a spec naming the bundle holds
// its documents (what a revision deploys), and one naming a bundle never uploaded is a 422 at its path.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../cli/program.js';
import { kubeconfigCluster, startTestApi, type TestApi } from '../../support/api-server.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-push-'));
const BUNDLE = [
  'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: extras', 'data:', '  SUPPORT_EMAIL: ops@example.test',
  '---', '---',
  'apiVersion: v1', 'kind: Service', 'metadata:', '  name: extras-proxy', 'spec:', '  ports:', '    - port: 8081',
].join('\n');

describe('flotilla push', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('dev-1', { tier: 'dev' }) })).status).toBe(202);
  });
  afterAll(() => api.close());

  async function flotilla(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(args, { out: (t) => void out.push(t), err: (t) => void err.push(t), readStdin: async () => '' }, { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: api.admin, HOME: '/nonexistent' });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('push chart stores the archive as sent and prints its digest; the same archive again is the same upload', async () => {
    const archive = gzipSync(Buffer.from('a chart archive, as far as this test is concerned'));
    const file = join(dir, 'webapp-1.0.0.tgz');
    writeFileSync(file, archive);
    const digest = `sha256:${createHash('sha256').update(archive).digest('hex')}`;
    const res = await flotilla('push', 'chart', file);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toBe(`chart ${digest} (${archive.length} bytes)\nname it in a spec as charts[].archive: ${digest}`);
    expect(await api.catalog.uploads.chart(digest)).toEqual(archive);
    expect((await flotilla('push', 'chart', file, '-o', 'json')).out).toContain(`"digest": "${digest}"`);
  });

  it('push chart refuses what is not a gzipped archive (400 at archive)', async () => {
    const file = join(dir, 'not-a-chart.tgz');
    writeFileSync(file, 'apiVersion: v2\nname: webapp\n');
    const res = await flotilla('push', 'chart', file);
    expect(res.code).toBe(2);
    expect(res.err).toContain('archive');
    expect(res.err).toContain('is not a chart archive');
  });

  it('push bundle stores its documents (empty ones skipped) and prints the digest of their canonical JSON', async () => {
    const file = join(dir, 'extras.yaml');
    writeFileSync(file, BUNDLE);
    const res = await flotilla('push', 'bundle', file);
    expect(res.code, res.err).toBe(0);
    const documents = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extras' }, data: { SUPPORT_EMAIL: 'ops@example.test' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'extras-proxy' }, spec: { ports: [{ port: 8081 }] } },
    ];
    // Canonical JSON: keys sorted at every level, no spaces.
    const canonical = '[{"apiVersion":"v1","data":{"SUPPORT_EMAIL":"ops@example.test"},"kind":"ConfigMap","metadata":{"name":"extras"}},'
      + '{"apiVersion":"v1","kind":"Service","metadata":{"name":"extras-proxy"},"spec":{"ports":[{"port":8081}]}}]';
    const digest = `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
    expect(res.out.split('\n')[0]).toBe(`bundle ${digest} (${Buffer.byteLength(canonical)} bytes, 2 objects)`);
    expect(await api.catalog.uploads.bundle(digest)).toEqual(documents);

    // A spec naming the bundle holds its documents: what its revision deploys.
    const created = await api.request('POST', '/v1/environments', {
      body: { apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name: 'bundled' }, spec: { application: 'bundled', tier: 'dev', cluster: 'dev-1', app: { manifests: [{ name: 'extras', bundle: digest }] } } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const revision = (await api.catalog.environments.require('bundled')).currentRevision!;
    expect((await api.catalog.revisions.require(revision)).spec.manifests).toEqual([{ name: 'extras', bundle: digest, documents }]);

    // One never uploaded: 422 at its path, nothing created.
    const unknown = `sha256:${'0'.repeat(64)}`;
    const refused = await api.request('POST', '/v1/environments', {
      body: { apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name: 'unbundled' }, spec: { application: 'unbundled', tier: 'dev', cluster: 'dev-1', app: { manifests: [{ name: 'extras', bundle: unknown }] } } },
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { details: [{ path: 'spec.app.manifests[0].bundle', message: 'no such bundle' }] } });
    expect(await api.catalog.environments.get('unbundled')).toBeUndefined();
  });

  it('push bundle refuses a document that is no Kubernetes object, naming it (400)', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\nkind: Secret\nmetadata:\n  name: nope\n');
    const res = await flotilla('push', 'bundle', file);
    expect(res.code).toBe(2);
    expect(res.err).toContain('documents[1]');
    expect(res.err).toContain('a Kubernetes object needs apiVersion and kind');
  });
});
