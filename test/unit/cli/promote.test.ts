// flotilla promote / approve / reject / pause / resume / cancel / get|describe promotion: flags →
// the request the API gets (through the real API over SQLite, with the REAL promote workflow
// on Temporal's time-skipping test server and stub cluster activities), progress of --wait and
// its exit codes, and the tables.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPromotion, describePromotion, duration, parseDuration, progress, promotionTable, type PromotionView } from '../../../cli/commands/promote.js';
import { CliError, EXIT } from '../../../cli/exit-codes.js';
import { run } from '../../../cli/program.js';
import { kubeconfigCluster } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { startWorkflowApi, type WorkflowApi } from '../../support/workflow-api.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), readStdin: async () => '' } };
}

describe('promote flags → request', () => {
  const tiers: Record<string, string> = { 'shop-staging': 'staging', 'shop-prod-us': 'prod', 'shop-prod-eu': 'prod', 'shop-canary': 'prod', 'shop-qa': 'staging' };
  const tierOf = (e: string) => tiers[e];

  it('--to makes one stage; --stage several in order; --approve-before takes tiers and stage names', () => {
    expect(buildPromotion('shop-staging', { to: 'shop-prod-us, shop-prod-eu', format: 'table' })).toEqual({
      source: 'shop-staging', stages: [{ name: 'default', targets: ['shop-prod-us', 'shop-prod-eu'] }],
    });
    expect(buildPromotion('shop-staging', {
      stage: ['qa=shop-qa', 'canary=shop-canary', 'prod=shop-prod-us,shop-prod-eu'], approveBefore: ['prod'],
      maxParallel: '1', soak: '1m30s', policy: 'pause', revision: 'abcdef012345', approvalTimeout: '2h', format: 'table',
    }, tierOf)).toEqual({
      source: 'shop-staging', revision: 'abcdef012345', failurePolicy: 'pause', approvalTimeoutSeconds: 7200,
      stages: [
        { name: 'qa', targets: ['shop-qa'], maxParallel: 1, soakSeconds: 90 },
        { name: 'canary', targets: ['shop-canary'], approval: true, maxParallel: 1, soakSeconds: 90 },
        { name: 'prod', targets: ['shop-prod-us', 'shop-prod-eu'], approval: true, maxParallel: 1, soakSeconds: 90 },
      ],
    });
    const byStage = buildPromotion('shop-staging', { stage: ['qa=shop-qa', 'prod=shop-prod-us'], approveBefore: ['qa'], format: 'table' }, tierOf);
    expect(byStage.stages.map((s) => s.approval ?? false)).toEqual([true, false]);
  });

  it('refuses contradictory or malformed flags (usage, exit 2)', () => {
    const bad = [
      {},
      { to: 'a', stage: ['s=b'] },
      { to: ' , ' },
      { stage: ['prod'] },
      { stage: ['=a'] },
      { to: 'a', approveBefore: ['nope'] },
      { to: 'a', maxParallel: '0' },
      { to: 'a', soak: 'soon' },
      { to: 'a', policy: 'ignore' },
    ];
    for (const flags of bad) {
      let caught: unknown;
      try {
        buildPromotion('src', { ...flags, format: 'table' });
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(flags)).toBeInstanceOf(CliError);
      expect((caught as CliError).exitCode).toBe(EXIT.usage);
    }
  });

  it('reads durations', () => {
    expect([parseDuration('30s', 'x'), parseDuration('5m', 'x'), parseDuration('1h', 'x'), parseDuration('90', 'x'), parseDuration('1h2m3s', 'x')]).toEqual([30, 300, 3600, 90, 3723]);
    expect(duration('2025-01-01T00:00:00Z', '2025-01-01T00:01:05Z')).toBe('1m05s');
  });
});

const STATE: PromotionView = {
  id: 'promote-shop-staging-0123456789ab-1', source: 'shop-staging', revision: 'sha256:0123456789abcdef', requestedBy: 'alice',
  failurePolicy: 'rollback', phase: 'awaiting-approval', paused: false, startedAt: '2025-01-01T00:00:00.000Z',
  stages: [
    { name: 'canary', phase: 'succeeded', startedAt: '2025-01-01T00:00:01.000Z', finishedAt: '2025-01-01T00:00:31.000Z', targets: [
      { environment: 'shop-canary', cluster: 'prod-1', tier: 'prod', phase: 'succeeded', startedAt: '2025-01-01T00:00:01.000Z', finishedAt: '2025-01-01T00:00:31.000Z' },
    ] },
    { name: 'prod', phase: 'awaiting-approval', approval: { required: true, fourEyes: true }, targets: [
      { environment: 'shop-prod-us', cluster: 'prod-1', tier: 'prod', phase: 'pending' },
      { environment: 'shop-prod-eu', cluster: 'prod-2', tier: 'prod', phase: 'pending' },
    ] },
  ],
};

