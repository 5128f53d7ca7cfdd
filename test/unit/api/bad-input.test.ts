// For every mutating endpoint: malformed JSON, an unknown field and a wrong type each give 400
// with the field path, never a 500, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigCluster, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

type ErrorBody = { error: { code: string; details?: { path: string; message: string }[] } };

interface Endpoint {
  method: string;
  path: string;
  contentType?: string;
  /** A valid body with one unknown field, and the path reported. */
  unknown: [body: unknown, path: string];
  /** A valid body with one wrongly typed field, and the path reported. */
  wrongType: [body: unknown, path: string];
}

const shop = () => shopEnvironment({ name: 'shop-new', cluster: 'dev-1', tier: 'dev' }) as { spec: Record<string, unknown> & { app: Record<string, unknown> & { services: Record<string, unknown>[] } } };
const app = () => shop().spec.app;

const ENDPOINTS: Endpoint[] = [
  {
    method: 'POST', path: '/v1/clusters',
    unknown: [{ ...kubeconfigCluster('c-1'), token: 'x' }, 'token'],
    wrongType: [{ ...kubeconfigCluster('c-1'), labels: { tier: 7 } }, 'labels.tier'],
  },
  {
    method: 'POST', path: '/v1/providers/kubeconfig/discover',
    unknown: [{ kubeconfigSecret: 'dev-1-kubeconfig', extra: true }, 'extra'],
    wrongType: [{ kubeconfigSecret: 42 }, 'kubeconfigSecret'],
  },
  {
    method: 'POST', path: '/v1/environments',
    unknown: [{ ...shop(), spec: { ...shop().spec, colour: 'blue' } }, 'spec.colour'],
    wrongType: [(() => { const d = shop(); d.spec.app.services[0]!.replicas = 'three'; return d; })(), 'spec.app.services[0].replicas'],
  },
  {
    method: 'PUT', path: '/v1/environments/base/spec',
    unknown: [{ ...app(), sidecars: [] }, 'sidecars'],
    wrongType: [(() => { const a = app(); a.services[1]!.ports = [{ port: 'http' }]; return a; })(), 'services[1].ports[0].port'],
  },
  {
    method: 'PUT', path: '/v1/environments/base/overrides',
    unknown: [{ replicas: { web: 2 }, labels: {} }, 'labels'],
    wrongType: [{ replicas: { web: '2' } }, 'replicas.web'],
  },
  {
    method: 'POST', path: '/v1/environments/base/deploy',
    unknown: [{ force: true }, 'force'],
    wrongType: [{ revision: 12 }, 'revision'],
  },
  {
    method: 'PUT', path: '/v1/rules',
    unknown: [{ forbidLatestTag: {}, allowEverything: true }, 'allowEverything'],
    wrongType: [{ minReplicas: { perTier: { prod: 'two' } } }, 'minReplicas.perTier.prod'],
  },
  {
    method: 'POST', path: '/v1/tokens',
    unknown: [{ name: 'x', role: 'viewer', expires: 'never' }, 'expires'],
    wrongType: [{ name: 'x', role: 'viewer', tiers: 'prod' }, 'tiers'],
  },
  {
    method: 'POST', path: '/v1/promotions',
    unknown: [{ source: 'base', stages: [{ name: 'p', targets: ['x'], canary: true }] }, 'stages[0].canary'],
    wrongType: [{ source: 'base', stages: [{ name: 'p', targets: ['x'], soakSeconds: '30s' }] }, 'stages[0].soakSeconds'],
  },
  {
    method: 'POST', path: '/v1/promotions/promote-base-0123456789ab-1/approve',
    unknown: [{ comment: 'ok', as: 'admin' }, 'as'],
    wrongType: [{ comment: 42 }, 'comment'],
  },
  {
    method: 'POST', path: '/v1/promotions/promote-base-0123456789ab-1/reject',
    unknown: [{ by: 'someone' }, 'by'],
    wrongType: [{ comment: ['no'] }, 'comment'],
  },
  {
    method: 'POST', path: '/v1/promotions/promote-base-0123456789ab-1/cancel',
    unknown: [{ by: 'someone' }, 'by'],
    wrongType: [{ reason: false }, 'reason'],
  },
  {
    method: 'POST', path: '/v1/apply', contentType: 'application/json',
    unknown: [{ ...shop(), status: {} }, 'status'],
    wrongType: [{ ...shop(), metadata: { name: 5 } }, 'metadata.name'],
  },
];

describe('bad input', () => {
  let api: TestApi;
  const snapshot = async () => {
    const counts: Record<string, number> = {};
    for (const table of ['clusters', 'environments', 'revisions', 'revision_history', 'rules_versions', 'tokens', 'operations', 'secrets', 'idempotency_keys'] as const) {
      const row = await api.catalog.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return counts;
  };
  beforeAll(async () => {
    api = await startTestApi();
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('dev-1', { tier: 'dev' }) })).status).toBe(202);
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'base', cluster: 'dev-1', tier: 'dev' }) })).status).toBe(201);
  });
  afterAll(() => api.close());

  for (const e of ENDPOINTS) {
    describe(`${e.method} ${e.path}`, () => {
      const send = (raw: string) => api.request<ErrorBody>(e.method, e.path, {
        raw, headers: { 'content-type': e.contentType ?? 'application/json', 'idempotency-key': `k-${Math.random()}` },
      });

      it('malformed JSON → 400, nothing written', async () => {
        const before = await snapshot();
        const res = await send('{"name": "x",');
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('malformed_json');
        expect(await snapshot()).toEqual(before);
      });

      it('unknown field → 400 naming it, nothing written', async () => {
        const before = await snapshot();
        const res = await send(JSON.stringify(e.unknown[0]));
        expect(res.status).toBe(400);
        expect(res.body.error.details).toContainEqual({ path: e.unknown[1], message: 'unknown field' });
        expect(await snapshot()).toEqual(before);
      });

      it('wrong type → 400 naming the field, nothing written', async () => {
        const before = await snapshot();
        const res = await send(JSON.stringify(e.wrongType[0]));
        expect(res.status).toBe(400);
        expect(res.body.error.details?.map((d) => d.path)).toContain(e.wrongType[1]);
        expect(await snapshot()).toEqual(before);
      });
    });
  }

  it('invalid YAML for apply → 400 with the document, no stack trace', async () => {
    const res = await api.request<ErrorBody>('POST', '/v1/apply', { raw: 'kind: Environment\n  bad: [indent', headers: { 'content-type': 'application/yaml' } });
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('a JSON body of the wrong kind (array, string) is a 400, not a 500', async () => {
    for (const raw of ['[]', '"text"', 'null', '12']) {
      const res = await api.request<ErrorBody>('POST', '/v1/tokens', { raw, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
    }
  });
});
