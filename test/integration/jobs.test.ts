// An application's jobs (issue 13), through the API, on the real Temporal dev server, a worker
// and a shared local cluster, with kubectl as the check: a CronJob created from the spec and run
// (a Job made from it with `kubectl create job --from`, which the real CronJob and Job controllers
// and KWOK's pods complete) and compared by the observer (a hand edit of its schedule is drift,
// the API server's defaults are not); an afterDeploy job created and completed, reading the environment's
// secret; a beforeDeploy job that fails (KWOK's crash fault; its pod's log a file we wrote, served
// through KWOK's ClusterLogs) blocks the deploy with the log's tail in the error (the secret value
// it printed masked), and nothing else changes: the Deployment, the CronJob and the deployed
// revision stay as they were; a failing beforeTeardown job stops a teardown with nothing removed,
// and once it passes the teardown removes the CronJob and the jobs with the rest. What is
// expected comes from kubectl and from what we wrote.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAULT_IMAGES } from '../../local/kwok-faults.js';
import { appendLogLines, removeServiceLog, serviceLogFile } from '../../local/pod-logs.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';
import { startObserverProcess, type WorkerProcess } from '../support/worker-process.js';

const [cluster] = inject('clusters');
const binary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `jobs-${run}`;
const name = `jobs-${run}`;
const token = `smoke-token-${run}-${Math.random().toString(36).slice(2, 10)}`;
const k = (args: string[]) => kubectl(binary, cluster!.kubeconfigPath, args);
const kj = <T>(args: string[]) => kubectlJson<T>(binary, cluster!.kubeconfigPath, args);
const short = (revision: string) => revision.replace(/^sha256:/, '').slice(0, 12);

interface Operation { id: string; state: string; outcome?: string; message?: string }
interface JobJson { metadata: { name: string; labels: Record<string, string> }; spec: { activeDeadlineSeconds?: number; template: { spec: { containers: { env?: unknown[] }[] } } }; status: { conditions?: { type: string; status: string; reason?: string }[] } }
interface CronJobJson { metadata: { labels: Record<string, string>; generation: number }; spec: { schedule: string; timeZone?: string; successfulJobsHistoryLimit?: number; jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } } }
interface DriftItem { environment: string; objects: { kind: string; name: string; reason: string; fields: { path: string; expected?: unknown; actual?: unknown }[] }[] }
interface FleetCluster { name: string; environments: { name: string; drifted: boolean }[] }
interface DeploymentJson { metadata: { generation: number; resourceVersion: string }; spec: { template: { spec: { containers: { image: string }[] } } } }

const report = { name: 'report', schedule: '0 3 * * *', timeZone: 'Europe/Paris', image: 'ghcr.io/acme/report:1.0.0', command: ['report'], env: { LEVEL: { config: 'log-level' } }, successfulJobsHistoryLimit: 2 };
const smoke = { name: 'smoke', hook: 'afterDeploy', image: 'ghcr.io/acme/smoke:1.0.0', command: ['smoke'], env: { TOKEN: { secret: 'SMOKE_TOKEN' } }, timeoutSeconds: 120 };
const app = (version: string, extra: Record<string, unknown> = {}) => ({ ...shopSpec(version, ['web']), secrets: ['SMOKE_TOKEN'], cronJobs: [report], jobs: [smoke], ...extra });

