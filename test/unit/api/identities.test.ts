// Identities (issue 10, finding 9): a token stands for an owner, distinct from its name. One
// owner with two tokens is one person to four eyes (the API hands the workflow the owner as
// both requester and approver) and to the audit log; Flotilla's own names cannot be taken;
// tokens expire and record when they were last used.
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalDecision, PromotionState } from '../../../workflows/messages.js';
import type { PromoteInput } from '../../../workflows/promote-types.js';
import { kubeconfigCluster, RecordingStarter, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

/** Records what the API sends a promotion; decides nothing itself (the workflow's tests cover its validator). */
class MessageRecorder extends RecordingStarter {
  readonly updates: { workflowId: string; name: string; decision: ApprovalDecision }[] = [];
  async query<R, A extends unknown[]>(workflowId: string, _query: QueryDefinition<R, A>, ..._args: A): Promise<R> {
    return this.stateOf<R>(workflowId);
  }
  private stateOf<R>(workflowId: string): R {
    const input = this.calls.find((c) => c.workflowId === workflowId)!.args[0] as PromoteInput;
    return {
      id: workflowId, source: input.source, requestedBy: input.requestedBy, failurePolicy: 'rollback', phase: 'awaiting-approval', paused: false, startedAt: '',
      stages: input.stages.map((s) => ({ name: s.name, phase: 'awaiting-approval', targets: s.targets.map((t) => ({ environment: t, cluster: 'c1', tier: 'prod', phase: 'pending' })) })),
    } satisfies PromotionState as unknown as R;
  }
  async update<R, A extends unknown[]>(workflowId: string, update: UpdateDefinition<R, A>, ...args: A): Promise<R> {
    this.updates.push({ workflowId, name: update.name, decision: args[0] as ApprovalDecision });
    return this.stateOf<R>(workflowId);
  }
}

type ErrorBody = { error: { code: string; details?: { path: string; message: string }[] } };

describe('token owners, reserved names, expiry', () => {
  let api: TestApi;
  let recorder: MessageRecorder;
  beforeAll(async () => {
    recorder = new MessageRecorder();
    api = await startTestApi({ operations: recorder });
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('c1', { tier: 'prod' }) })).status).toBe(202);
    for (const name of ['src', 'dst']) expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier: 'prod', cluster: 'c1' }) })).status).toBe(201);
  });
  afterAll(() => api.close());

  const mint = async (body: Record<string, unknown>) => api.request<{ token: string; owner: string; expiresAt: string } & ErrorBody>('POST', '/v1/tokens', { body });

  it('one owner with two tokens is one identity: requester and approver are both the owner', async () => {
    const laptop = await mint({ name: 'ana-laptop', owner: 'ana', role: 'admin' });
    const ci = await mint({ name: 'ana-ci', owner: 'ana', role: 'admin' });
    expect([laptop.status, ci.status]).toEqual([201, 201]);
    expect(laptop.body.owner).toBe('ana');
    const started = await api.request<{ operationId: string }>('POST', '/v1/promotions', {
      token: laptop.body.token, body: { source: 'src', stages: [{ name: 'prod', targets: ['dst'], approval: true }] },
    });
    expect(started.status).toBe(202);
    const input = recorder.calls.find((c) => c.workflowId === started.body.operationId)!.args[0] as PromoteInput;
    expect(input.requestedBy).toBe('ana');
    await api.request('POST', `/v1/promotions/${started.body.operationId}/approve`, { token: ci.body.token });
    expect(recorder.updates.at(-1)!.decision).toMatchObject({ by: 'ana', role: 'admin' });
    // The audit log names the owner as the actor, and which token acted.
    const rows = (await api.catalog.audit.query({ action: 'promotion.create', limit: 10 })).items;
    expect(rows[0]).toMatchObject({ actor: 'ana', details: expect.objectContaining({ token: 'ana-laptop' }) });
  });

  it.each([
    [{ name: 'anonymous', role: 'viewer' }, 'name'],
    [{ name: 'system:bootstrap', role: 'admin' }, 'name'],
    [{ name: 'ok-name', owner: 'system:scheduler', role: 'admin' }, 'owner'],
    [{ name: 'ok-name-2', owner: 'Anonymous', role: 'viewer' }, 'owner'],
  ])('refuses the reserved identity in %j (400 at %s)', async (body, path) => {
    const res = await mint(body);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path, message: 'is reserved for Flotilla itself' }]);
  });

  it('a token expires (default 90 days, at most 365) and then authenticates nobody', async () => {
    const res = await mint({ name: 'short-lived', role: 'viewer', ttlDays: 1 });
    expect(res.status).toBe(201);
    const days = (Date.parse(res.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(0.99);
    expect(days).toBeLessThanOrEqual(1);
    const normal = await mint({ name: 'default-lived', role: 'viewer' });
    expect(Math.round((Date.parse(normal.body.expiresAt) - Date.now()) / 86_400_000)).toBe(90);
    expect((await mint({ name: 'too-long', role: 'viewer', ttlDays: 366 })).status).toBe(400);

    expect((await api.request('GET', '/v1/clusters', { token: res.body.token })).status).toBe(200);
    // A day later (its expiry moved into the past in the catalog):
    await api.catalog.db.updateTable('tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('name', '=', 'short-lived').execute();
    expect((await api.request('GET', '/v1/clusters', { token: res.body.token })).status).toBe(401);
  });

  it('records when a token was last used', async () => {
    const res = await mint({ name: 'used-once', role: 'viewer' });
    const before = (await api.catalog.tokens.list()).find((t) => t.name === 'used-once')!;
    expect(before.lastUsedAt).toBeUndefined();
    await api.request('GET', '/v1/clusters', { token: res.body.token });
    const after = (await api.catalog.tokens.list()).find((t) => t.name === 'used-once')!;
    expect(Date.parse(after.lastUsedAt!)).toBeGreaterThan(Date.now() - 60_000);
  });
});
