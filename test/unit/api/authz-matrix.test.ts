// Every endpoint × every role (and a dev-scoped operator): allowed → the endpoint's 2xx,
// otherwise 403, and no escalation through tokens. Operations run for real (the workflows on
// Temporal's time-skipping test server, stub cluster activities), so a promotion's decisions
// and signals reach the real promote workflow. Who may do what is written out per route
// below, not read from api/authz.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../api/authz.js';
import type { Tier } from '../../../domain/environment.js';
import { GLOBAL_SCOPE } from '../../../store/secrets.js';
import { kubeconfigCluster, testKubeconfig } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { startWorkflowApi, type WorkflowApi } from '../../support/workflow-api.js';

type Who = 'viewer' | 'operator' | 'release-manager' | 'admin' | 'dev-operator' | 'dev-admin';
const WHO: Who[] = ['viewer', 'operator', 'release-manager', 'admin', 'dev-operator', 'dev-admin'];
const ALL = WHO;
const OPERATORS: Who[] = ['operator', 'release-manager', 'admin', 'dev-operator', 'dev-admin'];
const UNSCOPED_OPERATORS: Who[] = ['operator', 'release-manager', 'admin'];
/** Unscoped admins only: fleet-wide things (clusters of no or another tier, organisation-wide rules, unscoped tokens). */
const ADMIN: Who[] = ['admin'];
/** Admins, scoped ones included, on things of their tiers. */
const DEV_ADMINS: Who[] = ['admin', 'dev-admin'];
const RELEASE: Who[] = ['release-manager', 'admin'];
/** Every unscoped token: reads bound by tiers (logs) of a tier no scope here covers. */
const UNSCOPED_READERS: Who[] = ['viewer', 'operator', 'release-manager', 'admin'];

