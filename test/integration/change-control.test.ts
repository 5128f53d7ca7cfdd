// Deploy and promote correct under plain use and concurrency (issue 9), on the real dev server,
// an in-process worker, the HTTP API and two real local clusters; kubectl and the catalog are
// the independent checks. Each case failed before the change it names:
//   1 a promotion moves the target's desired revision: a plain deploy afterwards keeps it;
//   2 one change at a time per environment: two deploys at once → one 409, one revision live;
//     a second workflow started past the API is refused by the lock itself;
//   3 overrides are pinned: a rollback restores the overrides that were in force;
//   4 a config value or secret value change alone rolls the pods (a new ReplicaSet);
//   5 a revision whose pods never become ready fails within its progress deadline, or when
//     its pods sit in an image-pull or crash loop, with the pods' reason; promoted, it rolls back;
//   6 N distinct approvers; a native Temporal cancel rolls back like the cancel signal;
//   7 rolling back a first deploy removes only what Flotilla created and corrects the catalog;
//   9 outcomes are results, and the operations index follows them without anyone reading them.
import { type Client, WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppSpecInput } from '../../domain/environment.js';
import { shortRevision } from '../../domain/revision.js';
import { FAULT_IMAGES } from '../../local/kwok-faults.js';
import type { Catalog } from '../../store/catalog.js';
import { environmentScope } from '../../store/secrets.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { deployEnvironment, type DeployInput } from '../../workflows/deploy-environment.js';
import { approveUpdate, promotionStateQuery, type PromotionState } from '../../workflows/messages.js';
import { promote, type PromoteInput } from '../../workflows/promote.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { startLiveApi, type LiveApi } from '../support/live-api.js';
import { createEnvironments, liveRevisions } from '../support/promotion-env.js';
import { rootCause, until } from '../support/wait.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const toolchain = inject('toolchain');
const [us, eu] = inject('clusters') as [ReturnType<typeof inject<'clusters'>>[number], ReturnType<typeof inject<'clusters'>>[number]];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `change-control-${run}`;

/** web and api; web reads the config key `log-level` and the secret API_KEY. */
function spec(version: string, web: { image?: string; cpu?: string; progressDeadlineSeconds?: number } = {}, logLevel = 'info'): AppSpecInput {
  return {
    services: [
      {
        name: 'web', image: web.image ?? `ghcr.io/acme/web:${version}`, ports: [{ port: 8080 }], replicas: 1,
        env: { LOG_LEVEL: { config: 'log-level' }, API_KEY: { secret: 'API_KEY' } },
        resources: { requests: { cpu: web.cpu ?? '100m', memory: '64Mi' }, limits: { cpu: '64', memory: '256Mi' } },
        ...(web.progressDeadlineSeconds ? { progressDeadlineSeconds: web.progressDeadlineSeconds } : {}),
      },
      { name: 'api', image: `ghcr.io/acme/api:${version}`, ports: [{ port: 8080 }], replicas: 1, resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } } },
    ],
    config: { 'log-level': logLevel },
    secrets: ['API_KEY'],
  };
}

