// Scheduled compliance clones on the real dev server's Temporal Schedules, through the API, with
// an in-process worker and the real fleet: a schedule that runs twice leaves exactly one clone
// (kubectl: one namespace, the clone's objects; the catalog: one clone not torn down); paused, no
// run starts (the temporal CLI counts the schedule's actions); a trigger runs it now, paused or
// not, and again leaves one clone. Deleting the schedule leaves its last clone, which goes with
// DELETE /v1/clones/{id}.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppSpecInput } from '../../domain/environment.js';
import { createEnvironment } from '../../store/changes.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';
import { pastNextDueTime } from '../support/wait.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');
type Cluster = ReturnType<typeof inject<'clusters'>>[number];
const [a, b] = (inject('clusters') as Cluster[]).map((c) => ({ ...c, allowedTiers: [...c.allowedTiers, 'compliance' as const] })) as [Cluster, Cluster];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `schedule-${run}`;
const src = `shop-sched-${run}`;
const cloneName = `shop-comp-${run}`;
const scheduleId = `nightly-${run}`;

const SPEC: AppSpecInput = {
  services: [{ name: 'web', image: 'ghcr.io/acme/web:4.2.0', ports: [{ port: 8080 }], replicas: 1, resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } } }],
};

interface ScheduleView {
  paused: boolean;
  runs: number;
  nextRuns: string[];
  recentRuns: { workflowId: string }[];
  running: string[];
  lastRun?: { workflowId: string; status: string; result?: { outcome: string; cloneId: string; replaced: string[]; message?: string } };
}

/** The schedule as the temporal CLI (not Flotilla) sees it: how many actions it took, and whether it is paused. */
async function temporalSchedule(): Promise<{ actions: number; paused: boolean }> {
  const { stdout } = await exec(toolchain.temporal, ['schedule', 'describe', '--address', inject('temporalAddress'), '--namespace', inject('temporalNamespace'), '--schedule-id', scheduleId, '-o', 'json']);
  const d = JSON.parse(stdout) as { info?: { actionCount?: number | string }; schedule?: { state?: { paused?: boolean } } };
  return { actions: Number(d.info?.actionCount ?? 0), paused: d.schedule?.state?.paused === true };
}

