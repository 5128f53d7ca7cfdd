// /v1/promotions over a real SQLite catalog, with the REAL promote workflow (and its
// deployEnvironment children) on Temporal's time-skipping test server, stub cluster activities:
// what starts (id, input, operation record), refusals (404, 400, 403 by role and tier scope,
// 422 by rules, 409 for a target another operation holds), approvals (four eyes, N distinct
// approvers, a stage already decided, nothing waiting: the workflow validator's own answers),
// signals, how a promotion ends (a result with its outcome), and the audit.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mapRejection } from '../../../api/services/promotions.js';
import { UpdateRejectedError } from '../../../api/starter.js';
import type { PromotionState } from '../../../workflows/messages.js';
import type { PromoteInput } from '../../../workflows/promote-types.js';
import { kubeconfigCluster } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { startWorkflowApi, type WorkflowApi } from '../../support/workflow-api.js';
import { until } from '../../support/wait.js';

type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };
type View = PromotionState & { workflowStatus?: string };

/** The organisation's rules in this file: every prod stage waits for one approver who is not the requester. */
const RULES = { approvals: { prod: { required: 1, fourEyes: true } } };

describe('/v1/promotions', { timeout: 30_000 }, () => {
  let api: WorkflowApi;
  let alice: string; // release-manager, the requester
  let bob: string; // release-manager, the approver
  let carol: string; // release-manager, a second approver
  let viewer: string;
  let operator: string;
  let scoped: string; // release-manager for dev and staging only
  let revision: string;

  beforeAll(async () => {
    api = await startWorkflowApi();
    alice = await api.token('release-manager', undefined, 'alice');
    bob = await api.token('release-manager', undefined, 'bob');
    carol = await api.token('release-manager', undefined, 'carol');
    viewer = await api.token('viewer', undefined, 'vera');
    operator = await api.token('operator', undefined, 'otto');
    scoped = await api.token('release-manager', ['dev', 'staging'], 'sam');
    for (const [name, tier] of [['dev-1', 'dev'], ['prod-1', 'prod'], ['prod-2', 'prod']] as const) {
      // The dev cluster also runs the staging environments: an admin allowed that tier on it.
      const allowedTiers = tier === 'dev' ? ['staging'] : [];
      expect((await api.request('POST', '/v1/clusters', { body: { ...kubeconfigCluster(name, { tier }), allowedTiers } })).status).toBe(202);
    }
    const envs = [['shop-dev', 'dev', 'dev-1'], ['shop-staging', 'staging', 'dev-1'], ['shop-staging-2', 'staging', 'dev-1'], ['shop-prod', 'prod', 'prod-1'], ['shop-prod-eu', 'prod', 'prod-2']] as const;
    for (const [name, tier, cluster] of envs) {
      expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier, cluster }) })).status).toBe(201);
    }
    const other = shopEnvironment({ name: 'blog-prod', tier: 'prod', cluster: 'prod-1' }) as { spec: { application: string } };
    other.spec.application = 'blog';
    expect((await api.request('POST', '/v1/environments', { body: other })).status).toBe(201);
    expect((await api.request('PUT', '/v1/rules', { body: RULES })).status).toBe(200);
    revision = (await api.catalog.environments.require('shop-staging')).currentRevision!;
  }, 120_000);
  afterAll(() => api?.close());

  const promote = (body: unknown, token = alice) => api.request<{ operationId: string } & ErrorBody>('POST', '/v1/promotions', { token, body });
  const twoStages = { source: 'shop-staging', stages: [{ name: 'eu', targets: ['shop-prod-eu'], approval: true }, { name: 'us', targets: ['shop-prod'], maxParallel: 1, soakSeconds: 30 }] };
  const awaitingApproval = (id: string, stage: string) =>
    api.waitForPromotion(id, (s) => s.stages.some((st) => st.name === stage && st.phase === 'awaiting-approval'), `stage "${stage}" to await approval`);
  /** Waits until the workflow has closed; its final state, as the API shows it. */
  const ended = async (id: string) => {
    await api.waitForEnd(id);
    const res = await api.request<View>('GET', `/v1/promotions/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  describe('POST /v1/promotions', () => {
    afterEach(() => api.settle());

    it('starts promote with a business-key id, the resolved revision and the caller as requester, and records the operation', async () => {
      const res = await promote({ ...twoStages, failurePolicy: 'pause', approvalTimeoutSeconds: 600 });
      expect(res.status, res.text).toBe(202);
      const id = res.body.operationId;
      expect(id).toBe(`promote-shop-staging-${revision.slice('sha256:'.length, 'sha256:'.length + 12)}-1`);
      expect(res.headers.get('location')).toBe(`/v1/promotions/${id}`);
      const call = api.starts.find((c) => c.workflowId === id)!;
      expect(call.workflowType).toBe('promote');
      expect(call.args).toEqual([{ ...twoStages, failurePolicy: 'pause', approvalTimeoutSeconds: 600, revision, requestedBy: 'alice' } satisfies PromoteInput]);
      // The workflow runs: it plans, then waits for the first stage's approval and says so in the index.
      await awaitingApproval(id, 'eu');
      // The workflow's query turns first; its report to the index is an activity just after.
      await until('the index to say waiting', async () => (await api.catalog.operations.require(id)).state === 'waiting', 10_000);
      expect(await api.catalog.operations.require(id)).toMatchObject({
        kind: 'promotion', state: 'waiting', requestedBy: 'alice',
        environments: expect.arrayContaining(['shop-staging', 'shop-prod', 'shop-prod-eu']),
        clusters: expect.arrayContaining(['prod-1', 'prod-2']),
      });
      expect((await api.catalog.operations.require(id)).clusters).not.toContain('dev-1');
      // The next promotion of the same revision counts on.
      const again = await promote({ source: 'shop-staging', stages: [{ name: 'dev', targets: ['shop-dev'] }] });
      expect(again.status, again.text).toBe(202);
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
      expect(await ended(id)).toMatchObject({ phase: 'cancelled', outcome: 'cancelled', workflowStatus: 'COMPLETED' });
      expect(await ended(again.body.operationId)).toMatchObject({ phase: 'completed', outcome: 'completed' });
      expect(await api.catalog.locks.list()).toEqual([]);
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
      // A staging stage needs no approval: it runs to the end.
      expect(await ended(staging.body.operationId)).toMatchObject({ phase: 'completed', requestedBy: 'sam' });
      const denied = await api.catalog.audit.query({ action: 'promotion.create', result: 'denied', limit: 50 });
      expect(denied.items.map((e) => e.actor).sort()).toEqual(['otto', 'sam']);
      expect(denied.items.find((e) => e.actor === 'sam')?.target).toBe('environment/shop-dev');
    });

    it('refuses a promotion the rules forbid for a target (422), before anything starts', async () => {
      await api.catalog.rules.put({ ...RULES, allowedRegistries: { registries: ['registry.internal'] } }, { by: 'test' });
      try {
        const before = api.starts.length;
        const res = await promote({ source: 'shop-staging', stages: [{ name: 'p', targets: ['shop-prod'] }] });
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe('rule_violations');
        expect(api.starts.length).toBe(before);
      } finally {
        await api.catalog.rules.put(RULES, { by: 'test' });
      }
    });
  });

  describe('a running promotion', () => {
    let id: string;
    beforeAll(async () => {
      const res = await promote({ source: 'shop-staging', stages: [{ name: 'eu', targets: ['shop-prod-eu'], approval: true }, { name: 'us', targets: ['shop-prod'] }] });
      expect(res.status, res.text).toBe(202);
      id = res.body.operationId;
      await awaitingApproval(id, 'eu');
    }, 30_000);
    // The promotion above lives on until the approve test (which ends it); any other promotion a
    // test left running (e.g. by failing half-way) is ended, so the next test finds its targets free.
    let keepId = true;
    afterEach(() => api.settle(keepId ? [id] : []));
    const decide = (what: string, token: string, body?: unknown, on = id) =>
      api.request<PromotionState & ErrorBody>('POST', `/v1/promotions/${on}/${what}`, { token, body });

    it('GET shows stages × targets from the workflow query; 404 for unknown ids and non-promotions', async () => {
      const res = await api.request<View>('GET', `/v1/promotions/${id}`, { token: viewer });
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
      expect(deploy.status, deploy.text).toBe(202);
      expect((await api.request('GET', `/v1/promotions/${deploy.body.operationId}`)).status).toBe(404);
      expect((await api.request('POST', `/v1/promotions/${deploy.body.operationId}/approve`)).status).toBe(404);
      await api.waitForEnd(deploy.body.operationId);
    });

    it('approve: the requester is refused (four eyes, 403), a viewer and an operator too (403), another release-manager is accepted', async () => {
      keepId = false; // the last test to use it
      const self = await decide('approve', alice);
      expect(self.status).toBe(403);
      expect(self.body.error).toEqual({ code: 'four_eyes', message: 'four eyes: alice requested this promotion and cannot also approve it' });
      expect((await decide('approve', viewer)).status).toBe(403);
      expect((await decide('approve', operator)).status).toBe(403);
      // Refused decisions changed nothing: the stage still waits.
      expect((await api.promotion(id)).stages[0]).toMatchObject({ phase: 'awaiting-approval', approval: { fourEyes: true, approvals: [] } });
      const ok = await decide('approve', bob, { comment: 'lgtm' });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.stages[0]!.approval).toMatchObject({ approvedBy: 'bob', comment: 'lgtm', approvals: [{ by: 'bob', comment: 'lgtm' }] });
      // The approval moves the promotion on: eu deploys, then the next prod stage waits for its own approval (the rules).
      const next = await awaitingApproval(id, 'us');
      expect(next.stages[0]).toMatchObject({ phase: 'succeeded', targets: [{ environment: 'shop-prod-eu', phase: 'succeeded' }] });
      expect((await decide('approve', bob, { comment: 'us too' })).status).toBe(200);
      expect(await ended(id)).toMatchObject({
        phase: 'completed', outcome: 'completed', workflowStatus: 'COMPLETED',
        stages: [{ phase: 'succeeded', approval: { approvedBy: 'bob' } }, { phase: 'succeeded', approval: { approvedBy: 'bob', comment: 'us too' } }],
      });
      // What the promotion deployed is recorded, and the targets now should run it.
      for (const name of ['shop-prod-eu', 'shop-prod']) {
        const env = await api.catalog.environments.require(name);
        expect({ deployed: env.deployed?.revision, current: env.currentRevision }, name).toEqual({ deployed: revision, current: revision });
      }
      expect(await api.catalog.operations.require(id)).toMatchObject({ state: 'completed', outcome: 'completed' });
    });

    it('approve when nothing waits → 409 with the workflow\'s message; a decision already taken → 409; a finished promotion → 409', async () => {
      const res = await decide('approve', bob);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('promotion_finished');
      // A staging stage that needs no approval runs first; the prod stage after it waits.
      const p = await promote({ source: 'shop-staging', stages: [{ name: 'only', targets: ['shop-staging-2'] }, { name: 'later', targets: ['shop-prod'], approval: true }] });
      expect(p.status, p.text).toBe(202);
      const waiting = p.body.operationId;
      // While its first stage is still deploying, nothing waits for approval.
      const rollout = api.hold('waitForRevision', (input) => input.environment === 'shop-staging-2');
      await rollout.reached;
      expect((await api.promotion(waiting)).stages.map((s) => s.phase)).toEqual(['running', 'pending']);
      const early = await decide('approve', bob, undefined, waiting);
      expect(early.status).toBe(409);
      expect(early.body.error).toEqual({ code: 'not_awaiting_approval', message: 'no stage is waiting for approval' });
      rollout.release();
      await awaitingApproval(waiting, 'later');
      // Once approved, the stage is decided: a second decision before it moves on is refused
      // (held here where the workflow reports that it runs again, right after the decision).
      const moving = api.hold('reportOperation', (input) => input.id === waiting && input.state === 'running');
      expect((await decide('approve', bob, undefined, waiting)).status).toBe(200);
      await moving.reached;
      for (const [what, token] of [['approve', carol], ['reject', carol]] as const) {
        const twice = await decide(what, token, undefined, waiting);
        expect(twice.status, what).toBe(409);
        expect(twice.body.error, what).toEqual({ code: 'already_decided', message: 'stage "later" is already approved (by bob)' });
      }
      moving.release();
      expect(await ended(waiting)).toMatchObject({ phase: 'completed', stages: [{ phase: 'succeeded' }, { phase: 'succeeded', approval: { approvedBy: 'bob', approvals: [{ by: 'bob' }] } }] });
      expect((await decide('pause', bob, undefined, waiting)).status).toBe(409);
    });

    it('N approvers: a stage the rules give two approvers waits for two distinct ones; the same one twice is refused', async () => {
      await api.catalog.rules.put({ approvals: { prod: { required: 2, fourEyes: true } } }, { by: 'test' });
      try {
        const p = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['shop-prod'] }] });
        expect(p.status, p.text).toBe(202);
        const on = p.body.operationId;
        await awaitingApproval(on, 'prod');
        expect((await api.promotion(on)).stages[0]!.approval).toMatchObject({ required: true, fourEyes: true, needed: 2, approvals: [] });
        expect((await decide('approve', alice, undefined, on)).body.error?.code).toBe('four_eyes');
        const first = await decide('approve', bob, { comment: 'one' }, on);
        expect(first.status, first.text).toBe(200);
        expect(first.body.stages[0]).toMatchObject({ phase: 'awaiting-approval', approval: { approvals: [{ by: 'bob', comment: 'one' }] } });
        expect(first.body.stages[0]!.approval!.approvedBy).toBeUndefined();
        const again = await decide('approve', bob, undefined, on);
        expect(again.status).toBe(409);
        expect(again.body.error).toEqual({ code: 'already_approved', message: 'bob has already approved stage "prod"; it needs 2 distinct approvers' });
        // Still one approval short: nothing deployed yet.
        expect((await api.promotion(on)).stages[0]).toMatchObject({ phase: 'awaiting-approval', targets: [{ phase: 'pending' }] });
        const second = await decide('approve', carol, { comment: 'two' }, on);
        expect(second.status, second.text).toBe(200);
        expect(second.body.stages[0]!.approval).toMatchObject({ approvedBy: 'carol', approvals: [{ by: 'bob' }, { by: 'carol' }] });
        expect(await ended(on)).toMatchObject({ phase: 'completed', stages: [{ phase: 'succeeded', targets: [{ phase: 'succeeded' }] }] });
      } finally {
        await api.catalog.rules.put(RULES, { by: 'test' });
      }
    });

    it('reject ends the promotion as rejected (a result, not a failure); a scoped release-manager cannot decide on prod', async () => {
      const calls = api.activityCalls.length;
      const p = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['shop-prod'], approval: true }] });
      expect(p.status, p.text).toBe(202);
      const path = `/v1/promotions/${p.body.operationId}`;
      await awaitingApproval(p.body.operationId, 'prod');
      expect((await api.request('POST', `${path}/reject`, { token: scoped })).status).toBe(403);
      const res = await api.request<PromotionState>('POST', `${path}/reject`, { token: bob, body: { comment: 'not today' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ stages: [{ approval: { rejectedBy: 'bob', comment: 'not today' } }] });
      expect(await ended(p.body.operationId)).toMatchObject({
        phase: 'rejected', outcome: 'rejected', workflowStatus: 'COMPLETED', message: 'stage "prod" rejected by bob: not today',
        stages: [{ phase: 'skipped', targets: [{ environment: 'shop-prod', phase: 'skipped' }] }],
      });
      expect(await api.catalog.operations.require(p.body.operationId)).toMatchObject({ state: 'completed', outcome: 'rejected' });
      // Nothing was deployed, nothing rolled back.
      expect(api.activityCalls.slice(calls).map((c) => c.activity).filter((a) => /Revision|Deploy|Undeploy/.test(a))).toEqual([]);
    });

    it('pause, resume and cancel signal the workflow with the caller (202); an operator may not', async () => {
      const p = await promote({ source: 'shop-staging', stages: [{ name: 'prod', targets: ['shop-prod'], approval: true }] });
      expect(p.status, p.text).toBe(202);
      const on = p.body.operationId;
      const path = `/v1/promotions/${on}`;
      await awaitingApproval(on, 'prod');
      expect((await api.request('POST', `${path}/pause`, { token: operator })).status).toBe(403);
      const paused = await api.request<{ operationId: string }>('POST', `${path}/pause`, { token: bob });
      expect(paused.status).toBe(202);
      expect(paused.body).toEqual({ operationId: on });
      expect(paused.headers.get('location')).toBe(path);
      await api.waitForPromotion(on, (s) => s.paused, 'the pause');
      expect((await api.request('POST', `${path}/resume`, { token: bob, body: {} })).status).toBe(202);
      await api.waitForPromotion(on, (s) => !s.paused, 'the resume');
      expect((await api.request('POST', `${path}/cancel`, { token: bob, body: { reason: 'wrong build' } })).status).toBe(202);
      expect(api.signals.filter((s) => s.workflowId === on)).toEqual([
        { workflowId: on, name: 'pause', args: [{ by: 'bob' }] },
        { workflowId: on, name: 'resume', args: [{ by: 'bob' }] },
        { workflowId: on, name: 'cancel', args: [{ by: 'bob', reason: 'wrong build' }] },
      ]);
      expect(await ended(on)).toMatchObject({
        phase: 'cancelled', outcome: 'cancelled', message: 'wrong build', workflowStatus: 'COMPLETED',
        stages: [{ phase: 'skipped', targets: [{ environment: 'shop-prod', phase: 'skipped' }] }],
      });
      expect((await api.request('POST', `${path}/cancel`, { token: bob })).status).toBe(409);
      // A cancelled promotion is an outcome, not a failure.
      expect(await api.catalog.operations.require(on)).toMatchObject({ state: 'completed', outcome: 'cancelled' });
    });

    it('audits every decision, refused ones included', async () => {
      const entries = (await api.catalog.audit.query({ target: `promotion/${id}`, limit: 50 })).items;
      const seen = entries.filter((e) => e.action === 'promotion.approve').map((e) => `${e.actor}:${e.result}`).sort();
      expect(seen).toEqual(['alice:denied', 'bob:error', 'bob:ok', 'bob:ok', 'otto:denied', 'vera:denied']);
      expect(entries.find((e) => e.actor === 'alice')?.details).toMatchObject({ status: 403, code: 'four_eyes' });
      expect(entries.find((e) => e.actor === 'bob' && e.result === 'ok' && (e.details as { comment?: string }).comment === 'lgtm')).toMatchObject({ target: `promotion/${id}` });
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
