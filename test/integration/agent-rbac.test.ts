// Issue 10, finding 5: the agent is least privilege, and used. On a cluster of its own (with an
// API server audit log), onboarded by the real workflow and deployed to by the real worker:
//   - `kubectl auth can-i` as the agent: writes in the environment's namespace, nothing in any
//     other namespace, in kube-system or at cluster scope;
//   - the worker's cluster client is the agent (SelfSubjectReview through that very client), and
//     the audit log shows that after onboarding every request of the worker was made as the agent
//     or, for namespace objects, the bootstrap account; the registered (admin) credential only
//     minted their tokens;
//   - a deploy into a namespace the agent has no RoleBinding in (adoptable, made by someone else)
//     fails with a clear, non-retryable RBAC error and writes nothing there, rather than going
//     through with the admin credential; once the namespace's owner grants it, it succeeds;
//   - a request outside its namespaces through the worker's client fails naming verb, resource
//     and namespace; removing the environment deletes the namespace Flotilla made (bootstrap).
// Each of these failed before the change: the agent had a ClusterRoleBinding with writes
// everywhere and the worker used the registered credential for everything.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClients } from '../../activities/cluster-client.js';
import { createDeployActivities } from '../../activities/deploy.js';
import { LocalFleet } from '../../local/fleet.js';
import { whoAmI } from '../../providers/kubernetes/agent-access.js';
import { serverSideApply } from '../../providers/kubernetes/apply.js';
import type { ActivityDeps } from '../../activities/index.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { onboardCluster } from '../../workflows/onboard-cluster.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';
import { createEnvironments, shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';
import { rootCause } from '../support/wait.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `agent-rbac-${run}`;
const AGENT = 'system:serviceaccount:flotilla-system:flotilla-agent';
const BOOTSTRAP = 'system:serviceaccount:flotilla-system:flotilla-bootstrap';

interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  userAgent?: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  stageTimestamp: string;
}