describe('jobs of an application', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let logFile: string;
  let observer: WorkerProcess;
  let first: string;

  const operation = async (id: string) => (await api.request<Operation>('GET', `/v1/operations/${id}`)).body;
  const finished = async (id: string, timeoutMs = 180_000) => {
    let last: Operation | undefined;
    await until(`operation ${id} to end`, async () => {
      last = await operation(id);
      return ['completed', 'failed', 'cancelled', 'terminated'].includes(last.state);
    }, timeoutMs);
    return last!;
  };
  const deploy = async () => {
    const started = await api.request<{ operationId: string }>('POST', `/v1/environments/${name}/deploy`, { body: {} });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return finished(started.body.operationId);
  };
  const drift = async () => (await api.request<{ items: DriftItem[] }>('GET', '/v1/drift')).body.items.find((i) => i.environment === name);
  const observedClean = async () => {
    const { clusters } = (await api.request<{ clusters: FleetCluster[] }>('GET', '/v1/fleet')).body;
    return clusters.find((c) => c.name === cluster!.name)?.environments.some((e) => e.name === name && !e.drifted) ?? false;
  };
  const deployed = async () => (await api.request<{ deployed?: { revision: string } }>('GET', `/v1/environments/${name}`)).body.deployed?.revision;

  beforeAll(async () => {
    tc = await testCatalog([cluster!]);
    client = await tierClient();
    worker = await runFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }),
    });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    await tc.catalog.clusters.updateStatus(cluster!.name, { status: 'ready' });
    observer = startObserverProcess({
      FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, FLOTILLA_OBSERVER_ID: `jobs-${run}`,
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), FLOTILLA_TASK_QUEUE: taskQueue,
    });
    await observer.ready;
    // The failing job's log, before its pod exists: KWOK serves a ClusterLogs once its watch has seen it.
    logFile = await serviceLogFile(binary, cluster!.kubeconfigPath, { namespace: name, service: 'preflight' });
    appendLogLines(logFile, ['preflight: checking the orders schema', `preflight: using token ${token}`, `ERROR: column orders.v2_total is missing (${run})`]);
    appendLogLines(await serviceLogFile(binary, cluster!.kubeconfigPath, { namespace: name, service: 'farewell' }), [`ERROR: the backup bucket is unreachable (${run})`]);
  }, 180_000);
  afterAll(async () => {
    await observer?.kill('SIGTERM');
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    for (const service of ['preflight', 'farewell']) await removeServiceLog(binary, cluster!.kubeconfigPath, { namespace: name, service }).catch(() => {});
  });

  it('creates the CronJob, which runs, and runs the afterDeploy job to completion', async () => {
    const created = await api.request('POST', '/v1/environments', {
      body: { apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name }, spec: { application: 'shop', tier: 'staging', cluster: cluster!.name, app: app('1.0.0') } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await api.request('PUT', `/v1/environments/${name}/secrets/SMOKE_TOKEN`, { body: { value: token } })).status).toBe(204);

    const op = await deploy();
    expect(op, JSON.stringify(op)).toMatchObject({ state: 'completed', outcome: 'completed' });
    first = (await deployed())!;
    expect(first).toMatch(/^sha256:/);

    // The CronJob, as the spec says, labelled as Flotilla's.
    const cron = await kj<CronJobJson>(['get', 'cronjob', 'report', '-n', name, '-o', 'json']);
    expect(cron.spec).toMatchObject({ schedule: '0 3 * * *', timeZone: 'Europe/Paris', successfulJobsHistoryLimit: 2 });
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0]?.image).toBe('ghcr.io/acme/report:1.0.0');
    expect(cron.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.dev/environment': name, 'flotilla.dev/revision': short(first) });
    // The observer compares it with the revision: the API server's defaults are no drift, a hand edit is.
    await until('the environment observed without drift', observedClean, 60_000);
    await k(['patch', 'cronjob', 'report', '-n', name, '--type', 'merge', '-p', '{"spec":{"schedule":"*/5 * * * *"}}']);
    await until('the edited schedule reported as drift', async () => {
      const fields = (await drift())?.objects.find((o) => o.kind === 'CronJob' && o.name === 'report')?.fields ?? [];
      return fields.some((f) => f.path === 'spec.schedule' && f.expected === '0 3 * * *' && f.actual === '*/5 * * * *');
    }, 30_000);
    await k(['patch', 'cronjob', 'report', '-n', name, '--type', 'merge', '-p', '{"spec":{"schedule":"0 3 * * *"}}']);
    await until('no drift once it is put back', async () => (await drift()) === undefined, 30_000);

    // Run now rather than wait for 03:00: a Job from its template, which the controllers complete.
    await k(['create', 'job', '--from=cronjob/report', `report-now-${run}`, '-n', name]);
    await k(['wait', '--for=condition=complete', `job/report-now-${run}`, '-n', name, '--timeout=90s']);

    // The afterDeploy job: named by the revision, completed, its secret from the environment's Secret.
    const jobs = await kj<{ items: JobJson[] }>(['get', 'jobs', '-n', name, '-l', 'flotilla.dev/hook=afterDeploy', '-o', 'json']);
    expect(jobs.items.map((j) => j.metadata.name)).toEqual([`smoke-${short(first)}`]);
    const [job] = jobs.items;
    expect(job!.status.conditions?.find((c) => c.type === 'Complete')?.status).toBe('True');
    expect(job!.spec.activeDeadlineSeconds).toBe(120);
    expect(job!.spec.template.spec.containers[0]?.env).toEqual([{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'shop-secrets', key: 'SMOKE_TOKEN' } } }]);
  }, 300_000);

  it('a failing beforeDeploy job blocks the deploy with its log tail in the error, and changes nothing else', async () => {
    const before = await kj<DeploymentJson>(['get', 'deployment', 'web', '-n', name, '-o', 'json']);
    const cronBefore = await kj<CronJobJson>(['get', 'cronjob', 'report', '-n', name, '-o', 'json']);
    const preflight = { name: 'preflight', hook: 'beforeDeploy', image: FAULT_IMAGES.crashLoop, command: ['preflight'], backoffLimit: 0, timeoutSeconds: 120 };
    const put = await api.request<{ revision: string }>('PUT', `/v1/environments/${name}/spec`, {
      body: app('2.0.0', { cronJobs: [{ ...report, schedule: '0 4 * * *' }], jobs: [preflight, smoke] }),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const second = put.body.revision;

    const op = await deploy();
    expect(op.state, JSON.stringify(op)).toBe('failed');
    expect(op.message).toContain('deploy stopped before any workload changed: beforeDeploy job failed');
    expect(op.message).toContain(`Job ${name}/preflight-${short(second)} failed`);
    expect(op.message).toContain(`ERROR: column orders.v2_total is missing (${run})`);
    expect(op.message).toContain('preflight: checking the orders schema');
    // The token the job printed is masked; never the value.
    expect(op.message).toContain('preflight: using token ***');
    expect(op.message).not.toContain(token);

    // The job ran and failed, in the cluster.
    const failed = await kj<JobJson>(['get', 'job', `preflight-${short(second)}`, '-n', name, '-o', 'json']);
    expect(failed.status.conditions?.find((c) => c.type === 'Failed')?.status).toBe('True');
    // Nothing else changed: the Deployment, the CronJob, no afterDeploy job of the new revision, the deployed revision.
    const after = await kj<DeploymentJson>(['get', 'deployment', 'web', '-n', name, '-o', 'json']);
    expect(after.spec.template.spec.containers[0]?.image).toBe('ghcr.io/acme/web:1.0.0');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    const cronAfter = await kj<CronJobJson>(['get', 'cronjob', 'report', '-n', name, '-o', 'json']);
    expect(cronAfter.spec.schedule).toBe('0 3 * * *');
    expect(cronAfter.metadata.generation).toBe(cronBefore.metadata.generation);
    const smokes = await kj<{ items: JobJson[] }>(['get', 'jobs', '-n', name, '-l', 'flotilla.dev/hook=afterDeploy', '-o', 'json']);
    expect(smokes.items.map((j) => j.metadata.name)).toEqual([`smoke-${short(first)}`]);
    expect(await deployed()).toBe(first);
  }, 300_000);

  it('a failing beforeTeardown job stops the teardown with nothing removed; once it passes, the teardown removes the CronJob and jobs with the rest', async () => {
    const farewell = { name: 'farewell', hook: 'beforeTeardown', image: FAULT_IMAGES.crashLoop, command: ['bye'], backoffLimit: 0, timeoutSeconds: 60 };
    const put = await api.request<{ revision: string }>('PUT', `/v1/environments/${name}/spec`, { body: app('1.0.0', { jobs: [smoke, farewell] }) });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(await deploy(), 'deploy with a beforeTeardown job').toMatchObject({ state: 'completed' });
    expect(await deployed()).toBe(put.body.revision);

    const teardown = async () => {
      const res = await api.request<{ operationId: string }>('DELETE', `/v1/environments/${name}`);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return finished(res.body.operationId);
    };
    const refused = await teardown();
    expect(refused.state, JSON.stringify(refused)).toBe('failed');
    expect(refused.message).toContain('teardown stopped before anything was removed: beforeTeardown job failed');
    expect(refused.message).toContain(`ERROR: the backup bucket is unreachable (${run})`);
    // A run of its own (named after the operation), deleted by Kubernetes a day after it ends.
    const runs = await kj<{ items: (JobJson & { spec: { ttlSecondsAfterFinished?: number } })[] }>(['get', 'jobs', '-n', name, '-l', 'flotilla.dev/hook=beforeTeardown', '-o', 'json']);
    expect(runs.items.map((j) => j.metadata.name)).toEqual([expect.stringMatching(new RegExp(`^farewell-${short(put.body.revision)}-[0-9a-z]{7}$`))]);
    expect(runs.items[0]!.spec.ttlSecondsAfterFinished).toBe(86_400);
    // Nothing removed, nothing forgotten.
    expect((await k(['get', 'deployment,cronjob', '-n', name, '-o', 'name'])).split('\n').filter(Boolean).sort()).toEqual(['cronjob.batch/report', 'deployment.apps/web']);
    expect((await api.request('GET', `/v1/environments/${name}`)).status).toBe(200);

    // Fixed: the teardown runs it and removes everything, the CronJob and the jobs included.
    const fixed = await api.request('PUT', `/v1/environments/${name}/spec`, { body: app('1.0.0', { jobs: [smoke, { ...farewell, image: 'ghcr.io/acme/farewell:1.0.0' }] }) });
    expect(fixed.status).toBe(200);
    expect(await deploy()).toMatchObject({ state: 'completed' });
    expect(await teardown()).toMatchObject({ state: 'completed', outcome: 'completed' });
    await until('the namespace to go', async () => (await k(['get', 'namespace', name, '--ignore-not-found', '-o', 'name'])).trim() === '', 120_000);
  }, 300_000);
});
