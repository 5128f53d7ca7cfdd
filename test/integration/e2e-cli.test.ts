// End to end through the `flotilla` CLI (child processes) against the API (in this process,
// over a real SQLite catalog, starting real workflows), a worker, the real Temporal dev server
// and the two local clusters: login, register two clusters and wait for onboarding, apply
// environments and rules, deploy, change staging and deploy it, promote staging to prod with an
// approval given by a second release-manager, then check prod with kubectl and `flotilla diff`;
// a plain `flotilla deploy prod` afterwards keeps the promoted revision (desired follows promotions).
//
// Clusters are registered with POST /v1/clusters and an inline kubeconfig: a `kind: Cluster`
// document can only name a kubeconfig secret already in the catalog, and neither the API nor
// the CLI stores such a secret on its own.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABEL } from '../../domain/labels.js';
import { shortRevision } from '../../domain/revision.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { captureOutput, recordOutput } from '../support/leak-registry.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { liveObjects, shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const bin = resolve('cli/bin.ts');
const toolchain = inject('toolchain');
const [a, b] = inject('clusters') as [ReturnType<typeof inject<'clusters'>>[number], ReturnType<typeof inject<'clusters'>>[number]];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `e2e-cli-${run}`;
const clusterA = `e2e-a-${run}`;
const clusterB = `e2e-b-${run}`;
const staging = `shop-staging-${run}`;
const prod = `shop-prod-${run}`;

interface Run { code: number; stdout: string; stderr: string }

describe('flotilla CLI end to end: register, apply, deploy, promote with approval', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let env: Record<string, string>;
  let dir: string;
  const tokens = { rita: '', bob: '' };
  const children: ChildProcess[] = [];

  function flotilla(args: string[], extra: Record<string, string> = {}, stdin?: string): Promise<Run> {
    return new Promise((done) => {
      const child = execFile(process.execPath, ['--import', 'tsx', bin, ...args], {
        env: { PATH: process.env.PATH ?? '', ...env, ...extra }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024,
      }, (error, stdout, stderr) => {
        recordOutput('e2e-cli', stdout + stderr);
        done({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr });
      });
      child.stdin!.end(stdin ?? '');
    });
  }

  /** A command left running (promote --wait): its output so far, and its end. */
  function background(args: string[], extra: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    captureOutput('e2e-cli', child);
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => void (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (out.stderr += d.toString()));
    const ended = new Promise<Run>((done) => child.on('close', (code) => done({ code: code ?? 99, ...out })));
    return { out, ended };
  }

  const write = (name: string, docs: unknown[]) => {
    const file = join(dir, name);
    writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
    return file;
  };
  const environment = (name: string, tier: string, cluster: string, version: string, overrides: Record<string, unknown> = {}) => ({
    apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name },
    spec: { application: 'shop', tier, cluster, app: shopSpec(version), overrides },
  });

  beforeAll(async () => {
    tc = await testCatalog();
    client = await tierClient();
    worker = await runFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }),
    });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    dir = mkdtempSync(join(tmpdir(), 'flotilla-e2e-'));
    env = { HOME: mkdtempSync(join(tmpdir(), 'flotilla-e2e-home-')) };
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill();
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
  });

  it('logs in, registers both clusters and waits until onboarding made them ready', async () => {
    const login = await flotilla(['login', '--server', api.base, '--token', '-'], {}, `${api.admin}\n`);
    expect(login.code, login.stderr).toBe(0);
    for (const [name, cluster] of [[clusterA, a], [clusterB, b]] as const) {
      const res = await api.request<{ operationId: string }>('POST', '/v1/clusters', {
        body: { name, labels: cluster.labels, allowedTiers: cluster.allowedTiers, connection: { provider: 'kubeconfig' }, kubeconfig: cluster.kubeconfig },
      });
      expect(res.status).toBe(202);
      expect(res.body.operationId).toBe(`onboard-${name}`);
    }
    await until('both clusters ready', async () => {
      const got = await flotilla(['get', 'clusters', '-o', 'json']);
      const items = (JSON.parse(got.stdout) as { items: { name: string; status: string }[] }).items;
      return [clusterA, clusterB].every((n) => items.find((c) => c.name === n)?.status === 'ready');
    }, 180_000);
    const table = await flotilla(['get', 'clusters']);
    expect(table.stdout).toMatch(new RegExp(`${clusterA}\\s+kubeconfig\\s+\\S*\\s*ready`));
  });

  it('applies staging (cluster A), prod (cluster B, its own replicas) and rules, and deploys both with --wait', async () => {
    const file = write('shop.yaml', [
      { apiVersion: 'flotilla.dev/v1', kind: 'Rules', spec: { approvals: { prod: { required: 1, fourEyes: true } } } },
      environment(staging, 'staging', clusterA, '1.0.0'),
      environment(prod, 'prod', clusterB, '1.0.0', { replicas: { web: 3 } }),
    ]);
    const applied = await flotilla(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`environment/${staging} created`);
    expect(applied.stdout).toContain(`environment/${prod} created`);
    for (const name of [staging, prod]) {
      const deployed = await flotilla(['deploy', name, '--wait']);
      expect(deployed.code, deployed.stderr).toBe(0);
      expect(deployed.stdout).toMatch(/operation deploy-.* completed/);
    }
  });

  it('changes staging (a new image tag) with apply -f and deploys it', async () => {
    const file = write('staging-v2.yaml', [environment(staging, 'staging', clusterA, '2.0.0')]);
    const applied = await flotilla(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`environment/${staging} configured`);
    const deployed = await flotilla(['deploy', staging, '--wait']);
    expect(deployed.code, deployed.stderr).toBe(0);
  });

  it('promotes staging to prod with --approve-before prod --wait; the requester may not approve, a second release-manager does', async () => {
    for (const name of ['rita', 'bob'] as const) {
      const res = await api.request<{ token: string }>('POST', '/v1/tokens', { body: { name, role: 'release-manager' } });
      expect(res.status).toBe(201);
      tokens[name] = res.body.token;
    }
    const promoting = background(['promote', staging, '--to', prod, '--approve-before', 'prod', '--wait'], { FLOTILLA_TOKEN: tokens.rita });
    await until('the approve command', async () => /run: flotilla approve (\S+)/.test(promoting.out.stderr), 120_000);
    const id = /run: flotilla approve (\S+)/.exec(promoting.out.stderr)![1]!;
    expect(id).toMatch(new RegExp(`^promote-${staging}-[0-9a-f]{12}-1$`));

    const shown = await flotilla(['get', 'promotion', id]);
    expect(shown.stdout).toMatch(new RegExp(`default\\s+awaiting-approval\\s+required \\(four eyes\\)\\s+${prod}\\s+${clusterB}\\s+prod\\s+pending`));
    const self = await flotilla(['approve', id], { FLOTILLA_TOKEN: tokens.rita });
    expect(self.code).toBe(3);
    expect(self.stderr).toContain('four eyes');
    const approved = await flotilla(['approve', id, '--comment', 'staging looks good'], { FLOTILLA_TOKEN: tokens.bob });
    expect(approved.code, approved.stderr).toBe(0);

    const result = await promoting.ended;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`promotion ${id} completed\n`);
    // --wait polls: a deploy quicker than one poll shows no "deploying" line, only the outcome.
    expect(result.stderr).toContain(`stage default: ${prod} (${clusterB}): succeeded`);
    const described = await flotilla(['describe', 'promotion', id]);
    expect(described.stdout).toMatch(/Phase:\s+completed/);
    expect(described.stdout).toContain('approval: approved by bob ("staging looks good")');
  });

  it('prod runs the new image with its own replicas (kubectl), and differs from staging in overrides only', async () => {
    const revision = (await tc.catalog.environments.require(staging)).deployed!.revision;
    const deployments = (await liveObjects(toolchain.kubectl, b.kubeconfigPath, prod)).filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['api', 'web']);
    for (const d of deployments) {
      expect(d.metadata.labels?.[LABEL.revision]).toBe(shortRevision(revision));
      expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe(`ghcr.io/acme/${d.metadata.name}:2.0.0`);
    }
    expect(deployments.find((d) => d.metadata.name === 'web')!.spec?.replicas).toBe(3);
    expect(deployments.find((d) => d.metadata.name === 'api')!.spec?.replicas).toBe(1);

    const diff = await flotilla(['diff', staging, prod, '-o', 'json']);
    expect(diff.code, diff.stderr).toBe(0);
    const body = JSON.parse(diff.stdout) as { a: { revision: string }; b: { revision: string }; overrides: { path: string }[]; other: unknown[]; zeroDrift: boolean };
    expect(body.a.revision).toBe(revision);
    expect(body.b.revision).toBe(revision);
    expect(body.other).toEqual([]);
    expect(body.overrides.map((d) => d.path)).toEqual(['overrides.replicas.web']);
    expect(body.zeroDrift).toBe(true);
  });

  it('a plain `flotilla deploy prod` after the promotion keeps prod on the promoted revision', async () => {
    const promoted = (await tc.catalog.environments.require(staging)).deployed!.revision;
    const described = await flotilla(['get', 'environment', prod, '-o', 'json']);
    expect(described.code, described.stderr).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({ currentRevision: promoted, deployed: { revision: promoted } });

    const deployed = await flotilla(['deploy', prod, '--wait']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toMatch(new RegExp(`operation deploy-${prod}-${shortRevision(promoted)}-\\d+ completed`));
    const deployments = (await liveObjects(toolchain.kubectl, b.kubeconfigPath, prod)).filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => `${d.metadata.name}@${d.metadata.labels?.[LABEL.revision]}:${d.spec?.template?.spec?.containers?.[0]?.image}`).sort()).toEqual([
      `api@${shortRevision(promoted)}:ghcr.io/acme/api:2.0.0`, `web@${shortRevision(promoted)}:ghcr.io/acme/web:2.0.0`,
    ]);
    expect(await tc.catalog.environments.require(prod)).toMatchObject({ currentRevision: promoted, deployed: { revision: promoted } });
  });
});
