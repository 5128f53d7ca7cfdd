// flotilla clone / preview / ttl / delete clone / get|describe clone: flags → the request the API
// gets, and the commands against the real API with the real clone workflows (time-skipping test
// server, stub cluster and database activities): --wait, exit codes, the table and description.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClone } from '../../../cli/commands/clone.js';
import { buildDrill, parseCheck } from '../../../cli/commands/drill.js';
import { CliError, EXIT } from '../../../cli/exit-codes.js';
import { run } from '../../../cli/program.js';
import { environmentScope } from '../../../store/secrets.js';
import { kubeconfigCluster } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { startWorkflowApi, type WorkflowApi } from '../../support/workflow-api.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), readStdin: async () => '' } };
}

describe('clone flags → request', () => {
  it('overrides, data modes, secrets (inline and from files), TTL and the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clone-cli-'));
    writeFileSync(join(dir, 'cache-url'), 'redis://dr-cache:6379/0\n');
    expect(buildClone('shop-prod', 'shop-dr', {
      cluster: 'dr-eu', revision: 'abc123', tier: 'dr', namespace: 'shop-dr-ns',
      data: ['orders-db=snapshot', 'ledger=scrubbed,cache=none'], replicas: ['web=1,api=2'], config: ['public-url=https://dr.shop.example'],
      host: ['web=dr.shop.example'], secret: ['STRIPE_KEY=sk_test_a=b'], secretFile: [`CACHE_URL=${join(dir, 'cache-url')}`],
      ttl: '4h', purpose: 'drill', format: 'table',
    })).toEqual({
      source: 'shop-prod', name: 'shop-dr', cluster: 'dr-eu', revision: 'abc123', tier: 'dr', namespace: 'shop-dr-ns',
      overrides: { replicas: { web: 1, api: 2 }, config: { 'public-url': 'https://dr.shop.example' }, hostnames: { web: 'dr.shop.example' } },
      data: { 'orders-db': 'snapshot', ledger: 'scrubbed', cache: 'none' },
      secrets: { STRIPE_KEY: 'sk_test_a=b', CACHE_URL: 'redis://dr-cache:6379/0' },
      ttl: '4h', purpose: 'drill',
    });
    expect(buildClone('a', 'b', { cluster: 'c', format: 'table' })).toEqual({ source: 'a', name: 'b', cluster: 'c' });
  });

  it('refuses malformed flags (usage, exit 2), naming the flag and never a secret value', () => {
    const bad: Parameters<typeof buildClone>[2][] = [
      { cluster: 'c', data: ['orders-db'], format: 'table' },
      { cluster: 'c', replicas: ['web=two'], format: 'table' },
      { cluster: 'c', secret: ['=hidden-value-123'], format: 'table' },
      { cluster: 'c', secretFile: ['KEY=/nonexistent/file'], format: 'table' },
    ];
    for (const flags of bad) {
      let caught: unknown;
      try {
        buildClone('a', 'b', flags);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(flags)).toBeInstanceOf(CliError);
      expect((caught as CliError).exitCode).toBe(EXIT.usage);
      expect((caught as CliError).message).not.toContain('hidden-value-123');
    }
  });
});

describe('drill flags → request', () => {
  it('objectives, HTTP checks, keep, and the clone\'s flags', () => {
    expect(buildDrill('shop-prod', { cluster: 'dr-1', data: ['orders-db=scrubbed'], rto: '15m', rpo: '90s', check: ['web/healthz', 'api:8080/ready=204'], keep: true, format: 'table' })).toEqual({
      source: 'shop-prod', cluster: 'dr-1', data: { 'orders-db': 'scrubbed' }, objectives: { rtoSeconds: 900, rpoSeconds: 90 },
      http: [{ service: 'web', path: '/healthz' }, { service: 'api', port: 8080, path: '/ready', expectStatus: 204 }], keep: true,
    });
    expect(buildDrill('shop-prod', { cluster: 'dr-1', name: 'shop-dr', format: 'table' })).toEqual({ source: 'shop-prod', name: 'shop-dr', cluster: 'dr-1' });
    expect(() => parseCheck('Web Root')).toThrow(CliError);
    expect(() => buildDrill('a', { cluster: 'c', rto: 'soon', format: 'table' })).toThrow(CliError);
  });
});