describe('promotion output', () => {
  it('get: a kubectl-like table of stages × targets', () => {
    expect(promotionTable(STATE).split('\n')).toEqual([
      'STAGE    STAGE-PHASE         APPROVAL               TARGET         CLUSTER   TIER   PHASE       STARTED                DURATION',
      'canary   succeeded                                  shop-canary    prod-1    prod   succeeded   2025-01-01 00:00:01Z   30s',
      'prod     awaiting-approval   required (four eyes)   shop-prod-us   prod-1    prod   pending',
      'prod     awaiting-approval   required (four eyes)   shop-prod-eu   prod-2    prod   pending',
    ]);
  });

  it('describe: the promotion, then each stage with its targets', () => {
    const text = describePromotion(STATE);
    expect(text).toContain('Promotion:      promote-shop-staging-0123456789ab-1');
    expect(text).toContain('Source:         shop-staging (0123456789ab)');
    expect(text).toMatch(/2\. prod {3}awaiting-approval {3}approval: required \(four eyes\)/);
    expect(text).toMatch(/TARGET\s+CLUSTER\s+TIER\s+PHASE/);
  });

  it('--wait progress: phase, stage and target changes, and the command to approve', () => {
    const first = progress(undefined, STATE);
    expect(first).toEqual([
      'promote-shop-staging-0123456789ab-1: awaiting-approval',
      'stage canary: succeeded',
      'stage canary: shop-canary (prod-1): succeeded',
      'stage prod: awaiting-approval',
      '  approval needed (four eyes: someone other than alice); run: flotilla approve promote-shop-staging-0123456789ab-1 [--comment TEXT]   (or: flotilla reject promote-shop-staging-0123456789ab-1)',
    ]);
    expect(progress(STATE, STATE)).toEqual([]);
    const next = structuredClone(STATE);
    next.phase = 'running';
    next.stages[1]!.phase = 'running';
    next.stages[1]!.approval!.approvedBy = 'bob';
    next.stages[1]!.targets[0]!.phase = 'deploying';
    expect(progress(STATE, next)).toEqual([
      'promote-shop-staging-0123456789ab-1: running',
      'stage prod: running (approved by bob)',
      'stage prod: shop-prod-us (prod-1): deploying',
    ]);
  });
});