describe('the agent: least privilege, and used', () => {
  const name = `rbac-${run}`;
  const env = `shop-${run}`; // namespace = environment name
  const adopted = `theirs-${run}`; // made by someone else, adoptable, no grant at first
  let fleet: LocalFleet;
  let dir: string;
  let tc: TestCatalog;
  let deps: ActivityDeps;
  let client: Client;
  let worker: RunningWorker;
  let cluster: LocalFleet['clusters'][number];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-rbac-'));
    const policy = join(dir, 'audit-policy.yaml');
    // Metadata only: who did what, never a request or response body (so never a token).
    writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n');
    // No baseline: the onboarding workflow installs it, as for a user's cluster.
    fleet = await LocalFleet.create({ toolchain, clusters: [{ name, labels: { tier: 'staging' }, nodes: 1, persistentVolumes: 0, baseline: false, auditPolicy: policy }], deleteOnSignal: false });
    cluster = fleet.cluster(name);
    tc = await testCatalog([{ ...cluster, adoptableNamespaces: [adopted] }]);
    deps = activityDeps({ catalog: tc.catalog, adapters: {} });
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps, workflowBundle: tierWorkflowBundle() });
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    await fleet?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const k = (args: string[]) => kubectl(toolchain.kubectl, cluster.kubeconfigPath, args);
  const can = async (...args: string[]) =>
    (await exec(toolchain.kubectl, ['--kubeconfig', cluster.kubeconfigPath, 'auth', 'can-i', ...args, '--as', AGENT]).then((r) => r.stdout, (e: { stdout: string }) => e.stdout)).trim();
  /** The writes `kubectl auth can-i --list` shows the agent (resource → verbs), in a namespace or at cluster scope. */
  async function writes(namespace?: string): Promise<Record<string, string>> {
    const list = await k(['auth', 'can-i', '--list', ...(namespace ? ['-n', namespace] : []), '--as', AGENT]);
    const out: Record<string, string> = {};
    for (const line of list.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s{2,}|\t/);
      const [resource, verbs] = [cols[0]!, cols.at(-1)!];
      if (/create|update|patch|delete|\*/.test(verbs) && !/^self.*reviews\./.test(resource)) out[resource] = verbs;
    }
    return out;
  }
  async function audit(): Promise<AuditEvent[]> {
    return (await fleet.auditLog(name)).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as AuditEvent);
  }
  /** Runs `fn` as an activity would, with the worker's own cluster clients (the same token cache). */
  const asActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn) as Promise<T>;

  it('after onboarding and a deploy, the agent writes in the environment\'s namespace and nowhere else; the worker is the agent', async () => {
    const onboarded = await client.workflow.execute(onboardCluster, { taskQueue, workflowId: `onboard-${name}`, args: [{ cluster: name }] });
    expect(onboarded).toMatchObject({ cluster: name, capacity: { nodes: 1 } }); // capacity read as the agent
    const afterOnboarding = new Date().toISOString();
    await createEnvironments(tc.catalog, [{ name: env, tier: 'staging', cluster: name }], shopSpec('1.0.0'));
    const deployed = await client.workflow.execute(deployEnvironment, {
      taskQueue, workflowId: `deploy-${env}`, args: [{ environment: env, requestedBy: 'alice', rolloutTimeoutSeconds: 120 }],
    });
    expect(deployed.workloads.every((w) => w.ready === w.desired)).toBe(true);
    expect(await k(['get', 'rolebinding', 'flotilla-agent', '-n', env, '-o', 'jsonpath={.roleRef.name}'])).toBe('flotilla-agent-namespaced');

    // In its namespace: the kinds Flotilla renders (charts' DaemonSets too), and port-forwards (a container database's data).
    expect(Object.keys(await writes(env)).sort()).toEqual([
      'configmaps', 'cronjobs.batch', 'daemonsets.apps', 'deployments.apps', 'ingresses.networking.k8s.io', 'jobs.batch', 'namespaces', 'persistentvolumeclaims',
      'pods/portforward', 'secrets', 'serviceaccounts', 'services', 'statefulsets.apps',
    ]);
    expect((await writes(env)).namespaces).toBe('[get patch]');
    expect((await writes(env))['pods/portforward']).toBe('[get create]');
    expect(await can('create', 'pods', '--subresource=portforward', '-n', env)).toBe('yes');
    expect(await can('get', 'pods', '--subresource=portforward', '-n', env)).toBe('yes'); // a WebSocket upgrade's verb
    expect(await can('create', 'pods', '--subresource=exec', '-n', env)).toBe('no');
    expect(await can('create', 'deployments.apps', '-n', env)).toBe('yes');
    expect(await can('patch', `namespaces/${env}`, '-n', env)).toBe('yes'); // its own namespace object (apply), no other
    // Anywhere else: nothing.
    await k(['create', 'namespace', `other-${run}`]);
    for (const where of [undefined, 'kube-system', 'default', 'flotilla-system', `other-${run}`]) {
      expect(await writes(where), `writes ${where ?? 'at cluster scope'}`).toEqual({});
    }
    const refused = ['deployments.apps', 'secrets', 'serviceaccounts', 'pods', 'configmaps', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io'];
    for (const ns of ['kube-system', 'default', 'flotilla-system', `other-${run}`]) {
      for (const resource of refused) {
        for (const verb of ['create', 'patch', 'delete']) expect(await can(verb, resource, '-n', ns), `${verb} ${resource} -n ${ns}`).toBe('no');
      }
    }
    for (const verb of ['create', 'patch', 'delete']) {
      expect(await can(verb, 'clusterrolebindings')).toBe('no');
      expect(await can(verb, 'clusterroles')).toBe('no');
      expect(await can(verb, 'namespaces')).toBe('no');
      expect(await can(verb, 'secrets', '--all-namespaces')).toBe('no');
    }
    expect(await can('create', 'pods', '-n', env)).toBe('no');
    for (const ns of ['kube-system', 'default', 'flotilla-system', `other-${run}`]) {
      for (const verb of ['create', 'get']) expect(await can(verb, 'pods', '--subresource=portforward', '-n', ns), `${verb} pods/portforward -n ${ns}`).toBe('no');
    }
    expect(await can('get', 'secrets', '-n', 'kube-system')).toBe('no');
    expect(await can('list', 'nodes')).toBe('yes');
    // The baseline's role for charts' CRDs is there, and bound by nobody: until the cluster's admin binds it, no CRD.
    expect((await k(['get', 'clusterrole', 'flotilla-agent-cluster-scope', '-o', 'jsonpath={.rules[0].resources[0]}']))).toBe('customresourcedefinitions');
    for (const verb of ['create', 'patch']) expect(await can(verb, 'customresourcedefinitions.apiextensions.k8s.io')).toBe('no');

    // The worker's own client (the token it holds) is the agent: SelfSubjectReview, `kubectl auth whoami`.
    const { withClient } = clusterClients(deps);
    expect((await asActivity(() => withClient(name, (c) => whoAmI(c)))).username).toBe(AGENT);

    // The audit log: after onboarding, the worker acted only as the agent and, for namespace
    // objects, the bootstrap account; the registered credential only minted their tokens.
    const events = (await audit()).filter((e) => e.stageTimestamp > afterOnboarding && e.stage === 'ResponseComplete');
    // The worker's requests: client-node's user agent (kubectl, the control plane and KWOK have their own).
    const fromWorker = events.filter((e) => (e.userAgent ?? '').startsWith('node-fetch'));
    const who = (e: AuditEvent) => e.user.username === AGENT ? 'agent' : e.user.username === BOOTSTRAP ? 'bootstrap' : `other:${e.user.username}`;
    const summary = [...new Set(fromWorker.map((e) => `${who(e)} ${e.verb} ${e.objectRef?.resource ?? e.requestURI}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`))].sort();
    const byOthers = fromWorker.filter((e) => who(e).startsWith('other:'));
    // The registered credential: TokenRequests for the two accounts, nothing else.
    expect(byOthers.map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.subresource} ${e.objectRef?.namespace}/${e.objectRef?.name}`).filter((s) => !/^create serviceaccounts\/token flotilla-system\/flotilla-(agent|bootstrap)$/.test(s)), summary.join('\n')).toEqual([]);
    // The deploy's writes in the environment's namespace were the agent's.
    const writesInEnv = fromWorker.filter((e) => e.objectRef?.namespace === env && ['create', 'patch', 'update', 'delete'].includes(e.verb) && e.objectRef.resource !== 'namespaces');
    expect(writesInEnv.length).toBeGreaterThan(3);
    expect(new Set(writesInEnv.filter((e) => e.objectRef?.resource !== 'rolebindings').map(who))).toEqual(new Set(['agent']));
    // The namespace and the agent's RoleBinding: the bootstrap account.
    expect(fromWorker.filter((e) => e.verb === 'create' && e.objectRef?.resource === 'namespaces' && e.objectRef.name === env).map(who)).toEqual(['bootstrap']);
    expect(fromWorker.filter((e) => e.verb === 'create' && e.objectRef?.resource === 'rolebindings' && e.objectRef.namespace === env).map(who)).toEqual(['bootstrap']);
  });

  it('a request outside its namespaces, through the worker\'s client, fails naming verb, resource and namespace', async () => {
    const { withClient } = clusterClients(deps);
    const error = await asActivity(() => withClient(name, (c) => serverSideApply(c, [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `sneaky-${run}`, namespace: 'kube-system' }, data: { a: 'b' } },
    ]))).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure.type).toBe('AgentForbidden');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(new RegExp(`RBAC: ${AGENT} may not (patch|create|get) configmaps in namespace "kube-system" on cluster "${name}"`));
    expect(await k(['get', 'configmaps', '-n', 'kube-system', '-o', 'name'])).not.toContain(`sneaky-${run}`);
  });

  it('a deploy into an adoptable namespace the agent has no RoleBinding in fails with a clear RBAC error and writes nothing; granted, it goes through', async () => {
    await k(['create', 'namespace', adopted]);
    await k(['create', 'configmap', 'theirs', '-n', adopted, '--from-literal=owner=someone-else']);
    await createEnvironments(tc.catalog, [{ name: adopted, tier: 'staging', cluster: name }], shopSpec('1.0.0'));
    const outcome = await client.workflow.execute(deployEnvironment, {
      taskQueue, workflowId: `deploy-${adopted}-1`, args: [{ environment: adopted, requestedBy: 'alice', rolloutTimeoutSeconds: 60 }],
    }).then(() => undefined, (e: unknown) => e);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const cause = rootCause(outcome) as ApplicationFailure;
    expect(cause.type).toBe('AgentForbidden');
    expect(cause.message).toContain(`may not patch deployments.apps in namespace "${adopted}"`);
    expect(cause.message).toContain(`kubectl create rolebinding flotilla-agent -n ${adopted} --clusterrole=flotilla-agent-namespaced --serviceaccount=flotilla-system:flotilla-agent`);
    // Nothing written there: not by the agent, and not by the admin credential either.
    expect((await k(['get', 'deployments,services,configmaps,secrets,rolebindings', '-n', adopted, '-o', 'name'])).trim().split('\n').sort()).toEqual(['configmap/kube-root-ca.crt', 'configmap/theirs']);

    // The namespace's owner grants the agent its role there: the same deploy goes through, as the agent.
    await k(['create', 'rolebinding', 'flotilla-agent', '-n', adopted, '--clusterrole=flotilla-agent-namespaced', '--serviceaccount=flotilla-system:flotilla-agent']);
    await client.workflow.execute(deployEnvironment, {
      taskQueue, workflowId: `deploy-${adopted}-2`, args: [{ environment: adopted, requestedBy: 'alice', rolloutTimeoutSeconds: 60 }],
    });
    expect(await k(['get', 'deployments', '-n', adopted, '-o', 'name'])).toContain('deployment.apps/web');
    const patches = (await audit()).filter((e) => e.stage === 'ResponseComplete' && e.objectRef?.namespace === adopted && e.objectRef.resource === 'deployments' && e.verb === 'patch');
    expect(new Set(patches.map((e) => e.user.username))).toEqual(new Set([AGENT]));
  });

  it('removing an environment deletes the namespace Flotilla made, as the bootstrap account', async () => {
    const removed = await asActivity(() => createDeployActivities(deps).removeDeployment({ environment: env }));
    expect(removed).toMatchObject({ namespaceDeleted: true });
    expect(await k(['get', 'namespaces', '-o', 'name'])).not.toContain(`namespace/${env}\n`);
    const deletions = (await audit()).filter((e) => e.stage === 'ResponseComplete' && e.verb === 'delete' && e.objectRef?.resource === 'namespaces' && e.objectRef.name === env);
    expect(deletions.map((e) => e.user.username)).toEqual([BOOTSTRAP]);
    // Someone else's namespace stays: the adopted one is only pruned.
    const pruned = await asActivity(() => createDeployActivities(deps).removeDeployment({ environment: adopted }));
    expect(pruned).toMatchObject({ namespaceDeleted: false });
    expect(await k(['get', 'configmap', 'theirs', '-n', adopted, '-o', 'name'])).toContain('configmap/theirs');
  });
});
