// An environment's logs on the shared local fleet: one application deployed by the real worker
// to both clusters (two `web` pods on one, one on the other) and a dev environment beside it;
// KWOK serves each service's pods a log file we write (local/pod-logs.ts: ClusterLogs, CRI
// format) through the real API servers. Checked through the API (as Flotilla's agent) and the
// CLI: lines of both clusters' pods come back merged in time order with their cluster and pod,
// a followed stream gets a line written after it started, tail/limitBytes/timeout hold, and a
// viewer scoped to dev is refused prod's logs. What is expected comes from what we wrote and
// from kubectl's list of pods, not from the code under test.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appendLogLines, removeServiceLog, serviceLogFile } from '../../local/pod-logs.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { captureOutput, recordOutput } from '../support/leak-registry.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { createEnvironments, deployAll, shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const bin = resolve('cli/bin.ts');
const toolchain = inject('toolchain');
const [a, b] = inject('clusters') as [ReturnType<typeof inject<'clusters'>>[number], ReturnType<typeof inject<'clusters'>>[number]];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `logs-${run}`;
const us = `logs-us-${run}`;
const eu = `logs-eu-${run}`;
const dev = `logs-dev-${run}`;

interface Event { type: string; environment?: string; cluster?: string; pod?: string; container?: string; line?: string; time?: string; reason?: string; message?: string; lines?: number; bytes?: number; dropped?: number }
interface Run { code: number; stdout: string; stderr: string }