describe('flotilla clone against the API', { timeout: 60_000 }, () => {
  let api: WorkflowApi;
  let env: Record<string, string>;
  beforeAll(async () => {
    api = await startWorkflowApi();
    for (const [name, labels] of [['prod-1', { tier: 'prod' }], ['dr-1', { tier: 'dr' }], ['preview-1', { tier: 'preview' }]] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, labels) })).status).toBe(202);
    }
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-prod', tier: 'prod', cluster: 'prod-1' }) })).status).toBe(201);
    env = { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: await api.token('release-manager', undefined, 'sam') };
  }, 120_000);
  afterAll(() => api?.close());

  it('clone --wait: phases on stderr, the clone described on stdout, exit 0 once ready', async () => {
    const o = io();
    const code = await run(['clone', 'shop-prod', 'shop-dr', '--cluster', 'dr-1', '--purpose', 'drill', '--data', 'orders-db=snapshot',
      '--secret', 'CACHE_URL=redis://dr-cache:6379/0', '--replicas', 'web=1', '--wait'], o.io, env);
    expect(code, o.err.join('\n')).toBe(0);
    expect(o.err.join('\n')).toMatch(/clone-shop-dr-1: (running|completed)/);
    const text = o.out.join('\n');
    expect(text).toContain('Clone:        clone-shop-dr-1');
    expect(text).toContain('Environment:  shop-dr (tier dr) on dr-1');
    expect(text).toMatch(/orders-db: snapshot, 0 tables, 0 rows/);
    expect(await api.catalog.secrets.get(environmentScope('shop-dr'), 'CACHE_URL')).toBe('redis://dr-cache:6379/0');
    expect(o.out.join('\n') + o.err.join('\n')).not.toContain('redis://dr-cache');
  });

  it('get clones: a table; describe clone: the full view', async () => {
    const o = io();
    expect(await run(['get', 'clones'], o.io, env)).toBe(0);
    expect(o.out[0]).toMatch(/^ID\s+NAME\s+SOURCE\s+REVISION\s+CLUSTER\s+PURPOSE\s+STATE\s+DATA\s+EXPIRES\s+AGE/);
    expect(o.out.join('\n')).toMatch(/clone-shop-dr-1\s+shop-dr\s+shop-prod\s+\S+\s+dr-1\s+drill\s+ready\s+orders-db=snapshot/);
    const d = io();
    expect(await run(['describe', 'clone', 'clone-shop-dr-1'], d.io, env)).toBe(0);
    expect(d.out.join('\n')).toContain('Source:       shop-prod');
  });

  it('a clone refused by the API exits 1 with the field named', async () => {
    const o = io();
    const code = await run(['clone', 'shop-prod', 'shop-x', '--cluster', 'dr-1', '--data', 'nope=snapshot', '--secret', 'CACHE_URL=redis://x:6379/0'], o.io, env);
    expect(code).not.toBe(0);
    expect(o.err.join('\n')).toContain('data.nope');
  });

  it('preview --ttl, then ttl --extend and delete clone --wait', async () => {
    const o = io();
    expect(await run(['preview', 'shop-prod', '--cluster', 'preview-1', '--ttl', '2h', '--secret', 'CACHE_URL=redis://pv:6379/0', '--wait'], o.io, env)).toBe(0);
    expect(o.out.join('\n')).toContain('Environment:  shop-prod-preview (tier preview) on preview-1');
    expect(o.out.join('\n')).toMatch(/Expires: {6}\S+/);
    const t = io();
    expect(await run(['ttl', 'clone-shop-prod-preview-1', '--extend', '6h'], t.io, env)).toBe(0);
    expect(t.out[0]).toMatch(/now expires at/);
    const bad = io();
    expect(await run(['ttl', 'clone-shop-prod-preview-1', '--extend', '1h', '--cancel'], bad.io, env)).toBe(EXIT.usage);
    const del = io();
    expect(await run(['delete', 'clone', 'clone-shop-prod-preview-1', '--wait'], del.io, env)).toBe(0);
    expect(del.out).toEqual(['clone clone-shop-prod-preview-1 torn down']);
    expect(await api.catalog.environments.get('shop-prod-preview')).toBeUndefined();
  });

  it('drill --wait prints the report and exits 0 when it passed; get drills lists it', async () => {
    const o = io();
    const code = await run(['drill', 'shop-prod', '--cluster', 'dr-1', '--tier', 'dr', '--secret', 'CACHE_URL=redis://drill:6379/0', '--rto', '1h', '--wait'], o.io, env);
    expect(code, o.err.join('\n')).toBe(0);
    expect(o.out.join('\n')).toMatch(/^# DR drill drill-shop-prod-1: PASSED/);
    expect(o.out.join('\n')).toMatch(/RTO: \S+ \(objective 60m00s: met\)/);
    const g = io();
    expect(await run(['get', 'drills'], g.io, env)).toBe(0);
    expect(g.out.join('\n')).toMatch(/drill-shop-prod-1\s+shop-prod\s+dr-1\s+passed/);
  });
});