describe('flotilla promote against the API', { timeout: 30_000 }, () => {
  let api: WorkflowApi;
  let env: Record<string, string>;
  let bob: string;
  beforeAll(async () => {
    api = await startWorkflowApi();
    for (const [name, tier] of [['dev-1', 'dev'], ['prod-1', 'prod']] as const) {
      // The dev cluster also runs the staging environments: an admin allowed that tier on it.
      const allowedTiers = tier === 'dev' ? ['staging'] : [];
      expect((await api.request('POST', '/v1/clusters', { body: { ...kubeconfigCluster(name, { tier }), allowedTiers } })).status).toBe(202);
    }
    for (const [name, tier, cluster] of [['shop-staging', 'staging', 'dev-1'], ['shop-qa', 'staging', 'dev-1'], ['shop-prod', 'prod', 'prod-1']] as const) {
      expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier, cluster }) })).status).toBe(201);
    }
    // The rules ask one approver other than the requester for every prod stage.
    expect((await api.request('PUT', '/v1/rules', { body: { approvals: { prod: { required: 1, fourEyes: true } } } })).status).toBe(200);
    env = { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: await api.token('release-manager', undefined, 'alice') };
    bob = await api.token('release-manager', undefined, 'bob');
  }, 120_000);
  afterAll(() => api?.close());

  const last = () => api.starts.at(-1)!;
  // A promotion a test hands to the next one is kept; any other left running (a test that failed
  // half-way) is ended, so the next test finds shop-prod free.
  let handOver: string[] = [];
  afterEach(() => api.settle(handOver));

  it('sends the stages the flags describe, with approval before the prod-tier stage (tiers from GET /v1/environments)', async () => {
    const o = io();
    const code = await run(['promote', 'shop-staging', '--stage', 'qa=shop-qa', '--stage', 'prod=shop-prod', '--approve-before', 'prod', '--max-parallel', '2', '--soak', '30s', '--policy', 'continue'], o.io, env);
    expect(code, o.err.join('\n')).toBe(0);
    expect(o.out).toEqual([`promotion started: ${last().workflowId}`]);
    expect(last().args[0]).toMatchObject({
      source: 'shop-staging', requestedBy: 'alice', failurePolicy: 'continue',
      stages: [
        { name: 'qa', targets: ['shop-qa'], maxParallel: 2, soakSeconds: 30 },
        { name: 'prod', targets: ['shop-prod'], approval: true, maxParallel: 2, soakSeconds: 30 },
      ],
    });
    expect((last().args[0] as { stages: { approval?: boolean }[] }).stages[0]!.approval).toBeUndefined();
    // The workflow deploys qa and soaks it for 30 s of workflow time (skipped here), then waits before prod.
    const id = last().workflowId;
    handOver = [id]; // the next test steers it
    await api.waitForPromotion(id, (s) => s.stages[0]!.phase === 'soaking', 'the qa soak');
    await api.skip(30_000);
    const state = await api.waitForPromotion(id, (s) => s.stages[1]!.phase === 'awaiting-approval', 'the prod approval');
    const qa = state.stages[0]!;
    expect(qa).toMatchObject({ phase: 'succeeded', targets: [{ environment: 'shop-qa', phase: 'succeeded' }] });
    expect(Date.parse(qa.finishedAt!) - Date.parse(qa.startedAt!)).toBeGreaterThanOrEqual(30_000);
  });

  it('get / describe promotion ID, -o json, and approve / pause / resume / cancel', async () => {
    const id = last().workflowId;
    handOver = [];
    const got = io();
    expect(await run(['get', 'promotion', id], got.io, env)).toBe(0);
    expect(got.out[0]).toMatch(/^STAGE\s+STAGE-PHASE\s+APPROVAL\s+TARGET/);
    expect(got.out[0]).toMatch(/prod\s+awaiting-approval\s+required \(four eyes\)\s+shop-prod\s+prod-1\s+prod\s+pending/);
    const json = io();
    expect(await run(['describe', 'promotion', id, '-o', 'json'], json.io, env)).toBe(0);
    expect(JSON.parse(json.out[0]!)).toMatchObject({ id, phase: 'awaiting-approval', workflowStatus: 'RUNNING' });
    const list = io();
    expect(await run(['get', 'promotions'], list.io, env)).toBe(0);
    expect(list.out[0]).toContain(id);
    const one = io();
    expect(await run(['get', 'environment', 'shop-prod'], one.io, env)).toBe(0);
    expect(one.out[0]!.split('\n')[1]).toMatch(/^shop-prod\s+shop\s+prod\s+prod-1/);

    const self = io();
    expect(await run(['approve', id], self.io, env)).toBe(EXIT.auth);
    expect(self.err.join('\n')).toContain('four eyes');
    for (const what of ['pause', 'resume']) {
      const o = io();
      expect(await run([what, id], o.io, { ...env, FLOTILLA_TOKEN: bob })).toBe(0);
    }
    const approved = io();
    expect(await run(['approve', id, '--comment', 'ship it'], approved.io, { ...env, FLOTILLA_TOKEN: bob })).toBe(0);
    expect(approved.out).toEqual([`promotion ${id} approved`]);
    expect((await api.promotion(id)).stages[1]!.approval).toMatchObject({ approvedBy: 'bob', comment: 'ship it' });
    expect(api.signals.filter((s) => s.workflowId === id).map((s) => s.name)).toEqual(['pause', 'resume']);
    // prod deploys, then soaks its 30 s too.
    await api.waitForPromotion(id, (s) => s.stages[1]!.phase === 'soaking', 'the prod soak');
    await api.skip(30_000);
    await api.waitForEnd(id);
    expect(await api.promotion(id)).toMatchObject({ phase: 'completed', paused: false, stages: [{ phase: 'succeeded' }, { phase: 'succeeded' }] });
    const done = io();
    expect(await run(['cancel', id, '--reason', 'late'], done.io, env)).toBe(EXIT.usage); // 409: no longer running
    expect(await run(['get', 'promotion', 'promote-nothing-1'], io().io, env)).toBe(EXIT.notFound);
  });

  it('--wait prints progress and the approve command, and exits 0 when completed', async () => {
    const o = io();
    const running = run(['promote', 'shop-staging', '--to', 'shop-prod', '--approve-before', 'prod', '--wait'], o.io, env);
    await expect.poll(() => o.err.join('\n'), { timeout: 10_000 }).toContain('run: flotilla approve');
    const id = last().workflowId;
    expect((await api.request('POST', `/v1/promotions/${id}/approve`, { token: bob })).status).toBe(200);
    expect(await running).toBe(0);
    expect(o.out).toEqual([`promotion ${id} completed`]);
    expect(o.err.join('\n')).toContain(`${id}: completed`);
  });

  it('--wait exits 1 when the promotion is rejected', async () => {
    const o = io();
    const running = run(['promote', 'shop-staging', '--to', 'shop-prod', '--approve-before', 'default', '--wait', '-o', 'json'], o.io, env);
    await expect.poll(() => o.err.join('\n'), { timeout: 10_000 }).toContain('run: flotilla approve');
    const reject = io();
    expect(await run(['reject', last().workflowId], reject.io, { ...env, FLOTILLA_TOKEN: bob })).toBe(0);
    expect(await running).toBe(EXIT.failed);
    expect(JSON.parse(o.out[0]!)).toMatchObject({ phase: 'rejected', outcome: 'rejected', workflowStatus: 'COMPLETED' });
    expect(o.err.join('\n')).toContain(`error: promotion ${last().workflowId} rejected`);
  });
});
