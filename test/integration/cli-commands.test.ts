// The flotilla CLI as a child process against the API running in this process (real SQLite
// catalog): login, apply, get, describe, diff, deploy, output formats and exit codes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigCluster, startTestApi, type TestApi } from '../support/api-server.js';
import { shopEnvironment } from '../support/fixtures.js';
import { recordOutput } from '../support/leak-registry.js';

const bin = resolve('cli/bin.ts');

interface Run { code: number; stdout: string; stderr: string }

function flotilla(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(process.execPath, ['--import', 'tsx', bin, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000,
    }, (error, stdout, stderr) => {
      recordOutput('cli', stdout + stderr);
      done({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    else child.stdin!.end();
  });
}

describe('flotilla CLI', () => {
  let api: TestApi;
  let home: string;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    api = await startTestApi();
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('dev-1', { tier: 'dev' }) })).status).toBe(202);
    home = mkdtempSync(join(tmpdir(), 'flotilla-cli-home-'));
    dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-files-'));
    env = { HOME: home };
  });
  afterAll(() => api.close());

  it('login refuses a bad token (exit 3), then saves a good one with mode 0600', async () => {
    const bad = await flotilla(['login', '--server', api.base, '--token', 'flt_wrong'], env);
    expect(bad.code).toBe(3);
    const good = await flotilla(['login', '--server', api.base, '--token', '-'], env, `${api.admin}\n`);
    expect(good.code, good.stderr).toBe(0);
    const file = join(home, '.config', 'flotilla', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: api.base, token: api.admin });
  });

  it('applies a YAML file, and stdin with -f -', async () => {
    const file = join(dir, 'envs.yaml');
    const b = shopEnvironment({ name: 'shop-b', cluster: 'dev-1', tier: 'dev' }) as { spec: { overrides: { replicas: Record<string, number> } } };
    b.spec.overrides.replicas = { web: 5 };
    writeFileSync(file, `${stringify(shopEnvironment({ name: 'shop-a', cluster: 'dev-1', tier: 'dev' }))}---\n${stringify(b)}`);
    const res = await flotilla(['apply', '-f', file], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('environment/shop-a created\nenvironment/shop-b created\n');
    const again = await flotilla(['apply', '-f', '-', '-o', 'json'], env, readFileSync(file, 'utf8'));
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { results: { action: string }[] }).results.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('gets clusters, environments and operations as tables and JSON', async () => {
    const clusters = await flotilla(['get', 'clusters'], env);
    expect(clusters.code).toBe(0);
    expect(clusters.stdout).toMatch(/^NAME\s+PROVIDER\s+REGION\s+STATUS/);
    expect(clusters.stdout).toMatch(/dev-1\s+kubeconfig\s+onboarding/);
    const envs = await flotilla(['get', 'environments', '-o', 'json'], env);
    expect((JSON.parse(envs.stdout) as { items: { name: string }[] }).items.map((e) => e.name)).toEqual(['shop-a', 'shop-b']);
    const ops = await flotilla(['get', 'operations', '-o', 'yaml'], env);
    expect(ops.stdout).toContain('id: onboard-dev-1');
  });

  it('describes, diffs and deploys', async () => {
    const described = await flotilla(['describe', 'environment', 'shop-a'], env);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain('name: shop-a');
    const diff = await flotilla(['diff', 'shop-a', 'shop-b'], env);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('~ overrides.replicas.web: 3 → 5   (override)');
    expect(diff.stdout).toContain('zero drift');
    const deploy = await flotilla(['deploy', 'shop-a'], env);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toMatch(/^deploy started: operation deploy-shop-a-[0-9a-f]{12}-1\n$/);
    const json = await flotilla(['deploy', 'shop-b', '-o', 'json'], env);
    expect(JSON.parse(json.stdout)).toEqual({ operationId: expect.stringMatching(/^deploy-shop-b-/) });
  });

  it('exits 2 for a bad or missing file, 4 for not found, 3 for a bad token, 5 when unreachable', async () => {
    const invalid = join(dir, 'bad.yaml');
    const doc = shopEnvironment({ name: 'shop-c', cluster: 'dev-1', tier: 'dev' }) as { spec: { app: { services: Record<string, unknown>[] } } };
    doc.spec.app.services[0]!.replicas = 'many';
    writeFileSync(invalid, stringify(doc));
    const bad = await flotilla(['apply', '-f', invalid], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('spec.app.services[0].replicas');
    expect((await flotilla(['apply', '-f', join(dir, 'missing.yaml')], env)).code).toBe(2);
    expect((await flotilla(['describe', 'cluster', 'nope'], env)).code).toBe(4);
    expect((await flotilla(['get', 'clusters'], { ...env, FLOTILLA_TOKEN: 'flt_revoked' })).code).toBe(3);
    expect((await flotilla(['get', 'clusters'], { ...env, FLOTILLA_SERVER: 'http://127.0.0.1:9' })).code).toBe(5);
  });
});
