// /v1/schedules through the in-process API (schedules in memory: the time-skipping test server
// has none; what Temporal does with them is tested on the dev server, in
// test/integration/schedule.test.ts), and a schedule's run — complianceClone, with its clone and
// drill workflows real on the time-skipping server, the catalog activities real, cluster and
// database ones stubbed — started as the schedule starts it: twice leaves one clone; refused by
// the rules at run time; a drill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledRunInput } from '../../../domain/schedule.js';
import { environmentScope, scheduleScope } from '../../../store/secrets.js';
import type { ScheduledRunResult } from '../../../workflows/compliance-clone.js';
import { kubeconfigCluster } from '../../support/api-server.js';
import { recordHistory } from '../../support/histories.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { startWorkflowApi, type WorkflowApi } from '../../support/workflow-api.js';

let api: WorkflowApi;
let operator: string;
const CACHE = 'redis://compliance-cache-7f3e.internal:6379/0';

beforeAll(async () => {
  api = await startWorkflowApi();
  operator = await api.token('operator', undefined, 'ops-lead');
  for (const [name, labels] of [['prod-eu', { tier: 'prod', geo: 'eu' }], ['comp-eu', { tier: 'compliance', geo: 'eu' }], ['comp-us', { tier: 'compliance', geo: 'us' }], ['dr-eu', { tier: 'dr', geo: 'eu' }]] as const) {
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, labels) })).status).toBe(202);
  }
  expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-prod', tier: 'prod', cluster: 'prod-eu', residency: 'eu' }) })).status).toBe(201);
  await api.catalog.secrets.put(environmentScope('shop-prod'), 'STRIPE_KEY', 'sk_live_prod_5b2a');
  await api.catalog.secrets.put(environmentScope('shop-prod'), 'CACHE_URL', 'redis://prod-cache.internal:6379/0');
}, 120_000);
afterAll(() => api?.close());

const nightly = (extra: Record<string, unknown> = {}, clone: Record<string, unknown> = {}) => ({
  id: 'nightly-eu', every: '24h',
  clone: { source: 'shop-prod', name: 'shop-compliance', cluster: 'comp-eu', data: { 'orders-db': 'scrubbed' }, ...clone },
  secrets: { CACHE_URL: CACHE },
  ...extra,
});
type ErrorBody = { error: { code: string; message: string; details?: { path?: string; rule?: string; field?: string; message: string }[] } };

