// Namespaces Flotilla did not create are refused unless an admin marks them adoptable (issue 10,
// finding 1), on a real cluster: the deploy activity refuses (ForeignNamespace, not retried)
// before it writes anything when the environment's namespace exists and is not Flotilla's for
// this environment; once the cluster lists it in adoptableNamespaces the deploy goes in, marks
// nothing as Flotilla's, and removing the environment leaves the namespace and what others keep
// there. A namespace that does not exist yet is created and marked as before. (Adopting is the
// catalog's side; in the cluster the agent still needs its role there, which the namespace's
// owner grants: test/integration/agent-rbac.test.ts.)
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeployActivities } from '../../activities/deploy.js';
import { AGENT_NAMESPACED_ROLE, AGENT_ROLE_BINDING, AGENT_SERVICE_ACCOUNT, SYSTEM_NAMESPACE } from '../../domain/baseline.js';
import type { AppSpecInput } from '../../domain/environment.js';
import { StaticClusterDirectory } from '../../providers/cluster-directory.js';
import { CREATED_FOR_ANNOTATION } from '../../providers/kubernetes/ownership.js';
import { createEnvironment } from '../../store/changes.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';

const [cluster] = inject('clusters');
const binary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 7);
const k = (args: string[]) => kubectl(binary, cluster!.kubeconfigPath, args);
const spec: AppSpecInput = { services: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0', ports: [{ port: 8080 }], resources: { limits: { cpu: '100m', memory: '64Mi' } } }] };

async function run_<R>(fn: () => Promise<R>): Promise<{ result?: R; error?: unknown }> {
  try {
    return { result: await new MockActivityEnvironment().run(fn) };
  } catch (error) {
    return { error };
  }
}

describe('namespaces Flotilla did not create', () => {
  let tc: TestCatalog;
  let activities: ReturnType<typeof createDeployActivities>;
  const theirs = `team-${run}`;
  const fresh = `fresh-${run}`;
  const adopter = `adopt-${run}`;

  beforeAll(async () => {
    tc = await testCatalog([cluster!]);
    activities = createDeployActivities({ catalog: tc.catalog, clusters: new StaticClusterDirectory([[cluster!.name, cluster!.kubeconfig]]) });
    // Another team's namespace, with something of theirs in it.
    await k(['create', 'namespace', theirs]);
    await k(['create', 'configmap', 'theirs', '-n', theirs, '--from-literal=owner=team']);
    for (const [name, namespace] of [[adopter, theirs], [fresh, fresh]] as const) {
      await createEnvironment(tc.catalog, { binding: { name, application: 'shop', tier: 'prod', cluster: cluster!.name, namespace }, spec, author: 'alice' });
    }
  });
  afterAll(async () => {
    await Promise.all([theirs, fresh].map((ns) => k(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']).catch(() => undefined)));
    await tc?.close();
  });

  const deploy = async (environment: string) => {
    const env = await tc.catalog.environments.require(environment);
    return run_(() => activities.applyRevision({ environment, revision: env.currentRevision!, overridesVersion: env.overridesVersion, phase: 'all' }));
  };
  const flotillaObjects = async (namespace: string, environment: string) =>
    (await k(['get', 'deployments,services,configmaps', '-n', namespace, '-l', `flotilla.dev/environment=${environment}`, '-o', 'name'])).split('\n').filter(Boolean).sort();
  const annotations = async (namespace: string) =>
    (await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(binary, cluster!.kubeconfigPath, ['get', 'namespace', namespace])).metadata.annotations ?? {};

  it('refuses to deploy into an existing namespace it did not create (ForeignNamespace, not retried), writing nothing', async () => {
    const { error } = await deploy(adopter);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'ForeignNamespace', nonRetryable: true, message: expect.stringContaining(`namespace "${theirs}" exists on cluster "${cluster!.name}"`) });
    expect(await flotillaObjects(theirs, adopter)).toEqual([]);
    expect(await annotations(theirs)).not.toHaveProperty(CREATED_FOR_ANNOTATION);
  });

  it('creates and marks a namespace that does not exist yet, and deploys into it again', async () => {
    expect((await deploy(fresh)).error).toBeUndefined();
    expect((await annotations(fresh))[CREATED_FOR_ANNOTATION]).toBe(fresh);
    expect((await deploy(fresh)).error).toBeUndefined();
  });

  it('deploys once an admin lists it as adoptable, claims nothing, and leaves the namespace and its neighbours on removal', async () => {
    await tc.catalog.clusters.setPlacement(cluster!.name, { allowedTiers: cluster!.allowedTiers, adoptableNamespaces: [theirs] });
    // The namespace's owner grants Flotilla's agent its role there.
    await k(['create', 'rolebinding', AGENT_ROLE_BINDING, '-n', theirs, `--clusterrole=${AGENT_NAMESPACED_ROLE}`, `--serviceaccount=${SYSTEM_NAMESPACE}:${AGENT_SERVICE_ACCOUNT}`]);
    const { result, error } = await deploy(adopter);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ created: expect.any(Number) });
    expect(await flotillaObjects(theirs, adopter)).toEqual(['deployment.apps/web', 'service/web']);
    expect(await annotations(theirs)).not.toHaveProperty(CREATED_FOR_ANNOTATION);

    const removed = await run_(() => activities.removeDeployment({ environment: adopter }));
    expect(removed.error).toBeUndefined();
    expect(removed.result).toMatchObject({ namespaceDeleted: false });
    expect(await flotillaObjects(theirs, adopter)).toEqual([]);
    expect(await k(['get', 'configmap', 'theirs', '-n', theirs, '-o', 'name'])).toContain('configmap/theirs');
  });
});
