// /v1/promotions over a real SQLite catalog, with a starter that plays the promote workflow's
// messages: what starts (id, input, operation record), refusals (404, 400, 403 by role and tier
// scope, 422 by rules), approvals (four eyes, roles, nothing waiting), signals, and the audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapRejection } from '../../../api/services/promotions.js';
import { UpdateRejectedError } from '../../../api/starter.js';
import type { PromotionState } from '../../../workflows/messages.js';
import type { PromoteInput } from '../../../workflows/promote-types.js';
import { kubeconfigCluster, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { PromotionStarter } from '../../support/promotion-starter.js';

type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };

describe('/v1/promotions', () => {
  let api: TestApi;
  let starter: PromotionStarter;
  let alice: string; // release-manager, the requester
  let bob: string; // release-manager, the approver
  let viewer: string;
  let operator: string;
  let scoped: string; // release-manager for dev and staging only
  let revision: string;

  beforeAll(async () => {
    starter = new PromotionStarter();
    api = await startTestApi({ operations: starter });
    starter.lookup = async (name) => {
      const env = await api.catalog.environments.require(name);
      return { tier: env.binding.tier, cluster: env.binding.cluster };
    };
    alice = await api.token('release-manager', undefined, 'alice');
    bob = await api.token('release-manager', undefined, 'bob');
    viewer = await api.token('viewer', undefined, 'vera');
    operator = await api.token('operator', undefined, 'otto');
    scoped = await api.token('release-manager', ['dev', 'staging'], 'sam');
    for (const [name, tier] of [['dev-1', 'dev'], ['prod-1', 'prod'], ['prod-2', 'prod']] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, { tier }) })).status).toBe(202);
    }
    const envs = [['shop-dev', 'dev', 'dev-1'], ['shop-staging', 'staging', 'dev-1'], ['shop-staging-2', 'staging', 'dev-1'], ['shop-prod', 'prod', 'prod-1'], ['shop-prod-eu', 'prod', 'prod-2']] as const;
    for (const [name, tier, cluster] of envs) {
      expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier, cluster }) })).status).toBe(201);
    }
    const other = shopEnvironment({ name: 'blog-prod', tier: 'prod', cluster: 'prod-1' }) as { spec: { application: string } };
    other.spec.application = 'blog';
    expect((await api.request('POST', '/v1/environments', { body: other })).status).toBe(201);
    revision = (await api.catalog.environments.require('shop-staging')).currentRevision!;
  });
  afterAll(() => api.close());

  const promote = (body: unknown, token = alice) => api.request<{ operationId: string } & ErrorBody>('POST', '/v1/promotions', { token, body });
  const twoStages = { source: 'shop-staging', stages: [{ name: 'eu', targets: ['shop-prod-eu'], approval: true }, { name: 'us', targets: ['shop-prod'], maxParallel: 1, soakSeconds: 30 }] };

  describe('POST /v1/promotions', () => {
    it('starts promote with a business-key id, the resolved revision and the caller as requester, and records the operation', async () => {
      const res = await promote({ ...twoStages, failurePolicy: 'pause', approvalTimeoutSeconds: 600 });
      expect(res.status, res.text).toBe(202);
      const id = res.body.operationId;
      expect(id).toBe(`promote-shop-staging-${revision.slice('sha256:'.length, 'sha256:'.length + 12)}-1`);
      expect(res.headers.get('location')).toBe(`/v1/promotions/${id}`);
      const call = starter.calls.find((c) => c.workflowId === id)!;
      expect(call.workflowType).toBe('promote');
      expect(call.args).toEqual([{ ...twoStages, failurePolicy: 'pause', approvalTimeoutSeconds: 600, revision, requestedBy: 'alice' } satisfies PromoteInput]);
      expect(await api.catalog.operations.require(id)).toMatchObject({
        kind: 'promotion', state: 'running', requestedBy: 'alice',
        environments: expect.arrayContaining(['shop-staging', 'shop-prod', 'shop-prod-eu']),
        clusters: expect.arrayContaining(['prod-1', 'prod-2']),
      });
      expect((await api.catalog.operations.require(id)).clusters).not.toContain('dev-1');
      // The next promotion of the same revision counts on.
      const again = await promote({ source: 'shop-staging', stages: [{ name: 'dev', targets: ['shop-dev'] }] });
      expect(again.body.operationId).toBe(id.replace(/-1$/, '-2'));
      // The first still waits for approval and holds its targets: another change to them is refused, naming it.
      const busy = await promote({ source: 'shop-staging', stages: [{ name: 'us', targets: ['shop-prod'] }] });
      expect(busy.status).toBe(409);
      expect(busy.body.error).toMatchObject({ code: 'environment_busy', message: `environment "shop-prod" is being changed by operation "${id}"` });
      const deploy = await api.request<ErrorBody>('POST', '/v1/environments/shop-prod-eu/deploy', { token: alice });
      expect(deploy.status).toBe(409);
      expect(deploy.body.error.message).toContain(id);
      // Once it has ended, they are free again.
      expect((await api.request('POST', `/v1/promotions/${id}/cancel`, { token: bob })).status).toBe(202);
    });

    it('answers 404 naming an unknown source or target', async () => {
      const res = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['shop-prod', 'shop-nowhere'] }] });
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('"shop-nowhere"');
      expect(res.body.error.details).toEqual([{ path: 'stages[0].targets[1]', message: 'no such environment' }]);
      const source = await promote({ source: 'shop-gone', stages: [{ name: 'prod', targets: ['shop-prod'] }] });
      expect(source.status).toBe(404);
      expect(source.body.error.message).toContain('"shop-gone"');
    });

    it('answers 400 for a target that is the source, a repeated target or stage, or another application', async () => {
      const self = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['shop-prod', 'shop-staging'] }] });
      expect(self.status).toBe(400);
      expect(self.body.error.details).toContainEqual({ path: 'stages[0].targets[1]', message: expect.stringContaining('is the source') });
      const twice = await promote({ source: 'shop-staging', stages: [{ name: 'a', targets: ['shop-prod'] }, { name: 'a', targets: ['shop-prod'] }] });
      expect(twice.status).toBe(400);
      expect(twice.body.error.details?.map((d) => d.path)).toEqual(['stages[1].name', 'stages[1].targets[0]']);
      const blog = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['blog-prod'] }] });
      expect(blog.status).toBe(400);
      expect(blog.body.error.details?.[0]?.message).toContain('application "blog"');
    });

    it('validates the body: empty stages, bad numbers, unknown fields, a caller-supplied requestedBy', async () => {
      for (const [body, path] of [
        [{ source: 'shop-staging', stages: [] }, 'stages'],
        [{ source: 'shop-staging', stages: [{ name: 'p', targets: [] }] }, 'stages[0].targets'],
        [{ source: 'shop-staging', stages: [{ name: 'p', targets: ['shop-prod'], maxParallel: 0 }] }, 'stages[0].maxParallel'],
        [{ source: 'shop-staging', stages: [{ name: 'p', targets: ['shop-prod'] }], failurePolicy: 'ignore' }, 'failurePolicy'],
        [{ source: 'shop-staging', stages: [{ name: 'p', targets: ['shop-prod'] }], requestedBy: 'mallory' }, 'requestedBy'],
        [{ source: 'shop-staging', revision: 'main', stages: [{ name: 'p', targets: ['shop-prod'] }] }, 'revision'],
      ] as const) {
        const res = await promote(body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.details?.map((d) => d.path)).toContain(path);
      }
    });

    it('refuses an operator (403), and a release-manager scoped to dev,staging promoting into prod (403), audited as denied', async () => {
      expect((await promote({ source: 'shop-dev', stages: [{ name: 's', targets: ['shop-staging-2'] }] }, operator)).status).toBe(403);
      const prod = await promote({ source: 'shop-dev', stages: [{ name: 's', targets: ['shop-staging-2'] }, { name: 'p', targets: ['shop-prod'] }] }, scoped);
      expect(prod.status).toBe(403);
      expect(prod.body.error.message).toContain('prod');
      const staging = await promote({ source: 'shop-dev', stages: [{ name: 's', targets: ['shop-staging-2'] }] }, scoped);
      expect(staging.status).toBe(202);
      const denied = await api.catalog.audit.query({ action: 'promotion.create', result: 'denied', limit: 50 });
      expect(denied.items.map((e) => e.actor).sort()).toEqual(['otto', 'sam']);
      expect(denied.items.find((e) => e.actor === 'sam')?.target).toBe('environment/shop-dev');
    });

    it('refuses a promotion the rules forbid for a target (422), before anything starts', async () => {
      await api.catalog.rules.put({ allowedRegistries: { registries: ['registry.internal'] } }, { by: 'test' });
      try {
        const before = starter.calls.length;
        const res = await promote({ source: 'shop-staging', stages: [{ name: 'p', targets: ['shop-prod'] }] });
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe('rule_violations');
        expect(starter.calls.length).toBe(before);
      } finally {
        await api.catalog.rules.put({}, { by: 'test' });
      }
    });
  });

  describe('a running promotion', () => {
    let id: string;
    beforeAll(async () => {
      const res = await promote({ source: 'shop-staging', stages: [{ name: 'eu', targets: ['shop-prod-eu'], approval: true }, { name: 'us', targets: ['shop-prod'] }] });
      id = res.body.operationId;
    });
    const decide = (what: string, token: string, body?: unknown) =>
      api.request<PromotionState & ErrorBody>('POST', `/v1/promotions/${id}/${what}`, { token, body });

    it('GET shows stages × targets from the workflow query; 404 for unknown ids and non-promotions', async () => {
      const res = await api.request<PromotionState & { workflowStatus: string }>('GET', `/v1/promotions/${id}`, { token: viewer });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id, source: 'shop-staging', requestedBy: 'alice', phase: 'awaiting-approval', workflowStatus: 'RUNNING',
        stages: [
          { name: 'eu', phase: 'awaiting-approval', targets: [{ environment: 'shop-prod-eu', cluster: 'prod-2', tier: 'prod', phase: 'pending' }] },
          { name: 'us', phase: 'pending', targets: [{ environment: 'shop-prod', phase: 'pending' }] },
        ],
      });
      expect((await api.request('GET', '/v1/promotions/promote-nothing-1')).status).toBe(404);
      const deploy = await api.request<{ operationId: string }>('POST', '/v1/environments/shop-dev/deploy');
      expect((await api.request('GET', `/v1/promotions/${deploy.body.operationId}`)).status).toBe(404);
      expect((await api.request('POST', `/v1/promotions/${deploy.body.operationId}/approve`)).status).toBe(404);
    });

    it('approve: the requester is refused (four eyes, 403), a viewer and an operator too (403), another release-manager is accepted', async () => {
      const self = await decide('approve', alice);
      expect(self.status).toBe(403);
      expect(self.body.error).toMatchObject({ code: 'four_eyes', message: expect.stringContaining('four eyes') });
      expect((await decide('approve', viewer)).status).toBe(403);
      expect((await decide('approve', operator)).status).toBe(403);
      const ok = await decide('approve', bob, { comment: 'lgtm' });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.stages[0]!.approval).toMatchObject({ approvedBy: 'bob', comment: 'lgtm' });
      expect(ok.body.phase).toBe('completed');
    });

    it('approve when nothing waits → 409 with the workflow\'s message; a finished promotion → 409 for signals', async () => {
      const res = await decide('approve', bob);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('promotion_finished');
      const p = await promote({ source: 'shop-staging', stages: [{ name: 'only', targets: ['shop-prod-eu'] }, { name: 'later', targets: ['shop-prod'], approval: true }] });
      const waiting = p.body.operationId;
      // A stage that needs no approval runs; the next one waits. Approving twice: the second finds nothing.
      // While its first stage is still running, nothing waits for approval.
      const state = starter.states.get(waiting)!;
      const stage = state.stages[1]!;
      stage.phase = 'pending';
      const early = await api.request<ErrorBody>('POST', `/v1/promotions/${waiting}/approve`, { token: bob });
      expect(early.status).toBe(409);
      expect(early.body.error).toEqual({ code: 'not_awaiting_approval', message: 'no stage is waiting for approval' });
      stage.phase = 'awaiting-approval';
      expect((await api.request('POST', `/v1/promotions/${waiting}/approve`, { token: bob })).status).toBe(200);
      expect((await api.request('POST', `/v1/promotions/${waiting}/pause`, { token: bob })).status).toBe(409);
    });

    it('reject ends the promotion as rejected; a scoped release-manager cannot decide on prod', async () => {
      const p = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['shop-prod'], approval: true }] });
      const path = `/v1/promotions/${p.body.operationId}`;
      expect((await api.request('POST', `${path}/reject`, { token: scoped })).status).toBe(403);
      const res = await api.request<PromotionState>('POST', `${path}/reject`, { token: bob, body: { comment: 'not today' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ phase: 'rejected', stages: [{ approval: { rejectedBy: 'bob', comment: 'not today' } }] });
    });

    it('pause, resume and cancel signal the workflow with the caller (202); an operator may not', async () => {
      const p = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['shop-prod'], approval: true }] });
      const path = `/v1/promotions/${p.body.operationId}`;
      expect((await api.request('POST', `${path}/pause`, { token: operator })).status).toBe(403);
      const paused = await api.request<{ operationId: string }>('POST', `${path}/pause`, { token: bob });
      expect(paused.status).toBe(202);
      expect(paused.body).toEqual({ operationId: p.body.operationId });
      expect(paused.headers.get('location')).toBe(path);
      expect((await api.request('POST', `${path}/resume`, { token: bob, body: {} })).status).toBe(202);
      expect((await api.request('POST', `${path}/cancel`, { token: bob, body: { reason: 'wrong build' } })).status).toBe(202);
      expect(starter.signals.filter((s) => s.workflowId === p.body.operationId)).toEqual([
        { workflowId: p.body.operationId, name: 'pause', args: [{ by: 'bob' }] },
        { workflowId: p.body.operationId, name: 'resume', args: [{ by: 'bob' }] },
        { workflowId: p.body.operationId, name: 'cancel', args: [{ by: 'bob', reason: 'wrong build' }] },
      ]);
      expect((await api.request('POST', `${path}/cancel`, { token: bob })).status).toBe(409);
      expect((await api.request<PromotionState>('GET', path)).body.phase).toBe('cancelled');
      expect((await api.catalog.operations.require(p.body.operationId)).state).toBe('failed');
    });

    it('audits every decision, refused ones included', async () => {
      const entries = (await api.catalog.audit.query({ target: `promotion/${id}`, limit: 50 })).items;
      const seen = entries.filter((e) => e.action === 'promotion.approve').map((e) => `${e.actor}:${e.result}`).sort();
      expect(seen).toEqual(['alice:denied', 'bob:error', 'bob:ok', 'otto:denied', 'vera:denied']);
      expect(entries.find((e) => e.actor === 'alice')?.details).toMatchObject({ status: 403, code: 'four_eyes' });
      expect(entries.find((e) => e.actor === 'bob' && e.result === 'ok')).toMatchObject({ target: `promotion/${id}`, details: expect.objectContaining({ comment: 'lgtm' }) });
    });
  });

  it('maps validator refusals: role and four eyes → 403, nothing waiting → 409', () => {
    const map = (m: string) => mapRejection(new UpdateRejectedError('p', m));
    expect(map('four eyes: alice requested this promotion and cannot also approve it')).toMatchObject({ status: 403, code: 'four_eyes' });
    expect(map('approving needs role release-manager or admin; vera has viewer')).toMatchObject({ status: 403, code: 'forbidden' });
    expect(map('no stage is waiting for approval')).toMatchObject({ status: 409, code: 'not_awaiting_approval' });
    expect(map('something else')).toMatchObject({ status: 409 });
  });
});