describe('POST /v1/schedules', { timeout: 60_000 }, () => {
  it('creates the schedule: what each run makes (no secret in it), its tiers, its timing; the secrets stored under the schedule', async () => {
    const res = await api.request<{ id: string; kind: string; every: number; tiers: string[]; paused: boolean; clone: Record<string, unknown> }>('POST', '/v1/schedules', { token: operator, body: nightly() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.get('location')).toBe('/v1/schedules/nightly-eu');
    expect(res.body).toMatchObject({ id: 'nightly-eu', kind: 'clone', every: 86_400, paused: false, clone: { source: 'shop-prod', name: 'shop-compliance', purpose: 'compliance' } });
    expect(res.body.tiers.sort()).toEqual(['compliance', 'prod']);
    const stored = api.schedules.schedules.get('nightly-eu')!;
    expect(stored.input).toEqual({
      schedule: 'nightly-eu', kind: 'clone', createdBy: 'ops-lead',
      clone: { source: 'shop-prod', name: 'shop-compliance', cluster: 'comp-eu', data: { 'orders-db': 'scrubbed' }, purpose: 'compliance' },
    });
    expect(JSON.stringify(stored)).not.toContain(CACHE);
    expect(await api.catalog.secrets.get(scheduleScope('nightly-eu'), 'CACHE_URL')).toBe(CACHE);
    // Nothing is made until it runs.
    expect(await api.catalog.environments.get('shop-compliance')).toBeUndefined();
    const audit = (await api.request<{ items: { action: string; target: string }[] }>('GET', '/v1/audit?limit=50')).body.items;
    expect(audit.find((e) => e.action === 'schedule.create')).toMatchObject({ target: 'schedule/nightly-eu' });

    expect((await api.request<ErrorBody>('POST', '/v1/schedules', { token: operator, body: nightly() })).status).toBe(409);
  });

  it('refuses bad input with field paths (400), an unknown source (404), and rules that refuse the clone (422), creating nothing', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...nightly({ id: 'x1' }), every: undefined }, 400, 'every'],
      [nightly({ id: 'x2', cron: '0 2 * * *' }), 400, 'every'],
      [nightly({ id: 'x3', every: '5s' }), 400, 'every'],
      [nightly({ id: 'x4', every: undefined, cron: 'at two' }), 400, 'cron'],
      [nightly({ id: 'x5', drill: { keep: true } }), 400, 'drill'],
      [nightly({ id: 'x6' }, { data: { 'no-such-db': 'scrubbed' } }), 400, 'clone.data.no-such-db'],
      [nightly({ id: 'x7' }, { source: 'no-such-env' }), 404, 'clone.source'],
    ];
    for (const [body, status, path] of cases) {
      const res = await api.request<ErrorBody>('POST', '/v1/schedules', { token: operator, body });
      expect([res.status, res.body.error.details?.map((d) => d.path)], JSON.stringify(res.body)).toEqual([status, expect.arrayContaining([path])]);
    }
    // Residency: an eu environment's clone on a us cluster.
    expect((await api.request('PUT', '/v1/rules', { body: { residency: { labelKey: 'geo', enforcement: 'block' } } })).status).toBe(200);
    const misplaced = await api.request<ErrorBody>('POST', '/v1/schedules', { token: operator, body: nightly({ id: 'x8' }, { cluster: 'comp-us' }) });
    expect(misplaced.status).toBe(422);
    expect(misplaced.body.error.details).toEqual([expect.objectContaining({ rule: 'residency', field: 'spec.cluster' })]);
    // Prod data into tier compliance only scrubbed, when the rules say so.
    expect((await api.request('PUT', '/v1/rules', { body: { residency: { labelKey: 'geo', enforcement: 'block' }, scrubbedCopies: { enforcement: 'block' } } })).status).toBe(200);
    const raw = await api.request<ErrorBody>('POST', '/v1/schedules', { body: nightly({ id: 'x9' }, { data: { 'orders-db': 'snapshot' } }) });
    expect(raw.status).toBe(422);
    expect(raw.body.error.details).toEqual([expect.objectContaining({ rule: 'scrubbedCopies', field: 'data.orders-db' })]);
    for (const id of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9']) {
      expect(api.schedules.schedules.has(id), id).toBe(false);
      expect(await api.catalog.secrets.list(scheduleScope(id)), id).toEqual([]);
    }
    expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
  });

  it('pauses, unpauses, triggers and deletes (its secrets with it); an unknown schedule is 404', async () => {
    expect((await api.request('POST', '/v1/schedules', { token: operator, body: nightly({ id: 'weekly' }, { name: 'shop-weekly' }) })).status).toBe(201);
    const paused = await api.request<{ paused: boolean; note: string }>('POST', '/v1/schedules/weekly/pause', { token: operator, body: { note: 'audit week' } });
    expect(paused.body).toMatchObject({ paused: true, note: 'audit week' });
    expect((await api.request<{ paused: boolean }>('POST', '/v1/schedules/weekly/unpause', { token: operator, body: {} })).body.paused).toBe(false);
    expect((await api.request('POST', '/v1/schedules/weekly/trigger', { token: operator, body: {} })).status).toBe(200);
    expect(api.schedules.triggered).toContain('weekly');
    expect((await api.request('DELETE', '/v1/schedules/weekly', { token: operator })).status).toBe(204);
    expect(await api.catalog.secrets.list(scheduleScope('weekly'))).toEqual([]);
    for (const [method, path] of [['GET', '/v1/schedules/weekly'], ['POST', '/v1/schedules/weekly/trigger'], ['DELETE', '/v1/schedules/weekly']] as const) {
      expect((await api.request(method, path, { token: operator, body: method === 'POST' ? {} : undefined })).status, `${method} ${path}`).toBe(404);
    }
  });
});