describe('change control', () => {
  let tc: TestCatalog;
  let catalog: Catalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;

  beforeAll(async () => {
    tc = await testCatalog([us, eu]);
    catalog = tc.catalog;
    client = await tierClient();
    worker = await runFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog, adapters: {} }),
    });
    api = await startLiveApi(catalog, client, taskQueue);
  });
  afterAll(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
  });

  const name = (n: string) => `cc-${n}-${run}`;
  const k = (cluster: typeof us, args: string[]) => kubectl(toolchain.kubectl, cluster.kubeconfigPath, args);
  const kj = <T>(cluster: typeof us, args: string[]) => kubectlJson<T>(toolchain.kubectl, cluster.kubeconfigPath, args);

  async function environment(n: string, tier: 'staging' | 'prod', cluster: typeof us, s: AppSpecInput, overrides = {}): Promise<string> {
    await createEnvironments(catalog, [{ name: n, tier, cluster: cluster.name, overrides }], s);
    await catalog.secrets.put(environmentScope(n), 'API_KEY', `key-of-${n}`);
    return (await catalog.environments.require(n)).currentRevision!;
  }
  const newSpec = async (env: string, s: AppSpecInput) => (await api.request<{ revision: string }>('PUT', `/v1/environments/${env}/spec`, { body: s })).body.revision;
  async function deploy(env: string, input: Partial<DeployInput> = {}, id = `deploy-${env}-${Math.random().toString(36).slice(2, 7)}`) {
    return client.workflow.execute(deployEnvironment, { taskQueue, workflowId: id, args: [{ environment: env, requestedBy: 'setup', rolloutTimeoutSeconds: 120, ...input }] });
  }
  async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
    const error = await p.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    return rootCause(error) as ApplicationFailure;
  }
  const promoteNow = (id: string, input: Omit<PromoteInput, 'requestedBy'>) =>
    client.workflow.start(promote, { taskQueue, workflowId: id, args: [{ requestedBy: 'alice', rolloutTimeoutSeconds: 120, ...input }] });
  const image = async (cluster: typeof us, ns: string, deployment: string) =>
    (await kj<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(cluster, ['get', 'deployment', deployment, '-n', ns])).spec.template.spec.containers[0]!.image;
  async function operationEnds(id: string): Promise<{ state: string; temporal?: { failure?: { message: string } } }> {
    let op: { state: string } | undefined;
    await until(`operation ${id} ends`, async () => {
      op = (await api.request<{ state: string }>('GET', `/v1/operations/${encodeURIComponent(id)}`)).body;
      return !['running', 'waiting', 'paused'].includes(op.state);
    }, 180_000);
    return op!;
  }

  it('1: a promotion moves the target\'s desired revision, so a plain deploy afterwards keeps prod on it', async () => {
    const staging = name('p1-staging');
    const prod = name('p1-prod');
    const v1 = await environment(staging, 'staging', us, spec('1.0.0'));
    await environment(prod, 'prod', eu, spec('1.0.0'));
    await deploy(staging);
    await deploy(prod);
    const v2 = await newSpec(staging, spec('2.0.0'));
    await deploy(staging);

    const id = `promote-p1-${run}`;
    const result = await (await promoteNow(id, { source: staging, stages: [{ name: 'prod', targets: [prod] }] })).result();
    expect(result.outcome).toBe('completed');
    expect(await image(eu, prod, 'web')).toBe('ghcr.io/acme/web:2.0.0');
    const after = await catalog.environments.require(prod);
    expect(after.currentRevision).toBe(v2);
    expect(after.deployed?.revision).toBe(v2);
    const history = (await catalog.history.list(prod)).items;
    expect(history[0]).toMatchObject({ kind: 'promotion', revision: v2, operationId: `${id}/${prod}` });
    // The API shows the promoted spec as prod's.
    const shown = await api.request<{ currentRevision: string; spec: { services: { name: string; image: string }[] } }>('GET', `/v1/environments/${prod}`);
    expect(shown.body.currentRevision).toBe(v2);
    expect(shown.body.spec.services.find((s) => s.name === 'web')!.image).toBe('ghcr.io/acme/web:2.0.0');

    // A plain redeploy through the API, no revision named: prod stays on v2 (it put v1 back before).
    const started = await api.request<{ operationId: string }>('POST', `/v1/environments/${prod}/deploy`);
    expect(started.status).toBe(202);
    expect(started.body.operationId).toContain(shortRevision(v2));
    expect((await operationEnds(started.body.operationId)).state).toBe('completed');
    expect(await image(eu, prod, 'web')).toBe('ghcr.io/acme/web:2.0.0');
    expect(v1).not.toBe(v2);
  });

  it('2: two deploys of different revisions at once: one runs, the other is refused with 409 naming it; one revision lives', async () => {
    const env = name('p2');
    const v1 = await environment(env, 'staging', us, spec('1.0.0'));
    await deploy(env);
    const v2 = await newSpec(env, spec('2.0.0'));
    const [a, b] = await Promise.all([
      api.request<{ operationId?: string; error?: { code: string; message: string } }>('POST', `/v1/environments/${env}/deploy`, { body: { revision: v1 } }),
      api.request<{ operationId?: string; error?: { code: string; message: string } }>('POST', `/v1/environments/${env}/deploy`, { body: { revision: v2 } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const [won, lost] = a.status === 202 ? [a, b] : [b, a];
    expect(lost.body.error).toMatchObject({ code: 'environment_busy', message: `environment "${env}" is being changed by operation "${won.body.operationId}"` });
    expect((await operationEnds(won.body.operationId!)).state).toBe('completed');
    const winner = won === a ? v1 : v2;
    const live = await liveRevisions(toolchain.kubectl, us.kubeconfigPath, env);
    expect(new Set(live.map((l) => l.split('@')[1]))).toEqual(new Set([shortRevision(winner)]));

    // Past the API (another API process, a temporal CLI start): the workflow's own lock refuses it.
    const first = await client.workflow.start(deployEnvironment, {
      taskQueue, workflowId: `direct-a-${env}`, args: [{ environment: env, revision: v2, requestedBy: 'a', rolloutTimeoutSeconds: 120 }],
    });
    await until('the first deploy holds the environment', async () => (await catalog.locks.heldBy([env])).length === 1);
    const second = await failure(deploy(env, { revision: v1 }, `direct-b-${env}`));
    expect(second.type).toBe('EnvironmentBusy');
    expect(second.message).toBe(`environment "${env}" is being changed by operation "direct-a-${env}"`);
    await first.result();
    expect(await catalog.locks.heldBy([env])).toEqual([]);
  });

  it('3 and 7: a failed promotion rolls back to the pinned overrides in force, and removes only what Flotilla created where nothing ran', async () => {
    const staging = name('p3-staging');
    const prod = name('p3-prod');
    const fresh = name('p3-fresh'); // never deployed, in a namespace someone else made
    const newNs = name('p3-new'); // never deployed, namespace made by Flotilla
    // prod's own resources fit any node; the others take the spec's.
    const small = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } };
    await environment(staging, 'staging', us, spec('1.0.0'));
    await environment(prod, 'prod', us, spec('1.0.0'), { replicas: { web: 2 }, resources: { web: small } });
    await environment(fresh, 'prod', eu, spec('1.0.0'), { resources: { web: small } });
    await environment(newNs, 'prod', eu, spec('1.0.0'), { resources: { web: small } });
    const failing = name('p3-fails');
    await environment(failing, 'prod', us, spec('1.0.0'));
    await k(eu, ['create', 'namespace', fresh]);
    await k(eu, ['create', 'configmap', 'theirs', '-n', fresh, '--from-literal=owner=someone-else']);
    // Its owner lets Flotilla's agent work there (issue 10, finding 5: Flotilla grants itself nothing in a namespace it did not create).
    await k(eu, ['create', 'rolebinding', 'flotilla-agent', '-n', fresh, '--clusterrole=flotilla-agent-namespaced', '--serviceaccount=flotilla-system:flotilla-agent']);
    // And an admin of the cluster lets Flotilla adopt it (issue 10, finding 1: else the deploy refuses a namespace it did not create).
    const placement = await catalog.clusters.require(eu.name);
    await catalog.clusters.setPlacement(eu.name, { allowedTiers: placement.allowedTiers, adoptableNamespaces: [...placement.adoptableNamespaces, fresh] });
    await deploy(staging);
    await deploy(prod);
    const before = await catalog.environments.require(prod);
    expect(before.deployed?.overridesVersion).toBe(1);
    // Overrides edited after the deploy (version 2), not deployed yet: the promotion deploys with them,
    // the rollback must restore version 1.
    await api.request('PUT', `/v1/environments/${prod}/overrides`, { body: { replicas: { web: 3 }, resources: { web: small } } });
    expect((await catalog.environments.require(prod)).overridesVersion).toBe(2);

    // v2's web asks more CPU than any node has: where no override makes it small (in `failing`), it never
    // becomes ready (deadline 10 s). prod, fresh and newNs run it first; then `failing` fails and all roll back.
    const v2 = await newSpec(staging, spec('2.0.0', { cpu: '64', progressDeadlineSeconds: 10 }));
    const started = Date.now();
    const handle = await promoteNow(`promote-p3-${run}`, {
      source: staging, revision: v2, stages: [{ name: 'first', targets: [prod, fresh, newNs] }, { name: 'last', targets: [failing] }],
    });
    await until('prod runs v2 with 3 replicas', async () => (await kj<{ spec: { replicas: number } }>(us, ['get', 'deployment', 'web', '-n', prod])).spec.replicas === 3);
    const result = await handle.result();
    expect(result.outcome).toBe('rolled-back');
    expect(result.message).toMatch(/Insufficient cpu/);
    expect(Date.now() - started).toBeLessThan(240_000);

    // prod: the previous revision, with the overrides in force then (2 replicas, not 3); desired as before.
    expect((await kj<{ spec: { replicas: number } }>(us, ['get', 'deployment', 'web', '-n', prod])).spec.replicas).toBe(2);
    expect(await image(us, prod, 'web')).toBe('ghcr.io/acme/web:1.0.0');
    const after = await catalog.environments.require(prod);
    expect(after.deployed).toMatchObject({ revision: before.deployed!.revision, overridesVersion: 1 });
    expect(after.currentRevision).toBe(before.currentRevision);
    expect((await catalog.history.list(prod)).items.slice(0, 2).map((h) => [h.kind, h.overridesVersion])).toEqual([['rollback', 1], ['promotion', 2]]);

    // fresh: someone else's namespace and ConfigMap stay; nothing of Flotilla's is left; the catalog says nothing runs.
    expect(await k(eu, ['get', 'configmap', 'theirs', '-n', fresh, '-o', 'name'])).toContain('configmap/theirs');
    expect(await k(eu, ['get', 'namespaces', '-o', 'name'])).toContain(`namespace/${fresh}`);
    expect(await liveRevisions(toolchain.kubectl, eu.kubeconfigPath, fresh)).toEqual([]);
    expect((await catalog.environments.require(fresh)).deployed).toBeUndefined();
    expect((await catalog.history.list(fresh)).items.slice(0, 2).map((h) => [h.kind, h.revision])).toEqual([['undeploy', v2], ['promotion', v2]]);
    expect((await catalog.environments.require(fresh)).currentRevision).not.toBe(v2);
    // newNs: Flotilla made the namespace, so it goes with everything in it.
    await until('the namespace Flotilla made is gone', async () => !(await k(eu, ['get', 'namespaces', '-o', 'name'])).includes(`namespace/${newNs}`));
    expect(await catalog.locks.heldBy([prod, fresh, newNs, failing])).toEqual([]);
  });

  it('4: a config value change alone, and a secret value change alone, roll the pods (a new ReplicaSet)', async () => {
    const env = name('p4');
    await environment(env, 'staging', us, spec('1.0.0'));
    await deploy(env);
    const replicaSets = async () => (await kj<{ items: { metadata: { name: string } }[] }>(us, ['get', 'replicasets', '-n', env, '-l', 'app.kubernetes.io/name=web'])).items.map((r) => r.metadata.name).sort();
    const apiSets = async () => (await kj<{ items: unknown[] }>(us, ['get', 'replicasets', '-n', env, '-l', 'app.kubernetes.io/name=api'])).items.length;
    expect(await replicaSets()).toHaveLength(1);

    await newSpec(env, spec('1.0.0', {}, 'debug'));
    await deploy(env);
    expect(await replicaSets()).toHaveLength(2);
    expect(await apiSets()).toBe(1); // api reads no config: it does not restart

    const rotated = `rotated-api-key-${env}`;
    await catalog.secrets.put(environmentScope(env), 'API_KEY', rotated);
    await deploy(env, {}, `deploy-${env}-rotated`);
    expect(await replicaSets()).toHaveLength(3);
    expect(await apiSets()).toBe(1);
    // The template carries a checksum of versions, never the value.
    expect(await k(us, ['get', 'deployment', 'web', '-n', env, '-o', 'yaml'])).not.toContain(rotated);
  });

  it('5: pods that never become ready fail the deploy within the progress deadline (not the 600 s timeout), with the pods\' reason', async () => {
    const env = name('p5');
    await environment(env, 'staging', us, spec('1.0.0'));
    await deploy(env);
    // The shortest deadline Flotilla takes (5 s): only this revision has it, and it never progresses.
    await newSpec(env, spec('2.0.0', { cpu: '64', progressDeadlineSeconds: 5 }));
    let started = Date.now();
    const unschedulable = await failure(deploy(env, { rolloutTimeoutSeconds: 600 }));
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(unschedulable.type).toBe('RolloutFailed');
    expect(unschedulable.message).toMatch(/ProgressDeadlineExceeded/);
    expect(unschedulable.message).toMatch(/Unschedulable: 0\/2 nodes are available: 2 Insufficient cpu/);

    await newSpec(env, spec('3.0.0', { image: FAULT_IMAGES.imagePull }));
    started = Date.now();
    const pull = await failure(deploy(env, { rolloutTimeoutSeconds: 600, stuckAfterSeconds: 5 }));
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(pull.message).toMatch(/ImagePullBackOff|ErrImagePull/);

    await newSpec(env, spec('4.0.0', { image: FAULT_IMAGES.crashLoop }));
    const crash = await failure(deploy(env, { rolloutTimeoutSeconds: 600, stuckAfterSeconds: 5 }));
    expect(crash.message).toMatch(/CrashLoopBackOff/);
    // The failed deploys recorded nothing: what is deployed is still v1, and the lock is free.
    expect((await catalog.history.list(env, { kind: 'deploy' })).items).toHaveLength(1);
    expect(await catalog.locks.heldBy([env])).toEqual([]);
  });

  it('6: two distinct approvers when the rules ask for two; a native cancel rolls back like the signal', async () => {
    await catalog.rules.put({ approvals: { prod: { required: 2, fourEyes: true } } }, { by: 'admin' });
    try {
      const staging = name('p6-staging');
      const canary = name('p6-canary');
      const prod = name('p6-prod');
      await environment(staging, 'staging', us, spec('1.0.0'));
      await environment(canary, 'staging', eu, spec('1.0.0'));
      await environment(prod, 'prod', eu, spec('1.0.0'));
      await Promise.all([deploy(staging), deploy(canary), deploy(prod)]);
      await newSpec(staging, spec('2.0.0'));
      await deploy(staging);

      const id = `promote-p6-${run}`;
      const handle = await promoteNow(id, { source: staging, stages: [{ name: 'canary', targets: [canary] }, { name: 'prod', targets: [prod] }] });
      const state = () => handle.query(promotionStateQuery);
      await until('prod awaits approval', async () => (await state()).stages[1]!.phase === 'awaiting-approval');
      expect(await image(eu, canary, 'web')).toBe('ghcr.io/acme/web:2.0.0');
      const approve = (by: string) => handle.executeUpdate(approveUpdate, { args: [{ by, role: 'release-manager' }] }).then(
        (s: PromotionState) => s, (error: unknown) => rootCause(error) as ApplicationFailure);
      const first = await approve('bob') as PromotionState;
      expect(first.stages[1]).toMatchObject({ phase: 'awaiting-approval', approval: { needed: 2, approvals: [{ by: 'bob' }] } });
      expect((await approve('bob') as ApplicationFailure).type).toBe('AlreadyApproved');
      expect((await approve('alice') as ApplicationFailure).type).toBe('FourEyes');

      // Temporal's own cancel (as `temporal workflow cancel` sends it): the canary goes back to v1.
      await handle.cancel();
      const result = await handle.result();
      expect(result.outcome).toBe('cancelled');
      expect(result.stages[0]!.targets[0]!.phase).toBe('rolled-back');
      expect(await image(eu, canary, 'web')).toBe('ghcr.io/acme/web:1.0.0');
      expect(await image(eu, prod, 'web')).toBe('ghcr.io/acme/web:1.0.0');
      expect((await client.workflow.getHandle(id).describe()).status.name).toBe('COMPLETED');
      expect(await catalog.locks.heldBy([canary, prod])).toEqual([]);
    } finally {
      await catalog.rules.put({}, { by: 'admin' });
    }
  });

  it('9: outcomes are results, and the operations index follows them with nobody reading the operation', async () => {
    const staging = name('p9-staging');
    const prod = name('p9-prod');
    await environment(staging, 'staging', us, spec('1.0.0'));
    await environment(prod, 'prod', us, spec('1.0.0'));
    await Promise.all([deploy(staging), deploy(prod)]);
    // The shortest deadline Flotilla takes (5 s): v2 never progresses anywhere it runs.
    await newSpec(staging, spec('2.0.0', { cpu: '64', progressDeadlineSeconds: 5 }));
    await deploy(staging).catch(() => undefined); // fails: staging keeps v1 deployed, v2 desired

    const started = await api.request<{ operationId: string }>('POST', '/v1/promotions', {
      body: { source: staging, revision: (await catalog.environments.require(staging)).currentRevision, stages: [{ name: 'prod', targets: [prod] }] },
    });
    expect(started.status).toBe(202);
    const id = started.body.operationId;
    await client.workflow.getHandle(id).result();
    // The list, not GET /operations/{id}: the workflow itself reported its outcome.
    const listed = await api.request<{ items: { id: string; state: string; outcome?: string; message?: string }[] }>('GET', `/v1/operations?kind=promotion&environment=${prod}&outcome=rolled-back`);
    expect(listed.body.items.map((o) => o.id)).toEqual([id]);
    expect(listed.body.items[0]).toMatchObject({ state: 'completed', outcome: 'rolled-back', message: expect.stringContaining('Insufficient cpu') });
    expect((await client.workflow.getHandle(id).describe()).status.name).toBe('COMPLETED');
  });
});