describe('scheduled compliance clones (Temporal Schedules)', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let token: string;

  beforeAll(async () => {
    tc = await testCatalog([a, b]);
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    token = (await tc.catalog.tokens.create({ name: 'compliance-bot', role: 'operator' })).token;
    await createEnvironment(tc.catalog, { binding: { name: src, application: 'shop', tier: 'staging', cluster: a.name, namespace: src }, spec: SPEC, author: 'setup' });
    await client.workflow.execute(deployEnvironment, { taskQueue, workflowId: `deploy-${src}`, args: [{ environment: src, requestedBy: 'setup', rolloutTimeoutSeconds: 120 }] });
  });
  afterAll(async () => {
    await client?.schedule.getHandle(scheduleId).delete().catch(() => undefined);
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
  });

  const view = async () => (await api.request<ScheduleView>('GET', `/v1/schedules/${scheduleId}`, { token })).body;
  /** Waits for the n-th run to end (its lastRun no longer running), and returns the schedule then. */
  const runEnded = async (n: number, timeoutMs: number) => {
    let last: ScheduleView | undefined;
    await until(`run ${n} of ${scheduleId} to end`, async () => {
      last = await view();
      return last.recentRuns.length >= n && last.running.length === 0 && last.lastRun !== undefined && last.lastRun.workflowId === last.recentRuns[n - 1]?.workflowId && last.lastRun.status !== 'RUNNING';
    }, timeoutMs);
    return last!;
  };
  /** Flotilla's namespaces on the clone's cluster (kubectl): exactly the clone's, when one clone is left. */
  const cloneNamespaces = async () => (await kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespaces', '-o', 'name'])).split('\n').filter((n) => n.includes(cloneName));
  const activeClones = async () => (await tc.catalog.clones.list({ name: cloneName, active: true })).map((c) => c.id);

  it('runs twice and leaves exactly one clone; paused, it runs no more; a trigger runs it now and still leaves one', async () => {
    // A cron expression of five fields that Temporal cannot read: 400 naming it, nothing made.
    const unreadable = await api.request<{ error: { details: { path: string }[] } }>('POST', '/v1/schedules', {
      token, body: { id: `${scheduleId}-bad`, cron: '61 25 * * *', clone: { source: src, name: `${cloneName}-bad`, cluster: b.name, tier: 'compliance' } },
    });
    expect([unreadable.status, unreadable.body.error.details.map((d) => d.path)]).toEqual([400, ['cron']]);
    expect((await api.request('GET', `/v1/schedules/${scheduleId}-bad`, { token })).status).toBe(404);

    const res = await api.request<ScheduleView>('POST', '/v1/schedules', {
      token, body: { id: scheduleId, every: '10s', clone: { source: src, name: cloneName, cluster: b.name, tier: 'compliance' } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.nextRuns.length).toBeGreaterThan(0);

    // Two runs on its own (every 10 s; a run still going on when the next is due is skipped).
    await runEnded(1, 120_000);
    const second = await runEnded(2, 180_000);
    expect(second.lastRun!.result, second.lastRun!.result?.message).toMatchObject({ outcome: 'completed' });
    // Two clones were made under the name: the first torn down (replaced), the second the one left.
    const made = await tc.catalog.clones.list({ name: cloneName, active: false });
    expect(made.map((c) => c.state).sort()).toEqual(['ready', 'torn-down']);
    const firstClone = made.find((c) => c.state === 'torn-down')!.id;
    expect(second.lastRun!.result!.replaced).toEqual([firstClone]);
    expect(await activeClones()).toEqual([second.lastRun!.result!.cloneId]);
    expect(await cloneNamespaces()).toEqual([`namespace/${cloneName}`]);
    expect(await kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'deployment', 'web', '-n', cloneName, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('ghcr.io/acme/web:4.2.0');

    // Paused: no run starts, though its time comes (the temporal CLI counts its actions).
    const paused = await api.request<ScheduleView>('POST', `/v1/schedules/${scheduleId}/pause`, { token, body: { note: 'audit freeze' } });
    expect(paused.body).toMatchObject({ paused: true });
    await until('the last run to end', async () => (await view()).running.length === 0, 120_000);
    const before = await temporalSchedule();
    expect(before.paused).toBe(true);
    // At least one due time (every 10 s) passes, and 5 s more in which it would have started a run.
    await pastNextDueTime(10, 5_000);
    expect((await temporalSchedule()).actions).toBe(before.actions);
    expect((await view()).nextRuns).toEqual([]);

    // Triggered: it runs now (paused or not), and again leaves one clone.
    const runsSoFar = (await view()).recentRuns.length;
    expect((await api.request('POST', `/v1/schedules/${scheduleId}/trigger`, { token, body: {} })).status).toBe(200);
    const triggered = await runEnded(runsSoFar + 1, 180_000);
    expect((await temporalSchedule()).actions).toBe(before.actions + 1);
    expect(triggered.lastRun!.result).toMatchObject({ outcome: 'completed' });
    expect(await activeClones()).toEqual([triggered.lastRun!.result!.cloneId]);
    expect(await cloneNamespaces()).toEqual([`namespace/${cloneName}`]);

    // Deleted: the schedule goes (and the temporal CLI no longer finds it); its last clone stays until deleted.
    expect((await api.request('DELETE', `/v1/schedules/${scheduleId}`, { token })).status).toBe(204);
    await expect(temporalSchedule()).rejects.toThrow();
    const teardown = await api.request<{ operationId: string }>('DELETE', `/v1/clones/${triggered.lastRun!.result!.cloneId}`, { token });
    expect(teardown.status).toBe(202);
    await until(`namespace ${cloneName} to go`, async () => (await cloneNamespaces()).length === 0, 120_000);
  }, 600_000);
});
