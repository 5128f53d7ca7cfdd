// flotilla schedule create|get|pause|resume|trigger|delete: flags → the request the API gets, and
// the commands against the real API (schedules in memory: the time-skipping test server has none;
// test/integration/schedule.test.ts runs them on the dev server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchedule } from '../../../cli/commands/schedule.js';
import { CliError, EXIT } from '../../../cli/exit-codes.js';
import { run } from '../../../cli/program.js';
import { scheduleScope } from '../../../store/secrets.js';
import { kubeconfigCluster } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { startWorkflowApi, type WorkflowApi } from '../../support/workflow-api.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), readStdin: async () => '' } };
}

describe('schedule flags → request', () => {
  it('a clone every 24 h with data and a secret; a drill by cron with its objectives and checks', () => {
    expect(buildSchedule('nightly-eu', {
      source: 'shop-prod', name: 'shop-compliance', cluster: 'comp-eu', every: '24h', data: ['orders-db=scrubbed'], ttl: '20h',
      secret: ['CACHE_URL=redis://c:6379/0'], format: 'table', paused: true, note: 'eu audit',
    })).toEqual({
      id: 'nightly-eu', kind: 'clone', every: '24h', paused: true, note: 'eu audit',
      clone: { source: 'shop-prod', name: 'shop-compliance', cluster: 'comp-eu', data: { 'orders-db': 'scrubbed' }, ttl: '20h' },
      secrets: { CACHE_URL: 'redis://c:6379/0' },
    });
    expect(buildSchedule('weekly-drill', {
      source: 'shop-prod', name: 'shop-dr', cluster: 'dr-eu', kind: 'drill', cron: '0 3 * * 1', timezone: 'Europe/Berlin',
      rto: '15m', check: ['web/healthz'], keep: true, format: 'table',
    })).toEqual({
      id: 'weekly-drill', kind: 'drill', cron: '0 3 * * 1', timezone: 'Europe/Berlin',
      clone: { source: 'shop-prod', name: 'shop-dr', cluster: 'dr-eu' },
      drill: { objectives: { rtoSeconds: 900 }, http: [{ service: 'web', path: '/healthz' }], keep: true },
    });
  });

  it('refuses neither or both of --every and --cron, and --ttl on a drill (usage errors)', () => {
    const base = { source: 's', name: 'n', cluster: 'c', format: 'table' as const };
    for (const o of [base, { ...base, every: '1h', cron: '@daily' }, { ...base, every: '1h', kind: 'drill' as const, ttl: '1h' }]) {
      expect(() => buildSchedule('x', o)).toThrow(CliError);
      try {
        buildSchedule('x', o);
      } catch (error) {
        expect((error as CliError).exitCode).toBe(EXIT.usage);
      }
    }
  });
});

describe('flotilla schedule against the API', { timeout: 60_000 }, () => {
  let api: WorkflowApi;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    api = await startWorkflowApi();
    for (const [name, labels] of [['prod-1', { tier: 'prod' }], ['comp-1', { tier: 'compliance' }]] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, labels) })).status).toBe(202);
    }
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-prod', tier: 'prod', cluster: 'prod-1' }) })).status).toBe(201);
    env = { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: await api.token('operator', undefined, 'olga') };
  }, 120_000);
  afterAll(() => api?.close());

  it('create, get (list and one), pause, resume, trigger, delete', async () => {
    const c = io();
    expect(await run(['schedule', 'create', 'nightly', '--source', 'shop-prod', '--name', 'shop-comp', '--cluster', 'comp-1', '--every', '24h',
      '--data', 'orders-db=scrubbed', '--secret', 'CACHE_URL=redis://comp:6379/0'], c.io, env), c.err.join('\n')).toBe(0);
    expect(c.out.join('\n')).toContain('Schedule:   nightly (clone)');
    expect(c.out.join('\n')).toContain('When:       every 1d');
    expect(c.out.join('\n')).toContain('Clone:      shop-prod → shop-comp on comp-1 (data orders-db=scrubbed)');
    expect(c.out.join('\n') + c.err.join('\n')).not.toContain('redis://comp');
    expect(await api.catalog.secrets.get(scheduleScope('nightly'), 'CACHE_URL')).toBe('redis://comp:6379/0');

    const list = io();
    expect(await run(['schedule', 'get'], list.io, env)).toBe(0);
    expect(list.out.join('\n')).toMatch(/ID\s+KIND\s+WHEN\s+STATE/i);
    expect(list.out.join('\n')).toMatch(/nightly\s+clone\s+every 1d\s+active/);

    for (const [what, word] of [['pause', 'paused'], ['resume', 'resumed'], ['trigger', 'triggered']] as const) {
      const o = io();
      expect(await run(['schedule', what, 'nightly'], o.io, env), o.err.join('\n')).toBe(0);
      expect(o.out.join('\n')).toBe(`schedule nightly ${word}`);
    }
    expect(api.schedules.triggered).toEqual(['nightly']);
    const one = io();
    expect(await run(['schedule', 'get', 'nightly', '-o', 'json'], one.io, env)).toBe(0);
    expect(JSON.parse(one.out.join('\n'))).toMatchObject({ id: 'nightly', paused: false, every: 86_400 });

    const del = io();
    expect(await run(['schedule', 'delete', 'nightly'], del.io, env)).toBe(0);
    const gone = io();
    expect(await run(['schedule', 'get', 'nightly'], gone.io, env)).toBe(EXIT.notFound);
  });
});