describe('environment logs across clusters', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let home: string;
  const files = {} as Record<'usWeb' | 'usApi' | 'euWeb' | 'devWeb', string>;
  const pods = {} as Record<'usWeb' | 'euWeb' | 'devWeb', string[]>;
  const children: ChildProcess[] = [];

  const get = async (path: string, headers: Record<string, string> = {}, token = api.admin) =>
    fetch(`${api.base}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const events = async (path: string, token?: string): Promise<Event[]> => {
    const res = await get(path, { accept: 'application/x-ndjson' }, token);
    const text = await res.text();
    recordOutput('logs-test', text);
    expect(res.status, text).toBe(200);
    return text.trim().split('\n').map((l) => JSON.parse(l) as Event);
  };
  const lines = (list: Event[]) => list.filter((e) => e.type === 'line').map((e) => `${e.cluster}/${e.pod} ${e.line}`);
  const podNames = async (kubeconfigPath: string, namespace: string, service: string) =>
    (await kubectlJson<{ items: { metadata: { name: string } }[] }>(toolchain.kubectl, kubeconfigPath, ['get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/name=${service}`]))
      .items.map((p) => p.metadata.name).sort();

  function flotilla(args: string[], token = api.admin): Promise<Run> {
    return new Promise((done) => {
      execFile(process.execPath, ['--import', 'tsx', bin, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: home, FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: token }, timeout: 60_000,
      }, (error, stdout, stderr) => {
        recordOutput('logs-cli', stdout + stderr);
        done({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    tc = await testCatalog([a, b]);
    client = await tierClient();
    worker = await runFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }),
    });
    // The files first: ClusterLogs are cluster-scoped and select by namespace, so the pods find them when they start.
    files.usWeb = await serviceLogFile(toolchain.kubectl, a.kubeconfigPath, { namespace: us, service: 'web' });
    files.usApi = await serviceLogFile(toolchain.kubectl, a.kubeconfigPath, { namespace: us, service: 'api' });
    files.euWeb = await serviceLogFile(toolchain.kubectl, b.kubeconfigPath, { namespace: eu, service: 'web' });
    files.devWeb = await serviceLogFile(toolchain.kubectl, a.kubeconfigPath, { namespace: dev, service: 'web' });
    await createEnvironments(tc.catalog, [
      { name: us, tier: 'prod', cluster: a.name, overrides: { replicas: { web: 2 } } },
      { name: eu, tier: 'prod', cluster: b.name },
      { name: dev, tier: 'dev', cluster: a.name },
    ], shopSpec('1.0.0'));
    await deployAll(client, taskQueue, [us, eu, dev], 'v1');
    api = await startLiveApi(tc.catalog, client, taskQueue);
    home = mkdtempSync(join(tmpdir(), 'flotilla-logs-home-'));
    pods.usWeb = await podNames(a.kubeconfigPath, us, 'web');
    pods.euWeb = await podNames(b.kubeconfigPath, eu, 'web');
    pods.devWeb = await podNames(a.kubeconfigPath, dev, 'web');
    expect([pods.usWeb.length, pods.euWeb.length, pods.devWeb.length]).toEqual([2, 1, 1]);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill();
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    for (const [cluster, namespace, service] of [[a, us, 'web'], [a, us, 'api'], [b, eu, 'web'], [a, dev, 'web']] as const) {
      await removeServiceLog(toolchain.kubectl, cluster.kubeconfigPath, { namespace, service }).catch(() => {});
    }
  });

  it('kubectl reads what we wrote, in the CRI format, from a simulated pod', async () => {
    appendLogLines(files.usWeb, 'us web 1');
    // KWOK starts serving a ClusterLogs once its watch has seen it.
    await until('kubectl logs to serve the file', async () => (await kubectl(toolchain.kubectl, a.kubeconfigPath, ['logs', '-n', us, pods.usWeb[0]!]).catch(() => '')).includes('us web 1'), 30_000);
    expect(await kubectl(toolchain.kubectl, a.kubeconfigPath, ['logs', '-n', us, pods.usWeb[1]!])).toBe('us web 1\n');
  });

  it('merges the lines of both clusters\' pods in time order, each naming its cluster and pod', async () => {
    appendLogLines(files.euWeb, 'eu web 1');
    appendLogLines(files.usWeb, 'us web 2');
    appendLogLines(files.euWeb, 'eu web 2');
    appendLogLines(files.usApi, 'us api 1');
    const [u1, u2] = pods.usWeb as [string, string];
    const [e1] = pods.euWeb as [string];
    const want = [
      `${a.name}/${u1} us web 1`, `${a.name}/${u2} us web 1`, `${b.name}/${e1} eu web 1`,
      `${a.name}/${u1} us web 2`, `${a.name}/${u2} us web 2`, `${b.name}/${e1} eu web 2`,
    ];
    let got: Event[] = [];
    await until('both clusters\' lines', async () => lines(got = await events(`/v1/environments/${us}/logs?service=web&scope=application`)).length === want.length, 30_000);
    expect(lines(got)).toEqual(want);
    expect(got.filter((e) => e.type === 'line').map((e) => e.environment)).toEqual([us, us, eu, us, us, eu]);
    expect(got.at(-1)).toEqual({ type: 'end', reason: 'complete', message: 'all logs read', lines: 6, bytes: 54 });
    expect(got.filter((e) => e.type === 'error')).toEqual([]);

    // Plain text, as a person reads it.
    const text = await (await get(`/v1/environments/${us}/logs?service=web&scope=application`)).text();
    expect(text.split('\n')).toEqual([...want.map((w) => `[${w.replace(' ', '] ')}`), '-- end: all logs read (6 lines, 54 bytes)', '']);
    // Only its own cluster without scope=application; every service without `service`.
    expect(lines(await events(`/v1/environments/${us}/logs?service=web`))).toEqual(want.filter((w) => w.startsWith(a.name)));
    const all = lines(await events(`/v1/environments/${us}/logs`));
    expect(all.filter((l) => l.endsWith('us api 1'))).toHaveLength(1);
    expect(all).toHaveLength(5);
  });

  it('answers a container without logs with an error event for it, and the other lines still', async () => {
    // eu's `api` has no log file: KWOK answers as a kubelet would for a container without logs.
    const got = await events(`/v1/environments/${eu}/logs`);
    const apiPod = (await podNames(b.kubeconfigPath, eu, 'api'))[0]!;
    expect(got.filter((e) => e.type === 'error')).toEqual([{
      type: 'error', environment: eu, cluster: b.name, pod: apiPod, container: 'api', reason: 'BadRequest',
      message: expect.stringContaining(`no logs found for container "api" in pod "${eu}/${apiPod}"`),
    }]);
    expect(lines(got)).toEqual([`${b.name}/${pods.euWeb[0]} eu web 1`, `${b.name}/${pods.euWeb[0]} eu web 2`]);
    expect(got.at(-1)).toMatchObject({ type: 'end', reason: 'complete', lines: 2 });
  });

  it('holds its bounds: tail lines per pod, the byte limit (the newest lines), and refuses a tail over 5000', async () => {
    appendLogLines(files.euWeb, Array.from({ length: 30 }, (_, i) => `bulk ${String(i).padStart(2, '0')}`));
    const tail = await events(`/v1/environments/${eu}/logs?service=web&tail=5`);
    expect(lines(tail)).toEqual(['25', '26', '27', '28', '29'].map((n) => `${b.name}/${pods.euWeb[0]} bulk ${n}`));
    // 8 bytes a line ("bulk NN\n"): 20 bytes keep the newest two.
    const capped = await events(`/v1/environments/${eu}/logs?service=web&tail=10&limitBytes=20`);
    expect(lines(capped)).toEqual(['28', '29'].map((n) => `${b.name}/${pods.euWeb[0]} bulk ${n}`));
    expect(capped.at(-1)).toEqual({ type: 'end', reason: 'byte-limit', message: 'byte limit of 20 reached', lines: 2, bytes: 16, dropped: 8 });
    // Following, the limit ends the stream at the line that would pass it.
    const followed = await events(`/v1/environments/${eu}/logs?service=web&tail=5&follow=true&limitBytes=20`);
    expect(lines(followed)).toEqual(['25', '26'].map((n) => `${b.name}/${pods.euWeb[0]} bulk ${n}`));
    expect(followed.at(-1)).toEqual({ type: 'end', reason: 'byte-limit', message: 'byte limit of 20 reached', lines: 2, bytes: 16 });
    const refused = await get(`/v1/environments/${eu}/logs?tail=5001`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { details: { path: string }[] } }).error.details.map((d) => d.path)).toEqual(['query.tail']);
  });

  it('follows: a line written after the stream started arrives (server-sent events), and the timeout ends the stream saying so', async () => {
    const res = await get(`/v1/environments/${us}/logs?service=web&scope=application&follow=true&tail=1&timeout=20s`, { accept: 'text/event-stream' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const seen: Event[] = [];
    const reader = res.body!.getReader();
    let buffered = '';
    const pump = (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data) seen.push(JSON.parse(data) as Event);
        }
      }
    })().catch(() => {});
    // The last line of each of the three pods: every stream is open.
    await until('the followed streams to start', async () => seen.filter((e) => e.type === 'line').length === 3, 20_000);
    appendLogLines(files.euWeb, 'written while following');
    await until('the new line', async () => seen.some((e) => e.line === 'written while following'), 20_000);
    expect(seen.filter((e) => e.line === 'written while following').map((e) => `${e.cluster}/${e.pod}`)).toEqual([`${b.name}/${pods.euWeb[0]}`]);
    await reader.cancel();
    await pump;

    const started = Date.now();
    const timed = await events(`/v1/environments/${eu}/logs?service=web&follow=true&tail=0&timeout=2`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(timed).toEqual([{ type: 'end', reason: 'timeout', message: 'timeout of 2s reached', lines: 0, bytes: 0 }]);
  });

  it('the CLI prints both clusters\' lines merged, and with -f a line written after it started', async () => {
    const once = await flotilla(['logs', us, '-s', 'web', '--all-clusters', '--tail', '1']);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout.trim().split('\n').sort()).toEqual([
      `[${a.name}/${pods.usWeb[0]}] us web 2`, `[${a.name}/${pods.usWeb[1]}] us web 2`, `[${b.name}/${pods.euWeb[0]}] written while following`,
    ].sort());

    const child = spawn(process.execPath, ['--import', 'tsx', bin, 'logs', eu, '-s', 'web', '-f', '--tail', '1', '--timeout', '1m'], {
      env: { PATH: process.env.PATH ?? '', HOME: home, FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: api.admin }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    captureOutput('logs-cli', child);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    await until('the CLI to print the last line', async () => stdout.includes('written while following'), 30_000);
    appendLogLines(files.euWeb, 'written while the CLI follows');
    await until('the CLI to print the new line', async () => stdout.includes(`[${b.name}/${pods.euWeb[0]}] written while the CLI follows`), 20_000);
    child.kill();
  });

  it('refuses a viewer scoped to dev the logs of a prod environment (403, CLI exit 3), and gives it its dev ones', async () => {
    const { token } = await tc.catalog.tokens.create({ name: `dev-viewer-${run}`, role: 'viewer', tiers: ['dev'] });
    for (const query of ['', '?scope=application']) {
      const res = await get(`/v1/environments/${us}/logs${query}`, {}, token);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('this token may read tiers dev only, not prod');
    }
    const refused = await flotilla(['logs', us], token);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('may read tiers dev only, not prod');

    appendLogLines(files.devWeb, 'dev web 1');
    await until('the dev line', async () => lines(await events(`/v1/environments/${dev}/logs?service=web`, token)).includes(`${a.name}/${pods.devWeb[0]} dev web 1`), 30_000);
  });
});
