// Placement binds again at deploy time (issue 10, finding 1): the deploy's plan step refuses an
// environment whose cluster no longer accepts its tier (relabelled after the environment was
// made), or whose Ingress host another environment holds, with a non-retryable failure of its
// own type. It refuses in the plan itself, so a deploy whose rules a promotion already judged
// (skipRules) is refused too. Real catalog; no cluster is reached.
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeployActivities } from '../../activities/deploy.js';
import type { AppSpecInput } from '../../domain/environment.js';
import { StaticClusterDirectory } from '../../providers/cluster-directory.js';
import { createEnvironment } from '../../store/changes.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';

const spec: AppSpecInput = { services: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0', ports: [{ port: 8080 }] }] };
const connection = { provider: 'kubeconfig' as const, kubeconfigSecret: 'kc' };

describe('planDeploy re-checks placement', () => {
  let tc: TestCatalog;
  let activities: ReturnType<typeof createDeployActivities>;
  const plan = (environment: string) => activities.planDeploy({ environment, at: new Date().toISOString() }).catch((e: unknown) => e);

  beforeEach(async () => {
    tc = await testCatalog();
    activities = createDeployActivities({ catalog: tc.catalog, clusters: new StaticClusterDirectory([]) });
    await tc.catalog.clusters.create({ name: 'c1', labels: { tier: 'dev' }, connection, status: 'ready' });
  });
  afterEach(() => tc.close());

  it('a cluster relabelled tier=prod after a dev environment was made on it: TierMismatch, not retried', async () => {
    await createEnvironment(tc.catalog, { binding: { name: 'shop-dev', application: 'shop', tier: 'dev', cluster: 'c1', namespace: 'shop-dev' }, spec, author: 'dora' });
    expect(await plan('shop-dev')).toMatchObject({ cluster: 'c1', verdict: { allowed: true } });

    await tc.catalog.clusters.setLabels('c1', { tier: 'prod' });
    const refused = await plan('shop-dev');
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'TierMismatch', nonRetryable: true, message: expect.stringContaining('tier dev may not run on cluster "c1"') });
    expect((refused as ApplicationFailure).details?.[0]).toMatchObject([{ rule: 'clusterTier', field: 'spec.tier' }]);

    // An admin of the cluster allowing dev on it again makes it deployable.
    await tc.catalog.clusters.setPlacement('c1', { allowedTiers: ['dev'], adoptableNamespaces: [] });
    expect(await plan('shop-dev')).toMatchObject({ verdict: { allowed: true } });
  });

  it('an Ingress host another environment holds (written past the API): IngressHostTaken, not retried', async () => {
    for (const name of ['shop-a', 'shop-b']) {
      await createEnvironment(tc.catalog, {
        binding: { name, application: 'shop', tier: 'dev', cluster: 'c1', namespace: name }, spec, overrides: { hostnames: { web: 'shop.dev.example.com' } }, author: 'dora',
      });
    }
    expect(await plan('shop-b')).toMatchObject({ type: 'IngressHostTaken', nonRetryable: true, message: expect.stringContaining('already used by environment "shop-a"') });
  });
});