describe('a schedule\'s run (complianceClone)', { timeout: 90_000 }, () => {
  /** Starts a run as Temporal Schedules would: workflow id scheduled-<id>-<time>, the schedule's stored input. */
  async function run(id: string, at: string, history?: string): Promise<ScheduledRunResult> {
    const input = api.schedules.schedules.get(id)!.input as ScheduledRunInput;
    const handle = await api.env.client.workflow.start('complianceClone', { taskQueue: api.taskQueue, workflowId: `scheduled-${id}-${at}`, args: [input] });
    const result = await handle.result() as ScheduledRunResult;
    // FLOTILLA_RECORD_HISTORIES=1: the replay corpus (test/replay) gains this run's history.
    if (history && process.env.FLOTILLA_RECORD_HISTORIES !== undefined) await recordHistory(history, handle);
    return result;
  }

  it('twice: the second run tears the first run\'s clone down and leaves exactly one clone, with the schedule\'s secret', async () => {
    expect((await api.request('POST', '/v1/schedules', { token: operator, body: nightly({ id: 'twice' }, { name: 'shop-twice' }) })).status).toBe(201);
    const first = await run('twice', '2026-12-03T02:00:00Z');
    expect(first).toMatchObject({ outcome: 'completed', cloneId: 'clone-shop-twice-20261203T020000Z', replaced: [] });
    const second = await run('twice', '2026-12-04T02:00:00Z', 'compliance-clone-replacing-previous');
    expect(second).toMatchObject({ outcome: 'completed', cloneId: 'clone-shop-twice-20261204T020000Z', replaced: ['clone-shop-twice-20261203T020000Z'] });
    const active = await api.catalog.clones.list({ name: 'shop-twice', active: true });
    expect(active.map((c) => [c.id, c.state, c.purpose, c.createdBy])).toEqual([['clone-shop-twice-20261204T020000Z', 'ready', 'compliance', 'schedule/twice']]);
    expect((await api.catalog.clones.require('clone-shop-twice-20261203T020000Z')).state).toBe('torn-down');
    expect(await api.catalog.secrets.get(environmentScope('shop-twice'), 'CACHE_URL')).toBe(CACHE);
    expect(await api.catalog.secrets.get(environmentScope('shop-twice'), 'STRIPE_KEY')).toBe('sk_live_prod_5b2a');
    const op = (await api.request<{ kind: string; state: string; outcome: string }>('GET', '/v1/operations/scheduled-twice-2026-12-04T02:00:00Z')).body;
    expect(op).toMatchObject({ kind: 'compliance-clone', state: 'completed', outcome: 'completed' });
  });

  it('refused by rules that changed since the schedule was made: rejected, naming the rule, nothing written, the previous clone kept', async () => {
    // Raw prod data: a release manager's (or admin's) schedule.
    expect((await api.request('POST', '/v1/schedules', { body: nightly({ id: 'later' }, { name: 'shop-later', data: { 'orders-db': 'snapshot' } }) })).status).toBe(201);
    expect((await run('later', '2026-12-03T03:00:00Z')).outcome).toBe('completed');
    expect((await api.request('PUT', '/v1/rules', { body: { scrubbedCopies: { enforcement: 'block' } } })).status).toBe(200);
    try {
      const refused = await run('later', '2026-12-04T03:00:00Z', 'compliance-clone-rejected');
      expect(refused.outcome).toBe('rejected');
      expect(refused.message).toContain('scrubbedCopies');
      // The previous run's clone went first (a run replaces it), and the new one was never written.
      expect(await api.catalog.clones.get('clone-shop-later-20261204T030000Z')).toBeUndefined();
      expect(await api.catalog.environments.get('shop-later')).toBeUndefined();
    } finally {
      expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
    }
  });

  it('a scheduled drill: the clone made, validated and torn down; the report kept under the run\'s drill id', async () => {
    const body = { ...nightly({ id: 'drills', kind: 'drill', drill: { objectives: { rtoSeconds: 3600 } } }, { name: 'shop-drill-weekly', cluster: 'dr-eu' }) };
    expect((await api.request('POST', '/v1/schedules', { token: operator, body })).status).toBe(201);
    const result = await run('drills', '2026-12-06T04:00:00Z', 'compliance-clone-drill');
    expect(result).toMatchObject({ outcome: 'completed', kind: 'drill', drillId: 'drill-shop-prod-20261206T040000Z', cloneId: 'clone-shop-drill-weekly-20261206T040000Z' });
    const report = (await api.request<{ outcome: string; tornDown: boolean }>('GET', '/v1/drills/drill-shop-prod-20261206T040000Z')).body;
    expect(report).toMatchObject({ outcome: 'passed', tornDown: true });
    expect((await api.catalog.clones.require(result.cloneId)).state).toBe('torn-down');
    expect(await api.catalog.clones.list({ name: 'shop-drill-weekly', active: true })).toEqual([]);
  });
});
