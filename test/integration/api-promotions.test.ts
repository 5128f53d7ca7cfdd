// Promotions through the HTTP API on the real dev server, an in-process worker and two real
// clusters: the requester's approval is refused (four eyes), a viewer's too (403), another
// release-manager's is accepted, the promotion completes, and kubectl shows the target at the
// new revision with its own overrides (and as its desired revision). While it runs, its target
// is held: a deploy of it is refused with 409 naming the promotion. A second promotion is
// rejected: the workflow completes with that outcome, and the operations index says so.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABEL } from '../../domain/labels.js';
import { shortRevision } from '../../domain/revision.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import type { PromotionState } from '../../workflows/messages.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { createEnvironments, deployAll, liveObjects, setSpec, shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const toolchain = inject('toolchain');
const [a, b] = inject('clusters') as [ReturnType<typeof inject<'clusters'>>[number], ReturnType<typeof inject<'clusters'>>[number]];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `api-promotions-${run}`;
const staging = `shop-staging-${run}`;
const prod = `shop-prod-${run}`;

type ErrorBody = { error: { code: string; message: string } };

describe('promotions through the API', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  const tokens = { alice: '', bob: '', vera: '' };
  let v2: string;

  beforeAll(async () => {
    tc = await testCatalog([a, b]);
    client = await tierClient();
    worker = await runFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }),
    });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    tokens.alice = (await tc.catalog.tokens.create({ name: 'alice', role: 'release-manager' })).token;
    tokens.bob = (await tc.catalog.tokens.create({ name: 'bob', role: 'release-manager' })).token;
    tokens.vera = (await tc.catalog.tokens.create({ name: 'vera', role: 'viewer' })).token;

    await tc.catalog.rules.put({ approvals: { prod: { required: 1, fourEyes: true } } }, { by: 'admin' });
    await createEnvironments(tc.catalog, [
      { name: staging, tier: 'staging', cluster: a.name },
      { name: prod, tier: 'prod', cluster: b.name, overrides: { replicas: { web: 3 } } },
    ], shopSpec('1.0.0'));
    await deployAll(client, taskQueue, [staging, prod], 'v1');
    v2 = await setSpec(tc.catalog, staging, shopSpec('2.0.0'));
    await deployAll(client, taskQueue, [staging], 'v2');
  });
  afterAll(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
  });

  const get = async (id: string) => (await api.request<PromotionState & { workflowStatus?: string }>('GET', `/v1/promotions/${id}`, { token: tokens.vera })).body;
  const phase = (id: string, wanted: string) => until(`${id} ${wanted}`, async () => (await get(id)).phase === wanted);

  it('refuses the requester (four eyes) and a viewer, accepts another release-manager, and completes at the new revision', async () => {
    const started = await api.request<{ operationId: string }>('POST', '/v1/promotions', {
      token: tokens.alice, body: { source: staging, stages: [{ name: 'prod', targets: [prod] }], rolloutTimeoutSeconds: 120 },
    });
    expect(started.status).toBe(202);
    const id = started.body.operationId;
    expect(id).toBe(`promote-${staging}-${shortRevision(v2)}-1`);
    expect(started.headers.get('location')).toBe(`/v1/promotions/${id}`);
    await phase(id, 'awaiting-approval');

    // One change at a time: prod is the promotion's until it ends.
    const busy = await api.request<ErrorBody>('POST', `/v1/environments/${prod}/deploy`, { token: tokens.alice });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatchObject({ code: 'environment_busy', message: `environment "${prod}" is being changed by operation "${id}"` });

    const self = await api.request<ErrorBody>('POST', `/v1/promotions/${id}/approve`, { token: tokens.alice });
    expect(self.status).toBe(403);
    expect(self.body.error).toEqual({ code: 'four_eyes', message: 'four eyes: alice requested this promotion and cannot also approve it' });
    expect((await api.request('POST', `/v1/promotions/${id}/approve`, { token: tokens.vera })).status).toBe(403);
    const ok = await api.request<PromotionState>('POST', `/v1/promotions/${id}/approve`, { token: tokens.bob, body: { comment: 'ship it' } });
    expect(ok.status).toBe(200);
    expect(ok.body.id).toBe(id);

    await phase(id, 'completed');
    const final = await get(id);
    expect(final.stages[0]!.approval).toMatchObject({ approvedBy: 'bob', comment: 'ship it', fourEyes: true });
    expect(final).toMatchObject({ source: staging, revision: v2, requestedBy: 'alice', workflowStatus: 'COMPLETED', outcome: 'completed' });
    expect(final.stages[0]!.targets).toMatchObject([{ environment: prod, cluster: b.name, tier: 'prod', phase: 'succeeded' }]);
    expect((await api.request<{ state: string; outcome?: string }>('GET', `/v1/operations/${id}`)).body).toMatchObject({ state: 'completed', outcome: 'completed' });
    // Nothing waits any more: a late decision is a conflict.
    expect((await api.request('POST', `/v1/promotions/${id}/approve`, { token: tokens.bob })).status).toBe(409);
    // Prod's desired revision is the promoted one (a plain deploy would keep it), and prod is free again.
    const prodView = await api.request<{ currentRevision: string; deployed: { revision: string } }>('GET', `/v1/environments/${prod}`, { token: tokens.vera });
    expect(prodView.body).toMatchObject({ currentRevision: v2, deployed: { revision: v2 } });
    expect(await tc.catalog.locks.heldBy([prod])).toEqual([]);

    const deployments = (await liveObjects(toolchain.kubectl, b.kubeconfigPath, prod)).filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => `${d.metadata.name}@${d.metadata.labels?.[LABEL.revision]}`).sort()).toEqual([`api@${shortRevision(v2)}`, `web@${shortRevision(v2)}`]);
    const web = deployments.find((d) => d.metadata.name === 'web')!;
    expect(web.spec?.template?.spec?.containers?.[0]?.image).toBe('ghcr.io/acme/web:2.0.0');
    expect(web.spec?.replicas).toBe(3);

    const audit = (await tc.catalog.audit.query({ target: `promotion/${id}`, action: 'promotion.approve', limit: 20 })).items;
    expect(audit.map((e) => `${e.actor}:${e.result}`).sort()).toEqual(['alice:denied', 'bob:error', 'bob:ok', 'vera:denied']);
  });

  it('a rejected promotion ends as rejected: the workflow completes with that outcome, and the operations index says so', async () => {
    const started = await api.request<{ operationId: string }>('POST', '/v1/promotions', {
      token: tokens.alice, body: { source: staging, stages: [{ name: 'prod', targets: [prod], approval: true }] },
    });
    const id = started.body.operationId;
    expect(id).toBe(`promote-${staging}-${shortRevision(v2)}-2`);
    await phase(id, 'awaiting-approval');
    const rejected = await api.request<PromotionState>('POST', `/v1/promotions/${id}/reject`, { token: tokens.bob, body: { comment: 'not now' } });
    expect(rejected.status).toBe(200);
    await phase(id, 'rejected');
    const final = await get(id);
    expect(final.stages[0]!.approval).toMatchObject({ rejectedBy: 'bob', comment: 'not now' });
    // Rejected is how it ended, not a failure of Flotilla: the workflow completed.
    expect(final).toMatchObject({ outcome: 'rejected', message: 'stage "prod" rejected by bob: not now' });
    await until(`${id} closed`, async () => (await get(id)).workflowStatus === 'COMPLETED');
    const op = await api.request<{ state: string; outcome?: string; message?: string; temporal?: { status: string } }>('GET', `/v1/operations/${id}`);
    expect(op.body).toMatchObject({ state: 'completed', outcome: 'rejected', message: 'stage "prod" rejected by bob: not now', temporal: { status: 'COMPLETED' } });
    // The index filters by outcome; a rejection is not listed as a failure.
    const byOutcome = await api.request<{ items: { id: string }[] }>('GET', `/v1/operations?kind=promotion&outcome=rejected`);
    expect(byOutcome.body.items.map((o) => o.id)).toEqual([id]);
    const failed = await api.request<{ items: { id: string }[] }>('GET', `/v1/operations?kind=promotion&state=failed`);
    expect(failed.body.items.map((o) => o.id)).not.toContain(id);
    expect((await api.request<ErrorBody>('POST', `/v1/promotions/${id}/cancel`, { token: tokens.bob })).status).toBe(409);
    // Nothing changed in prod; it is free again.
    expect(await tc.catalog.environments.require(prod)).toMatchObject({ currentRevision: v2, deployed: { revision: v2 } });
    expect(await tc.catalog.locks.heldBy([prod])).toEqual([]);
  });
});