interface Case {
  name: string;
  allowed: Who[];
  ok: number;
  /** Makes what the request needs (fresh per role) and returns the request. */
  request(api: WorkflowApi, n: number): Promise<{ method: string; path: string; body?: unknown; raw?: string; headers?: Record<string, string> }>;
}

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${++seq}`;

async function env(api: WorkflowApi, tier: Tier): Promise<string> {
  const name = fresh(`env-${tier}`);
  const res = await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier: tier as 'dev', cluster: tier === 'dev' ? 'dev-1' : 'prod-1' }) });
  expect(res.status).toBe(201);
  return name;
}

/** A fresh Application (no environment uses it). */
async function application(api: WorkflowApi): Promise<string> {
  const name = fresh('app');
  const doc = { apiVersion: 'flotilla.dev/v1', kind: 'Application', metadata: { name }, spec: { services: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0' }] } };
  expect((await api.request('POST', '/v1/apply', { body: doc })).status).toBe(200);
  return name;
}

/**
 * A fresh promotion base-dev → a fresh prod environment (a waiting promotion holds its target),
 * awaiting approval, requested by someone none of WHO is (four eyes).
 */
let requester: string | undefined;
async function promotion(api: WorkflowApi): Promise<string> {
  requester ??= await api.token('release-manager', undefined, 'requester');
  const target = await env(api, 'prod');
  const res = await api.request<{ operationId: string }>('POST', '/v1/promotions', {
    token: requester, body: { source: 'base-dev', stages: [{ name: 'prod', targets: [target], approval: true }] },
  });
  expect(res.status).toBe(202);
  const id = res.body.operationId;
  await api.waitForPromotion(id, (s) => s.phase === 'awaiting-approval', 'the approval stage');
  return id;
}

/** A fresh dev clone of a fresh dev environment (made by an admin), ready; with a TTL when asked. */
async function readyClone(api: WorkflowApi, ttl?: string): Promise<string> {
  const res = await api.request<{ operationId: string }>('POST', '/v1/clones', { body: await devClone(api, ttl) });
  expect(res.status).toBe(202);
  await api.waitForEnd(res.body.operationId);
  return res.body.operationId;
}
// Each clone its own source: a clone holds its source until it has read it (one change at a time).
const devClone = async (api: WorkflowApi, ttl?: string) => ({
  source: await env(api, 'dev'), name: fresh('clone-dev'), cluster: 'dev-1', tier: 'dev', secrets: { CACHE_URL: 'redis://dev-cache.internal:6379/0' },
  ...(ttl ? { ttl } : {}),
});
const prodClone = async (api: WorkflowApi, mode: 'snapshot' | 'scrubbed') => ({
  source: await env(api, 'prod'), name: fresh(`clone-prod-${mode}`), cluster: 'prod-1', tier: 'prod', data: { 'orders-db': mode },
  secrets: { CACHE_URL: 'redis://prod-copy-cache.internal:6379/0' },
});

/** A nightly compliance clone (scrubbed) of a fresh environment of `tier`, made by an admin. */
const scheduleBody = async (api: WorkflowApi, tier: 'dev' | 'prod', mode: 'scrubbed' | 'snapshot' = 'scrubbed') => ({
  id: fresh(`nightly-${tier}`), every: '24h',
  clone: { source: await env(api, tier), name: fresh(`compliance-${tier}`), cluster: `${tier}-1`, tier, data: { 'orders-db': mode } },
  secrets: { CACHE_URL: 'redis://compliance-cache.internal:6379/0' },
});
async function schedule(api: WorkflowApi, tier: 'dev' | 'prod'): Promise<string> {
  const res = await api.request<{ id: string }>('POST', '/v1/schedules', { body: await scheduleBody(api, tier) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const CASES: Case[] = [
  { name: 'GET /clusters', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/clusters' }) },
  { name: 'GET /clusters/{name}', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/clusters/dev-1' }) },
  { name: 'POST /clusters', allowed: ADMIN, ok: 202, request: async () => ({ method: 'POST', path: '/v1/clusters', body: kubeconfigCluster(fresh('c')) }) },
  { name: 'POST /clusters (tier=prod)', allowed: ADMIN, ok: 202, request: async () => ({ method: 'POST', path: '/v1/clusters', body: kubeconfigCluster(fresh('c'), { tier: 'prod' }) }) },
  { name: 'POST /clusters (tier=dev)', allowed: DEV_ADMINS, ok: 202, request: async () => ({ method: 'POST', path: '/v1/clusters', body: kubeconfigCluster(fresh('c'), { tier: 'dev' }) }) },
  {
    name: 'DELETE /clusters/{name} (tier=dev)', allowed: DEV_ADMINS, ok: 202,
    request: async (api) => {
      const name = fresh('gone-dev');
      await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, { tier: 'dev' }) });
      await api.waitForEnd(`onboard-${name}`);
      return { method: 'DELETE', path: `/v1/clusters/${name}` };
    },
  },
  {
    name: 'DELETE /clusters/{name}', allowed: ADMIN, ok: 202,
    request: async (api) => {
      const name = fresh('gone');
      await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name) });
      await api.waitForEnd(`onboard-${name}`); // offboarding it under its onboarding would fail that workflow
      return { method: 'DELETE', path: `/v1/clusters/${name}` };
    },
  },
  {
    // An offboarded cluster is forgotten.
    name: 'DELETE /clusters/{name} (offboarded)', allowed: ADMIN, ok: 204,
    request: async (api) => {
      const name = fresh('offboarded');
      await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name) });
      await api.waitForEnd(`onboard-${name}`);
      const started = await api.request<{ operationId: string }>('DELETE', `/v1/clusters/${name}`);
      await api.waitForEnd(started.body.operationId);
      return { method: 'DELETE', path: `/v1/clusters/${name}` };
    },
  },
  { name: 'POST /providers/kubeconfig/discover', allowed: ADMIN, ok: 200, request: async () => ({ method: 'POST', path: '/v1/providers/kubeconfig/discover', body: { kubeconfigSecret: 'dev-1-kubeconfig' } }) },
  {
    name: 'POST /providers/kubeconfig/import', allowed: ADMIN, ok: 200,
    request: async (api) => {
      const name = fresh('imported');
      await api.catalog.secrets.put(GLOBAL_SCOPE, `${name}-kubeconfig`, testKubeconfig(name));
      return { method: 'POST', path: '/v1/providers/kubeconfig/import', body: { kubeconfigSecret: `${name}-kubeconfig`, all: true } };
    },
  },
  { name: 'GET /environments', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments' }) },
  { name: 'GET /environments/{name}', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments/base-prod' }) },
  { name: 'GET /environments/{name}/secrets', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments/base-prod/secrets' }) },
  { name: 'GET /environments/{name}/revisions', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments/base-prod/revisions' }) },
  { name: 'GET /applications', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/applications' }) },
  { name: 'GET /applications/{name}', allowed: ALL, ok: 200, request: async (api) => ({ method: 'GET', path: `/v1/applications/${await application(api)}` }) },
  // An application nobody uses: any operator (it changes no environment of any tier).
  { name: 'DELETE /applications/{name}', allowed: OPERATORS, ok: 204, request: async (api) => ({ method: 'DELETE', path: `/v1/applications/${await application(api)}` }) },
  ...(['dev', 'prod'] as const).map((tier): Case => ({
    name: `POST /environments/{name}/copies (${tier})`, allowed: tier === 'dev' ? OPERATORS : UNSCOPED_OPERATORS, ok: 201,
    request: async (api) => {
      const source = await env(api, tier);
      const { currentRevision } = await api.catalog.environments.require(source);
      await api.catalog.environments.markDeployed(source, { revision: currentRevision!, by: 'matrix' });
      return { method: 'POST', path: `/v1/environments/${source}/copies`, body: { name: fresh(`copy-${tier}`), cluster: `${tier}-1` } };
    },
  })),
  ...(['stop', 'start'] as const).flatMap((action) => (['dev', 'prod'] as const).map((tier): Case => ({
    name: `POST /environments/{name}/${action} (${tier})`, allowed: tier === 'dev' ? OPERATORS : UNSCOPED_OPERATORS, ok: 202,
    request: async (api) => {
      const name = await env(api, tier);
      const { currentRevision } = await api.catalog.environments.require(name);
      await api.catalog.environments.markDeployed(name, { revision: currentRevision!, by: 'matrix' });
      if (action === 'start') await api.catalog.environments.setStopped(name, { at: new Date().toISOString(), by: 'matrix', operationId: 'stop-matrix', replicas: {} });
      return { method: 'POST', path: `/v1/environments/${name}/${action}`, body: {} };
    },
  }))),
  { name: 'GET /environments/{a}/diff/{b}', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments/base-dev/diff/base-prod' }) },
  { name: 'GET /environments/{name}/status', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments/base-prod/status' }) },
  { name: 'GET /fleet', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/fleet' }) },
  { name: 'GET /me', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/me' }) },
  { name: 'GET /events', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/events?timeout=1' }) },
  { name: 'GET /drift', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/drift' }) },
  // Logs, unlike other reads, are bound by a token's tiers. The clusters here cannot be reached:
  // the answer is still 200, with an error event for the cluster (test/unit/api/logs.test.ts).
  { name: 'GET /environments/{name}/logs (dev)', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments/base-dev/logs' }) },
  { name: 'GET /environments/{name}/logs (prod)', allowed: UNSCOPED_READERS, ok: 200, request: async () => ({ method: 'GET', path: '/v1/environments/base-prod/logs?scope=application' }) },
  { name: 'POST /environments (dev)', allowed: OPERATORS, ok: 201, request: async () => ({ method: 'POST', path: '/v1/environments', body: shopEnvironment({ name: fresh('new-dev'), tier: 'dev', cluster: 'dev-1' }) }) },
  { name: 'POST /environments (prod)', allowed: UNSCOPED_OPERATORS, ok: 201, request: async () => ({ method: 'POST', path: '/v1/environments', body: shopEnvironment({ name: fresh('new-prod'), tier: 'prod', cluster: 'prod-1' }) }) },
  ...(['dev', 'prod'] as const).flatMap((tier): Case[] => {
    const allowed = tier === 'dev' ? OPERATORS : UNSCOPED_OPERATORS;
    return [
      {
        name: `PUT /environments/{name}/spec (${tier})`, allowed, ok: 200,
        request: async (api) => ({ method: 'PUT', path: `/v1/environments/${await env(api, tier)}/spec`, body: (shopEnvironment() as { spec: { app: unknown } }).spec.app }),
      },
      {
        name: `PUT /environments/{name}/overrides (${tier})`, allowed, ok: 200,
        request: async (api) => ({ method: 'PUT', path: `/v1/environments/${await env(api, tier)}/overrides`, body: { replicas: { web: 4 } } }),
      },
      {
        name: `PUT /environments/{name}/secrets/{secret} (${tier})`, allowed, ok: 204,
        request: async (api) => ({ method: 'PUT', path: `/v1/environments/${await env(api, tier)}/secrets/STRIPE_KEY`, body: { value: 'sk_matrix' } }),
      },
      {
        name: `DELETE /environments/{name}/secrets/{secret} (${tier})`, allowed, ok: 204,
        request: async (api) => {
          const name = await env(api, tier);
          await api.catalog.secrets.put(`environment/${name}`, 'STRIPE_KEY', 'sk_matrix');
          return { method: 'DELETE', path: `/v1/environments/${name}/secrets/STRIPE_KEY` };
        },
      },
      { name: `POST /environments/{name}/deploy (${tier})`, allowed, ok: 202, request: async (api) => ({ method: 'POST', path: `/v1/environments/${await env(api, tier)}/deploy` }) },
      { name: `DELETE /environments/{name} (${tier})`, allowed, ok: 202, request: async (api) => ({ method: 'DELETE', path: `/v1/environments/${await env(api, tier)}` }) },
      {
        name: `POST /apply Environment (${tier})`, allowed, ok: 200,
        request: async () => ({ method: 'POST', path: '/v1/apply', raw: JSON.stringify(shopEnvironment({ name: fresh(`apply-${tier}`), tier, cluster: `${tier}-1` })), headers: { 'content-type': 'application/json' } }),
      },
    ];
  }),
  // Uploads deploy nothing: any operator, scoped or not (naming one in a spec is what tiers bind).
  {
    name: 'POST /charts', allowed: OPERATORS, ok: 201,
    request: async () => ({ method: 'POST', path: '/v1/charts', body: { archive: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, ...Buffer.from(fresh('chart'))]).toString('base64') } }),
  },
  {
    name: 'POST /bundles', allowed: OPERATORS, ok: 201,
    request: async () => ({ method: 'POST', path: '/v1/bundles', headers: { 'content-type': 'application/yaml' }, raw: `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${fresh('bundle')} }\n` }),
  },
  {
    name: 'POST /apply Cluster', allowed: ADMIN, ok: 200,
    request: async () => ({
      method: 'POST', path: '/v1/apply', headers: { 'content-type': 'application/yaml' },
      raw: `apiVersion: flotilla.dev/v1\nkind: Cluster\nmetadata: { name: ${fresh('applied')} }\nspec:\n  connection: { provider: kubeconfig, kubeconfigSecret: dev-1-kubeconfig }\n`,
    }),
  },
  {
    name: 'POST /apply Cluster (tier=dev)', allowed: DEV_ADMINS, ok: 200,
    request: async () => ({
      method: 'POST', path: '/v1/apply', headers: { 'content-type': 'application/yaml' },
      raw: `apiVersion: flotilla.dev/v1\nkind: Cluster\nmetadata: { name: ${fresh('applied-dev')} }\nspec:\n  labels: { tier: dev }\n  connection: { provider: kubeconfig, kubeconfigSecret: dev-1-kubeconfig }\n`,
    }),
  },
  { name: 'GET /rules', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/rules' }) },
  // Each request changes the current rules, so a refusal is about who asks, never about a no-op.
  {
    name: 'PUT /rules (organisation-wide)', allowed: ADMIN, ok: 200,
    request: async (api) => {
      const { rules } = await api.catalog.rules.current();
      return { method: 'PUT', path: '/v1/rules', body: { ...rules, maxClustersPerChange: { max: (rules.maxClustersPerChange?.max ?? 100) + 1 } } };
    },
  },
  {
    name: 'PUT /rules (dev approvals only)', allowed: DEV_ADMINS, ok: 200,
    request: async (api) => {
      const { rules } = await api.catalog.rules.current();
      return { method: 'PUT', path: '/v1/rules', body: { ...rules, approvals: { ...rules.approvals, dev: { required: ((rules.approvals.dev?.required ?? 0) % 3) + 1, fourEyes: true } } } };
    },
  },
  {
    name: 'PUT /rules (prod approvals)', allowed: ADMIN, ok: 200,
    request: async (api) => {
      const { rules } = await api.catalog.rules.current();
      return { method: 'PUT', path: '/v1/rules', body: { ...rules, approvals: { ...rules.approvals, prod: { required: 1, fourEyes: !(rules.approvals.prod?.fourEyes ?? false) } } } };
    },
  },
  { name: 'POST /tokens', allowed: ADMIN, ok: 201, request: async () => ({ method: 'POST', path: '/v1/tokens', body: { name: fresh('t'), role: 'viewer' } }) },
  { name: 'POST /tokens (dev)', allowed: DEV_ADMINS, ok: 201, request: async () => ({ method: 'POST', path: '/v1/tokens', body: { name: fresh('t'), role: 'viewer', tiers: ['dev'] } }) },
  {
    name: 'DELETE /tokens/{id}', allowed: ADMIN, ok: 200,
    request: async (api) => {
      const { record } = await api.catalog.tokens.create({ name: fresh('revoke-me'), role: 'viewer' });
      return { method: 'DELETE', path: `/v1/tokens/${record.id}` };
    },
  },
  { name: 'GET /audit', allowed: DEV_ADMINS, ok: 200, request: async () => ({ method: 'GET', path: '/v1/audit' }) },
  // The Temporal payload codec: decrypting needs an unscoped release-manager or admin, encrypting an unscoped admin.
  {
    name: 'POST /codec/decode', allowed: RELEASE, ok: 200,
    request: async (api) => {
      const [p] = await api.codec.codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"matrix"') }]);
      const json = { metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(p!.data!).toString('base64') };
      return { method: 'POST', path: '/v1/codec/decode', body: { payloads: [json] } };
    },
  },
  {
    name: 'POST /codec/encode', allowed: ADMIN, ok: 200,
    request: async () => ({ method: 'POST', path: '/v1/codec/encode', body: { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"matrix"').toString('base64') }] } }),
  },
  { name: 'GET /operations', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/operations' }) },
  { name: 'GET /operations/{id}', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/operations/onboard-dev-1' }) },
  {
    // A fresh target each time: a running promotion holds its targets.
    name: 'POST /promotions', allowed: RELEASE, ok: 202,
    request: async (api) => ({ method: 'POST', path: '/v1/promotions', body: { source: 'base-dev', stages: [{ name: 'prod', targets: [await env(api, 'prod')] }] } }),
  },
  { name: 'GET /promotions/{id}', allowed: ALL, ok: 200, request: async (api) => ({ method: 'GET', path: `/v1/promotions/${await promotion(api)}` }) },
  ...(['approve', 'reject'] as const).map((what): Case => ({
    name: `POST /promotions/{id}/${what}`, allowed: RELEASE, ok: 200,
    request: async (api) => ({ method: 'POST', path: `/v1/promotions/${await promotion(api)}/${what}`, body: { comment: 'matrix' } }),
  })),
  ...(['pause', 'resume', 'cancel'] as const).map((what): Case => ({
    name: `POST /promotions/{id}/${what}`, allowed: RELEASE, ok: 202,
    request: async (api) => ({ method: 'POST', path: `/v1/promotions/${await promotion(api)}/${what}` }),
  })),
  // The generic decision routes (promotions and teardowns): who may approve promotions.
  ...(['approve', 'reject'] as const).map((what): Case => ({
    name: `POST /operations/{id}/${what}`, allowed: RELEASE, ok: 200,
    request: async (api) => ({ method: 'POST', path: `/v1/operations/${await promotion(api)}/${what}`, body: { comment: 'matrix' } }),
  })),
  // A native cancel of a promotion: who may control promotions.
  { name: 'POST /operations/{id}/cancel', allowed: RELEASE, ok: 202, request: async (api) => ({ method: 'POST', path: `/v1/operations/${await promotion(api)}/cancel`, body: { reason: 'matrix' } }) },
  { name: 'POST /clones (dev, no data)', allowed: OPERATORS, ok: 202, request: async (api) => ({ method: 'POST', path: '/v1/clones', body: await devClone(api) }) },
  { name: 'POST /clones (prod, scrubbed data)', allowed: UNSCOPED_OPERATORS, ok: 202, request: async (api) => ({ method: 'POST', path: '/v1/clones', body: await prodClone(api, 'scrubbed') }) },
  { name: 'POST /clones (prod, snapshot data)', allowed: RELEASE, ok: 202, request: async (api) => ({ method: 'POST', path: '/v1/clones', body: await prodClone(api, 'snapshot') }) },
  { name: 'GET /clones', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/clones' }) },
  { name: 'GET /clones/{id}', allowed: ALL, ok: 200, request: async (api) => ({ method: 'GET', path: `/v1/clones/${await readyClone(api)}` }) },
  { name: 'DELETE /clones/{id}', allowed: OPERATORS, ok: 202, request: async (api) => ({ method: 'DELETE', path: `/v1/clones/${await readyClone(api)}` }) },
  {
    name: 'POST /drills', allowed: OPERATORS, ok: 202,
    request: async (api) => {
      const { source, secrets } = await devClone(api);
      return { method: 'POST', path: '/v1/drills', body: { source, cluster: 'dev-1', tier: 'dev', secrets, objectives: { rtoSeconds: 3600 } } };
    },
  },
  { name: 'GET /drills', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/drills' }) },
  {
    name: 'GET /drills/{id}', allowed: ALL, ok: 200,
    request: async (api) => {
      const { source, secrets } = await devClone(api);
      const res = await api.request<{ operationId: string }>('POST', '/v1/drills', { body: { source, cluster: 'dev-1', tier: 'dev', secrets } });
      expect(res.status).toBe(202);
      await api.waitForEnd(res.body.operationId);
      return { method: 'GET', path: `/v1/drills/${res.body.operationId}` };
    },
  },
  { name: 'POST /schedules (dev, scrubbed)', allowed: OPERATORS, ok: 201, request: async (api) => ({ method: 'POST', path: '/v1/schedules', body: await scheduleBody(api, 'dev') }) },
  { name: 'POST /schedules (prod, scrubbed)', allowed: UNSCOPED_OPERATORS, ok: 201, request: async (api) => ({ method: 'POST', path: '/v1/schedules', body: await scheduleBody(api, 'prod') }) },
  { name: 'POST /schedules (prod, snapshot)', allowed: RELEASE, ok: 201, request: async (api) => ({ method: 'POST', path: '/v1/schedules', body: await scheduleBody(api, 'prod', 'snapshot') }) },
  { name: 'GET /schedules', allowed: ALL, ok: 200, request: async () => ({ method: 'GET', path: '/v1/schedules' }) },
  { name: 'GET /schedules/{id}', allowed: ALL, ok: 200, request: async (api) => ({ method: 'GET', path: `/v1/schedules/${await schedule(api, 'prod')}` }) },
  ...(['pause', 'unpause', 'trigger'] as const).flatMap((what): Case[] => [
    { name: `POST /schedules/{id}/${what} (dev)`, allowed: OPERATORS, ok: 200, request: async (api) => ({ method: 'POST', path: `/v1/schedules/${await schedule(api, 'dev')}/${what}`, body: {} }) },
    { name: `POST /schedules/{id}/${what} (prod)`, allowed: UNSCOPED_OPERATORS, ok: 200, request: async (api) => ({ method: 'POST', path: `/v1/schedules/${await schedule(api, 'prod')}/${what}`, body: {} }) },
  ]),
  { name: 'DELETE /schedules/{id} (dev)', allowed: OPERATORS, ok: 204, request: async (api) => ({ method: 'DELETE', path: `/v1/schedules/${await schedule(api, 'dev')}` }) },
  { name: 'DELETE /schedules/{id} (prod)', allowed: UNSCOPED_OPERATORS, ok: 204, request: async (api) => ({ method: 'DELETE', path: `/v1/schedules/${await schedule(api, 'prod')}` }) },
  {
    name: 'POST /clones/{id}/ttl', allowed: OPERATORS, ok: 200,
    request: async (api) => ({ method: 'POST', path: `/v1/clones/${await readyClone(api, '2h')}/ttl`, body: { extend: '3h' } }),
  },
];

describe('authorisation matrix', { timeout: 30_000 }, () => {
  let api: WorkflowApi;
  const tokens = {} as Record<Who, string>;
  beforeAll(async () => {
    api = await startWorkflowApi();
    for (const role of ['viewer', 'operator', 'release-manager'] as Role[]) tokens[role as Who] = await api.token(role);
    tokens.admin = api.admin;
    tokens['dev-operator'] = await api.token('operator', ['dev'], 'dev-operator');
    tokens['dev-admin'] = await api.token('admin', ['dev'], 'dev-admin');
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('dev-1', { tier: 'dev' }) })).status).toBe(202);
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('prod-1', { tier: 'prod' }) })).status).toBe(202);
    for (const [name, tier] of [['base-dev', 'dev'], ['base-prod', 'prod']] as const) {
      expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier, cluster: `${tier}-1` }) })).status).toBe(201);
    }
  }, 120_000);
  afterAll(() => api?.close());

  for (const c of CASES) {
    it(c.name, async () => {
      const got: Record<string, number> = {};
      const want: Record<string, number> = {};
      for (const who of WHO) {
        const req = await c.request(api, seq);
        const res = await api.request(req.method, req.path, { token: tokens[who], body: req.body, raw: req.raw, headers: req.headers });
        got[who] = res.status;
        want[who] = c.allowed.includes(who) ? c.ok : 403;
      }
      expect(got).toEqual(want);
    });
  }

  it('has a case for every route of the OpenAPI document', async () => {
    const doc = (await api.request<{ paths: Record<string, Record<string, unknown>> }>('GET', '/v1/openapi.json')).body;
    const covered = new Set(CASES.map((c) => c.name.split(' (')[0]!.replace(/ (Environment|Cluster)$/, '').replace('{a}/diff/{b}', '{name}/diff/{other}').replace('/providers/kubeconfig/', '/providers/{provider}/')));
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/^\/v1/, '')}`));
    expect(routes.filter((r) => !covered.has(r) && !['GET /openapi.json', 'GET /healthz'].includes(r))).toEqual([]);
  });

  describe('no escalation', () => {
    it('a dev-scoped admin can neither re-point nor re-label a prod cluster (apply of a Cluster document), nor delete it', async () => {
      const before = await api.catalog.clusters.require('prod-1');
      for (const labels of ['{ tier: prod }', '{ tier: dev }']) {
        const res = await api.request('POST', '/v1/apply', {
          token: tokens['dev-admin'], headers: { 'content-type': 'application/yaml' },
          raw: `apiVersion: flotilla.dev/v1\nkind: Cluster\nmetadata: { name: prod-1 }\nspec:\n  labels: ${labels}\n  connection: { provider: kubeconfig, kubeconfigSecret: dev-1-kubeconfig }\n`,
        });
        expect(res.status).toBe(403);
      }
      expect((await api.request('DELETE', '/v1/clusters/prod-1', { token: tokens['dev-admin'] })).status).toBe(403);
      expect(await api.catalog.clusters.require('prod-1')).toEqual(before);
    });

    it('a dev-scoped admin reads the audit of its tier only', async () => {
      const res = await api.request<{ items: { target: string; actor: string }[] }>('GET', '/v1/audit?limit=500', { token: tokens['dev-admin'] });
      expect(res.status).toBe(200);
      expect(res.body.items.some((e) => e.target.startsWith('environment/env-dev-'))).toBe(true);
      const prodOrOrganisation = (t: string) => t === 'environment/base-prod' || t.startsWith('environment/env-prod-') || t === 'rules/organisation' || t === 'cluster/prod-1';
      // Only its own attempts on those (refused, audited as denied) are its to see.
      expect(res.body.items.filter((e) => prodOrOrganisation(e.target) && e.actor !== 'dev-admin')).toEqual([]);
      const everything = await api.request<{ items: unknown[] }>('GET', '/v1/audit?limit=500');
      expect(everything.body.items.length).toBeGreaterThan(res.body.items.length);
    });

    it('a dev-scoped viewer reads dev logs but no prod logs, neither directly nor across the application', async () => {
      const devViewer = await api.token('viewer', ['dev'], 'dev-viewer');
      expect((await api.request('GET', '/v1/environments/base-dev/logs', { token: devViewer })).status).toBe(200);
      for (const query of ['', '?scope=application', '?service=web&follow=true']) {
        const res = await api.request<{ error: { message: string } }>('GET', `/v1/environments/base-prod/logs${query}`, { token: devViewer });
        expect(res.status, query).toBe(403);
        expect(res.body.error.message).toBe('this token may read tiers dev only, not prod');
      }
      // Its other reads of prod are not bound by the scope.
      expect((await api.request('GET', '/v1/environments/base-prod', { token: devViewer })).status).toBe(200);
    });

    it('an operator cannot create any token, least of all an admin one', async () => {
      const res = await api.request('POST', '/v1/tokens', { token: tokens.operator, body: { name: 'sneaky', role: 'admin' } });
      expect(res.status).toBe(403);
      expect((await api.catalog.tokens.list()).some((t) => t.name === 'sneaky')).toBe(false);
    });

    it('a dev-scoped admin can make dev tokens only, and cannot revoke wider ones', async () => {
      const scopedAdmin = await api.token('admin', ['dev']);
      expect((await api.request('POST', '/v1/tokens', { token: scopedAdmin, body: { name: 'wide', role: 'operator' } })).status).toBe(403);
      expect((await api.request('POST', '/v1/tokens', { token: scopedAdmin, body: { name: 'wider', role: 'operator', tiers: ['dev', 'prod'] } })).status).toBe(403);
      expect((await api.request('POST', '/v1/tokens', { token: scopedAdmin, body: { name: 'narrow', role: 'operator', tiers: ['dev'] } })).status).toBe(201);
      const adminId = (await api.catalog.tokens.list()).find((t) => t.name === 'test-admin')!.id;
      expect((await api.request('DELETE', `/v1/tokens/${adminId}`, { token: scopedAdmin })).status).toBe(403);
    });

    it('a dev-scoped operator cannot deploy prod, nor move an environment to prod through apply', async () => {
      expect((await api.request('POST', '/v1/environments/base-prod/deploy', { token: tokens['dev-operator'] })).status).toBe(403);
      const res = await api.request('POST', '/v1/apply', {
        token: tokens['dev-operator'], headers: { 'content-type': 'application/json' },
        raw: JSON.stringify(shopEnvironment({ name: 'base-dev', tier: 'prod', cluster: 'prod-1' })),
      });
      expect(res.status).toBe(403);
      expect((await api.catalog.environments.require('base-dev')).binding.tier).toBe('dev');
    });

    it('an operator cannot promote; a release-manager scoped to dev,staging cannot promote into prod, nor steer a prod promotion', async () => {
      const body = { source: 'base-dev', stages: [{ name: 'prod', targets: ['base-prod'] }] };
      expect((await api.request('POST', '/v1/promotions', { token: tokens.operator, body })).status).toBe(403);
      const scoped = await api.token('release-manager', ['dev', 'staging'], 'scoped-rm');
      const res = await api.request<{ error: { message: string } }>('POST', '/v1/promotions', { token: scoped, body });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('not prod');
      const id = await promotion(api);
      for (const what of ['approve', 'reject', 'pause', 'resume', 'cancel']) {
        expect((await api.request('POST', `/v1/promotions/${id}/${what}`, { token: scoped })).status, what).toBe(403);
      }
      expect((await api.request('GET', `/v1/promotions/${id}`, { token: scoped })).status).toBe(200);
    });

    it('every refusal is in the audit log as denied', async () => {
      const denied = await api.catalog.audit.query({ result: 'denied', limit: 500 });
      expect(denied.items.length).toBeGreaterThan(20);
      expect(denied.items.some((e) => e.actor === 'dev-operator' && e.action === 'environment.deploy' && e.target === 'environment/base-prod')).toBe(true);
    });
  });
});
