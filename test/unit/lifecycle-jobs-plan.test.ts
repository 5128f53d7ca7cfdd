// The lifecycle-job activity and the plan, on a real catalog with no cluster reachable: the plan
// names the hooks a revision has jobs for (and nothing for a revision without, as plans made
// before jobs existed), and runLifecycleJob returns at once, reaching no cluster, when the
// revision has no job for the hook or nothing is deployed (a teardown of a never-deployed one).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeployActivities } from '../../activities/deploy.js';
import type { AppSpecInput } from '../../domain/environment.js';
import { StaticClusterDirectory } from '../../providers/cluster-directory.js';
import { createEnvironment } from '../../store/changes.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';

const plain: AppSpecInput = { services: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0' }] };
const withJobs: AppSpecInput = {
  ...plain,
  jobs: [
    { name: 'smoke', hook: 'afterDeploy', image: 'ghcr.io/acme/smoke:1', command: ['smoke'] },
    { name: 'seed', hook: 'beforeDeploy', image: 'ghcr.io/acme/seed:1', command: ['seed'] },
    { name: 'backup', hook: 'beforeTeardown', image: 'ghcr.io/acme/backup:1', command: ['backup'] },
  ],
};
const connection = { provider: 'kubeconfig' as const, kubeconfigSecret: 'kc' };
const binding = (name: string) => ({ name, application: 'shop', tier: 'dev' as const, cluster: 'c1', namespace: name });

describe('lifecycle jobs: plan and activity without a cluster', () => {
  let tc: TestCatalog;
  let activities: ReturnType<typeof createDeployActivities>;

  beforeEach(async () => {
    tc = await testCatalog();
    // No cluster in the directory: any attempt to reach one fails the test.
    activities = createDeployActivities({ catalog: tc.catalog, clusters: new StaticClusterDirectory([]) });
    await tc.catalog.clusters.create({ name: 'c1', labels: { tier: 'dev' }, connection, status: 'ready' });
  });
  afterEach(() => tc.close());

  it('the plan lists the hooks in their order, and has no hooks field for a revision without jobs', async () => {
    await createEnvironment(tc.catalog, { binding: binding('shop-a'), spec: withJobs, author: 'dora' });
    await createEnvironment(tc.catalog, { binding: binding('shop-b'), spec: plain, author: 'dora' });
    const at = new Date().toISOString();
    expect((await activities.planDeploy({ environment: 'shop-a', at })).hooks).toEqual(['beforeDeploy', 'afterDeploy', 'beforeTeardown']);
    expect(await activities.planDeploy({ environment: 'shop-b', at })).not.toHaveProperty('hooks');
  });

  it('runLifecycleJob: no job for the hook, or nothing deployed: returns at once', async () => {
    const { revision } = await createEnvironment(tc.catalog, { binding: binding('shop-a'), spec: withJobs, author: 'dora' });
    expect(await activities.runLifecycleJob({ environment: 'shop-a', revision: revision.id, hook: 'beforeStop' })).toEqual({ hook: 'beforeStop', revision: revision.id, jobs: [] });
    // No revision given: the deployed one; never deployed, so nothing runs.
    expect(await activities.runLifecycleJob({ environment: 'shop-a', hook: 'beforeTeardown', runId: 'teardown-1' })).toEqual({ hook: 'beforeTeardown', jobs: [] });
  });
});
