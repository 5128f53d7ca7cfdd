// promote on the real dev server across real local clusters, checked with kubectl object by
// object: three stages with approvals, a failing target rolled back, approval refusals, an
// approval timeout. How a promotion ends (completed, rolled back, cancelled, rejected) is its
// result, not a workflow failure; the catalog's desired revision follows what was deployed.
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { diffEnvironments } from '../../domain/diff.js';
import { LocalFleet } from '../../local/fleet.js';
import type { Catalog } from '../../store/catalog.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import {
  approveUpdate, cancelSignal, pauseSignal, promotionStateQuery, rejectUpdate, resumeSignal, type PromotionState,
} from '../../workflows/messages.js';
import { promote } from '../../workflows/promote.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { rootCause, until } from '../support/wait.js';
import { recordHistory } from '../support/histories.js';
import { createEnvironments, deployAll, expectedRevisions, liveObjects, liveRevisions, setSpec, shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const toolchain = inject('toolchain');
const [us, eu] = inject('clusters') as [ReturnType<typeof inject<'clusters'>>[number], ReturnType<typeof inject<'clusters'>>[number]];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `promote-${run}`;



describe('promote', () => {
  let tc: TestCatalog;
  let catalog: Catalog;
  let client: Client;
  let worker: RunningWorker;
  let fleet: LocalFleet;
  const small = `small-${run}`;

  beforeAll(async () => {
    // A third cluster of one node: too small for what the failing revision asks.
    fleet = await LocalFleet.create({ toolchain, clusters: [{ name: small, labels: { tier: 'prod', geo: 'eu' }, nodes: 1 }], deleteOnSignal: false });
    tc = await testCatalog([us, eu, ...fleet.clusters]);
    catalog = tc.catalog;
    client = await tierClient();
    worker = await runFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog, adapters: {} }),
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    await fleet?.delete();
  });

  const state = (id: string) => client.workflow.getHandle(id).query(promotionStateQuery);
  const awaitingApproval = (id: string, stage: string) =>
    until(`stage ${stage} awaiting approval`, async () => (await state(id)).stages.find((s) => s.name === stage)?.phase === 'awaiting-approval');

  it('runs three stages with approvals before prod; each target ends at the new revision with its own overrides', async () => {
    const e = (n: string) => `${n}-${run}`;
    await catalog.rules.put({ approvals: { prod: { required: 1, fourEyes: true } }, residency: {} }, { by: 'admin' });
    await createEnvironments(catalog, [
      { name: e('dev'), tier: 'dev', cluster: us.name },
      { name: e('staging'), tier: 'staging', cluster: us.name },
      { name: e('prod-us'), tier: 'prod', cluster: us.name, overrides: { replicas: { web: 3 } } },
      { name: e('prod-eu'), tier: 'prod', cluster: eu.name, residency: 'eu', overrides: { replicas: { web: 2, api: 2 }, hostnames: { web: 'shop.example.eu' } } },
    ], shopSpec('1.0.0'));
    await deployAll(client, taskQueue, [e('dev'), e('staging'), e('prod-us'), e('prod-eu')], 'v1');
    const v2 = await setSpec(catalog, e('dev'), shopSpec('2.0.0', ['web', 'api', 'search']));
    await deployAll(client, taskQueue, [e('dev')], 'v2');

    const id = `promote-three-${run}`;
    const handle = await client.workflow.start(promote, {
      taskQueue, workflowId: id,
      args: [{
        source: e('dev'), requestedBy: 'alice',
        stages: [
          { name: 'staging', targets: [e('staging')] },
          { name: 'prod-us', targets: [e('prod-us')], approval: true },
          { name: 'prod-eu', targets: [e('prod-eu')], soakSeconds: 2 },
        ],
      }],
    });
    await awaitingApproval(id, 'prod-us');
    // Four eyes: the requester may not approve; a viewer may not approve at all.
    await expect(handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', role: 'release-manager' }] })).rejects.toThrow(WorkflowUpdateFailedError);
    const refused = await handle.executeUpdate(approveUpdate, { args: [{ by: 'victor', role: 'viewer' }] }).catch((error: unknown) => rootCause(error));
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'ApproverRole', message: 'approving needs role release-manager or admin; victor has viewer' });
    const fourEyes = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', role: 'admin' }] }).catch((error: unknown) => rootCause(error));
    expect(fourEyes).toMatchObject({ type: 'FourEyes', message: 'four eyes: alice requested this promotion and cannot also approve it' });
    // The promotion holds its targets while it waits: a deploy of one of them is refused, naming it.
    expect((await catalog.locks.heldBy([e('staging'), e('prod-us'), e('prod-eu'), e('dev')])).map((l) => [l.environment, l.operationId]).sort())
      .toEqual([[e('prod-eu'), id], [e('prod-us'), id], [e('staging'), id]].sort());
    // Staging is done, prod untouched while the approval waits.
    expect((await state(id)).stages.map((s) => s.phase)).toEqual(['succeeded', 'awaiting-approval', 'pending']);
    expect(await liveRevisions(toolchain.kubectl, us.kubeconfigPath, e('prod-us'))).not.toContain(expect.stringContaining('Deployment/search'));

    await handle.executeUpdate(approveUpdate, { args: [{ by: 'rita', role: 'release-manager', comment: 'go' }] });
    await awaitingApproval(id, 'prod-eu'); // rules: prod needs an approval, so prod-eu asks too
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'rita', role: 'release-manager' }] });
    // One approval was needed: a second decision on the decided stage is refused.
    const late = await handle.executeUpdate(approveUpdate, { args: [{ by: 'rhea', role: 'release-manager' }] }).catch((error: unknown) => rootCause(error));
    expect((late as ApplicationFailure).type).toMatch(/^(AlreadyDecided|NotAwaitingApproval)$/);
    const final = await handle.result();
    if (process.env.FLOTILLA_RECORD_HISTORIES) await recordHistory('promote-three-stages', handle);

    expect(final).toMatchObject({ phase: 'completed', outcome: 'completed' });
    expect(final.stages.map((s) => [s.name, s.phase, s.targets.map((t) => t.phase)])).toEqual([
      ['staging', 'succeeded', ['succeeded']], ['prod-us', 'succeeded', ['succeeded']], ['prod-eu', 'succeeded', ['succeeded']],
    ]);
    expect(final.stages[1]!.approval).toMatchObject({ approvedBy: 'rita', comment: 'go', fourEyes: true, needed: 1, approvals: [{ by: 'rita', comment: 'go' }] });
    expect(final.stages[2]!.approval?.approvals?.map((a) => a.by)).toEqual(['rita']);
    // It released its targets, and the operations index says how it ended.
    expect(await catalog.locks.heldBy([e('staging'), e('prod-us'), e('prod-eu')])).toEqual([]);
    expect(await catalog.operations.require(id)).toMatchObject({ kind: 'promotion', state: 'completed', outcome: 'completed', requestedBy: 'alice' });
    const names = ['web', 'api', 'search'];
    for (const [env, cluster] of [[e('staging'), us], [e('prod-us'), us], [e('prod-eu'), eu]] as const) {
      const live = await liveObjects(toolchain.kubectl, cluster.kubeconfigPath, env);
      const byName = (kind: string, n: string) => live.find((o) => o.kind === kind && o.metadata.name === n)!;
      expect(await liveRevisions(toolchain.kubectl, cluster.kubeconfigPath, env)).toEqual(
        env === e('prod-eu') ? [...expectedRevisions(names, v2), `Ingress/web@${v2.slice(7, 19)}`].sort() : expectedRevisions(names, v2),
      );
      for (const n of names) expect(byName('Deployment', n).spec!.template!.spec!.containers![0]!.image).toBe(`ghcr.io/acme/${n}:2.0.0`);
      const replicas = env === e('prod-us') ? { web: 3, api: 1 } : env === e('prod-eu') ? { web: 2, api: 2 } : { web: 1, api: 1 };
      expect({ web: byName('Deployment', 'web').spec!.replicas, api: byName('Deployment', 'api').spec!.replicas }).toEqual(replicas);
      // Desired follows what was promoted (a later plain deploy keeps v2), with the overrides version pinned.
      const record = await catalog.environments.require(env);
      expect(record).toMatchObject({ currentRevision: v2, deployed: { revision: v2, overridesVersion: record.overridesVersion } });
      expect((await catalog.history.list(env, { kind: 'promotion' })).items).toMatchObject([{ revision: v2, operationId: `${id}/${env}`, overridesVersion: record.overridesVersion }]);
    }
    // Zero drift: source and target differ by declared overrides only.
    const envOf = async (name: string) => {
      const r = await catalog.environments.require(name);
      return { binding: r.binding, spec: (await catalog.revisions.require(r.deployed!.revision)).spec, overrides: r.overrides };
    };
    const diff = diffEnvironments(await envOf(e('dev')), await envOf(e('prod-eu')));
    expect(diff.other).toEqual([]);
    expect(diff.overrides.length).toBeGreaterThan(0);
  });

  it('rolls every changed target back to its previous revision when a target fails; nothing of the new revision remains', async () => {
    const e = (n: string) => `rb-${n}-${run}`;
    await catalog.rules.put({}, { by: 'admin' });
    await createEnvironments(catalog, [
      { name: e('staging'), tier: 'staging', cluster: eu.name },
      { name: e('prod-us'), tier: 'prod', cluster: us.name },
      { name: e('prod-eu'), tier: 'prod', cluster: small },
    ], shopSpec('1.0.0'));
    await deployAll(client, taskQueue, [e('staging'), e('prod-us'), e('prod-eu')], 'v1');
    const v1 = (await catalog.environments.require(e('prod-us'))).deployed!.revision;
    expect((await catalog.environments.require(e('prod-us'))).currentRevision).toBe(v1);
    // v2 runs two web pods of 20 CPUs each and adds a service: two 32-CPU nodes hold them, the one-node cluster cannot.
    await setSpec(catalog, e('staging'), { ...shopSpec('2.0.0', ['web', 'api', 'search'], '20'), services: shopSpec('2.0.0', ['web', 'api', 'search'], '20').services!.map((s) => (s.name === 'web' ? { ...s, replicas: 2 } : s)) });
    await deployAll(client, taskQueue, [e('staging')], 'v2');

    const id = `promote-rollback-${run}`;
    const handle = await client.workflow.start(promote, {
      taskQueue, workflowId: id,
      args: [{
        source: e('staging'), requestedBy: 'alice', failurePolicy: 'rollback', rolloutTimeoutSeconds: 15,
        stages: [{ name: 'us', targets: [e('prod-us')] }, { name: 'eu', targets: [e('prod-eu')] }],
      }],
    });
    // Rolled back is how this promotion ended, not a failure of Flotilla: the workflow completes with it.
    const final: PromotionState = await handle.result();
    if (process.env.FLOTILLA_RECORD_HISTORIES) await recordHistory('promote-rolled-back', handle);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(final).toMatchObject({ phase: 'rolled-back', outcome: 'rolled-back' });
    // Which timeout fired, and why the pods are not ready (the pending pod's scheduler reason).
    expect(final.message).toMatch(/^stage "eu" failed: rb-prod-eu-\w+: rollout timeout \(15s\) fired: rollout not complete after 15s: Deployment rb-prod-eu-\w+\/web .*; pod web-\S+: Unschedulable: .*Insufficient cpu/);
    expect(final.stages.flatMap((s) => s.targets.map((t) => [t.environment, t.phase]))).toEqual([[e('prod-us'), 'rolled-back'], [e('prod-eu'), 'rolled-back']]);
    expect(await catalog.operations.require(id)).toMatchObject({ state: 'completed', outcome: 'rolled-back', message: final.message });

    for (const [env, kubeconfig] of [[e('prod-us'), us.kubeconfigPath], [e('prod-eu'), fleet.cluster(small).kubeconfigPath]] as const) {
      expect(await liveRevisions(toolchain.kubectl, kubeconfig, env)).toEqual(expectedRevisions(['web', 'api'], v1));
      // Deployed and desired are both back where they were, with the overrides version that ran.
      expect(await catalog.environments.require(env)).toMatchObject({ currentRevision: v1, deployed: { revision: v1, overridesVersion: 1 } });
    }
    // prod-us had recorded v2: its history says it went back, and why (the rollback of this promotion). prod-eu never
    // recorded v2 (its rollout failed), so the catalog had nothing to undo there.
    expect((await catalog.history.list(e('prod-us'))).items.slice(0, 2).map((h) => [h.kind, h.revision, h.operationId])).toEqual([
      ['rollback', v1, `${id}/${e('prod-us')}/rollback`], ['promotion', expect.any(String), `${id}/${e('prod-us')}`],
    ]);
    expect((await catalog.history.list(e('prod-eu'))).items.map((h) => h.kind)).not.toContain('promotion');
    expect(await catalog.locks.heldBy([e('prod-us'), e('prod-eu')])).toEqual([]);
  });

  it('cancels cleanly when no approval arrives in time, and stops on a rejection', async () => {
    const e = (n: string) => `ap-${n}-${run}`;
    await createEnvironments(catalog, [
      { name: e('staging'), tier: 'staging', cluster: us.name },
      { name: e('prod'), tier: 'prod', cluster: eu.name },
    ], shopSpec('1.0.0'));
    await deployAll(client, taskQueue, [e('staging'), e('prod')], 'v1');
    const before = await liveRevisions(toolchain.kubectl, eu.kubeconfigPath, e('prod'));
    await setSpec(catalog, e('staging'), shopSpec('3.0.0'));
    await deployAll(client, taskQueue, [e('staging')], 'v3');

    const prodBefore = await catalog.environments.require(e('prod'));
    const timedOut = await client.workflow.execute(promote, {
      taskQueue, workflowId: `promote-timeout-${run}`,
      args: [{ source: e('staging'), requestedBy: 'alice', approvalTimeoutSeconds: 2, stages: [{ name: 'prod', targets: [e('prod')], approval: true }] }],
    });
    expect(timedOut).toMatchObject({ phase: 'cancelled', outcome: 'cancelled', message: 'no approval for stage "prod" within 2s' });
    // Never started: the stage and its target say skipped, nothing waits.
    expect(timedOut.stages.map((st) => [st.phase, st.targets.map((t) => t.phase)])).toEqual([['skipped', ['skipped']]]);
    expect(await catalog.operations.require(`promote-timeout-${run}`)).toMatchObject({ state: 'completed', outcome: 'cancelled' });
    expect(await liveRevisions(toolchain.kubectl, eu.kubeconfigPath, e('prod'))).toEqual(before);
    expect(await catalog.locks.heldBy([e('prod')])).toEqual([]);

    const id = `promote-reject-${run}`;
    const handle = await client.workflow.start(promote, {
      taskQueue, workflowId: id,
      args: [{ source: e('staging'), requestedBy: 'alice', stages: [{ name: 'prod', targets: [e('prod')], approval: true }] }],
    });
    await awaitingApproval(id, 'prod');
    await handle.executeUpdate(rejectUpdate, { args: [{ by: 'rita', role: 'release-manager', comment: 'not today' }] });
    const rejected = await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(rejected).toMatchObject({ phase: 'rejected', outcome: 'rejected', message: 'stage "prod" rejected by rita: not today' });
    expect(rejected.stages[0]!.approval).toMatchObject({ rejectedBy: 'rita', comment: 'not today' });
    expect(await catalog.operations.require(id)).toMatchObject({ state: 'completed', outcome: 'rejected', message: 'stage "prod" rejected by rita: not today' });
    expect(await liveRevisions(toolchain.kubectl, eu.kubeconfigPath, e('prod'))).toEqual(before);
    // Nothing changed in the catalog either, and prod is free again.
    expect(await catalog.environments.require(e('prod'))).toMatchObject({ currentRevision: prodBefore.currentRevision, deployed: { revision: prodBefore.deployed!.revision } });
    expect(await catalog.locks.heldBy([e('prod')])).toEqual([]);
  });

  it('keeps its history bounded: continues as new between stages and still ends with the whole plan', async () => {
    const e = (n: string) => `can-${n}-${run}`;
    await catalog.rules.put({}, { by: 'admin' });
    await createEnvironments(catalog, [
      { name: e('src'), tier: 'staging', cluster: us.name },
      { name: e('a'), tier: 'prod', cluster: us.name },
      { name: e('b'), tier: 'prod', cluster: eu.name },
      { name: e('c'), tier: 'prod', cluster: eu.name, overrides: { replicas: { api: 2 } } },
    ], shopSpec('1.0.0'));
    await deployAll(client, taskQueue, [e('a'), e('b'), e('c')], 'v1');
    const v2 = await setSpec(catalog, e('src'), shopSpec('2.0.0'));
    const id = `promote-can-${run}`;
    const final = await client.workflow.execute(promote, {
      taskQueue, workflowId: id,
      args: [{
        source: e('src'), revision: v2, requestedBy: 'alice', maxHistoryEvents: 1,
        stages: [{ name: 'one', targets: [e('a')] }, { name: 'two', targets: [e('b')] }, { name: 'three', targets: [e('c')] }],
      }],
    });
    expect(final).toMatchObject({ phase: 'completed', outcome: 'completed' });
    expect(final.stages.map((s) => [s.name, s.phase, s.targets.map((t) => t.phase)])).toEqual([
      ['one', 'succeeded', ['succeeded']], ['two', 'succeeded', ['succeeded']], ['three', 'succeeded', ['succeeded']],
    ]);
    // One run per stage: the first two ended by continuing as new.
    const runs: string[] = [];
    await until('three runs in visibility', async () => {
      runs.length = 0;
      for await (const w of client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.status.name);
      return runs.length === 3;
    });
    expect(runs.sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW']);
    expect((await state(id)).phase).toBe('completed');
    for (const [env, cluster] of [[e('a'), us], [e('b'), eu], [e('c'), eu]] as const) {
      expect(await liveRevisions(toolchain.kubectl, cluster.kubeconfigPath, env)).toEqual(expectedRevisions(['web', 'api'], v2));
      expect(await catalog.environments.require(env)).toMatchObject({ currentRevision: v2, deployed: { revision: v2 } });
    }
    // The targets were held across the runs, and released at the very end.
    expect(await catalog.locks.heldBy([e('a'), e('b'), e('c')])).toEqual([]);
  });

  it('under the pause policy waits for a human after a failure; pause holds new targets, resume goes on, cancel rolls back', async () => {
    const e = (n: string) => `pz-${n}-${run}`;
    await catalog.rules.put({}, { by: 'admin' });
    await createEnvironments(catalog, [
      { name: e('src'), tier: 'staging', cluster: eu.name },
      { name: e('a'), tier: 'prod', cluster: us.name },
      { name: e('b'), tier: 'prod', cluster: small },
    ], shopSpec('1.0.0'));
    await deployAll(client, taskQueue, [e('a'), e('b')], 'v1');
    const v1 = (await catalog.environments.require(e('a'))).deployed!.revision;
    const big = shopSpec('2.0.0', ['web', 'api'], '20');
    big.services = big.services!.map((s) => (s.name === 'web' ? { ...s, replicas: 2 } : s));
    const v2 = await setSpec(catalog, e('src'), big);

    const id = `promote-pause-${run}`;
    const handle = await client.workflow.start(promote, {
      taskQueue, workflowId: id,
      args: [{
        source: e('src'), revision: v2, requestedBy: 'alice', failurePolicy: 'pause', rolloutTimeoutSeconds: 15,
        stages: [{ name: 'one', targets: [e('a')], approval: true }, { name: 'two', targets: [e('b')] }],
      }],
    });
    await awaitingApproval(id, 'one');
    // Paused before its stage starts: approved, but nothing is deployed until resumed.
    await handle.signal(pauseSignal, { by: 'rita' });
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'rita', role: 'release-manager' }] });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await state(id)).stages[0]!.targets[0]!.phase).toBe('pending');
    await handle.signal(resumeSignal, { by: 'rita' });
    // Stage two fails on the one-node cluster; the promotion waits for a human.
    await until('paused after the failure', async () => (await state(id)).phase === 'paused', 90_000);
    const paused = await state(id);
    expect(paused.stages.map((s) => s.targets.map((t) => t.phase))).toEqual([['succeeded'], ['failed']]);
    expect(paused.message).toMatch(/^stage "two" failed: pz-b-\w+: rollout timeout \(15s\) fired: rollout not complete after 15s: .*Unschedulable: .*Insufficient cpu.*; resume to retry, cancel to roll back$/);
    expect(await catalog.operations.require(id)).toMatchObject({ state: 'paused' });
    await handle.signal(cancelSignal, { by: 'rita', reason: 'too big for eu' });
    const cancelled = await handle.result();
    expect(cancelled).toMatchObject({ phase: 'cancelled', outcome: 'cancelled', message: 'too big for eu' });
    expect(cancelled.stages.map((s) => s.targets.map((t) => t.phase))).toEqual([['rolled-back'], ['rolled-back']]);
    expect(await catalog.operations.require(id)).toMatchObject({ state: 'completed', outcome: 'cancelled', message: 'too big for eu' });
    expect(await liveRevisions(toolchain.kubectl, us.kubeconfigPath, e('a'))).toEqual(expectedRevisions(['web', 'api'], v1));
    expect(await liveRevisions(toolchain.kubectl, fleet.cluster(small).kubeconfigPath, e('b'))).toEqual(expectedRevisions(['web', 'api'], v1));
    for (const env of [e('a'), e('b')]) {
      expect(await catalog.environments.require(env)).toMatchObject({ currentRevision: v1, deployed: { revision: v1 } });
    }
    expect(await catalog.locks.heldBy([e('a'), e('b')])).toEqual([]);
  });
});
