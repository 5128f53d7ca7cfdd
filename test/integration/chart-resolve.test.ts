// Pinning and rendering charts (issue 14): the worker's prepareCharts activity resolves an oci
// chart's version to the digest the registry serves for it (what `helm push` reported), leaves
// pinned charts alone, and a tag moved to other content resolves to the new digest while the old
// one still renders what it did; the renders it makes for its targets are in the catalog's cache.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createChartActivities } from '../../activities/charts.js';
import { chartRenderRequests } from '../../domain/chart-objects.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import type { Chart } from '../../domain/charts.js';
import { startOciRegistry, type OciRegistry } from '../../local/oci-registry.js';
import { templateChart } from '../../providers/helm/cli.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');

describe('prepareCharts', () => {
  let registry: OciRegistry;
  let tc: TestCatalog;
  let dir: string;
  const helm = toolchain.helm!;
  const push = async (replicas: number) => {
    const values = join(dir, 'shop', 'values.yaml');
    writeFileSync(values, readFileSync(values, 'utf8').replace(/^replicaCount: \d+$/m, `replicaCount: ${replicas}`));
    await exec(helm, ['package', join(dir, 'shop'), '--version', '1.0.0', '--destination', dir]);
    const { stdout, stderr } = await exec(helm, ['push', join(dir, 'shop-1.0.0.tgz'), `oci://${registry.host}/charts`, '--plain-http']);
    return /Digest: (sha256:[0-9a-f]{64})/.exec(stdout + stderr)![1]!;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chart-resolve-'));
    registry = await startOciRegistry({ executable: toolchain.registry!, dir: join(dir, 'registry') });
    await exec(helm, ['create', join(dir, 'shop')]);
    tc = await testCatalog();
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    await tc?.close();
  });

  it('pins a version to the digest the registry serves; a moved tag pins anew, the old digest renders as before', async () => {
    const activities = createChartActivities({ catalog: tc.catalog, helm: { binary: helm, plainHttpHosts: [registry.host] } });
    const env = new MockActivityEnvironment();
    const resolve = (charts: Chart[]) => env.run(activities.prepareCharts, { charts, targets: [] }) as Promise<{ charts: Chart[] }>;
    const first = await push(1);
    const chart = { name: 'shop', oci: `oci://${registry.host}/charts/shop`, version: '1.0.0' };
    const pinned = await resolve([chart]);
    expect(pinned.charts).toEqual([{ ...chart, digest: first }]);

    const moved = await push(4);
    expect(moved).not.toBe(first);
    expect((await resolve([chart])).charts[0]!.digest).toBe(moved);
    // A chart already pinned stays pinned, whatever the tag says now.
    expect((await resolve(pinned.charts)).charts).toEqual(pinned.charts);
    const replicasAt = async (digest: string) => {
      const objects = await templateChart({ helm, plainHttp: true, chart: `oci://${registry.host}/charts/shop@${digest}`, release: 'web', namespace: 'shop', values: {} });
      return (objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number } }).spec.replicas;
    };
    expect(await replicasAt(first)).toBe(1);
    expect(await replicasAt(moved)).toBe(4);

    // For its targets it renders the pinned chart (overrides' values merged) into the cache.
    const target = { binding: { namespace: 'shop-a' }, overrides: { chartValues: {} } };
    await env.run(activities.prepareCharts, { charts: pinned.charts, targets: [target] });
    const [request] = chartRenderRequests(target.binding, { charts: pinned.charts }, target.overrides);
    const cached = await tc.catalog.chartRenders.get(request!.key);
    expect(cached?.find((o) => o.kind === 'Deployment')).toMatchObject({ metadata: { name: 'shop' }, spec: { replicas: 1 } });
  });

  it('a chart that cannot be resolved fails, naming it, not retried', async () => {
    const activities = createChartActivities({ catalog: tc.catalog, helm: { binary: helm, plainHttpHosts: [registry.host] } });
    await expect(new MockActivityEnvironment().run(activities.prepareCharts, { charts: [{ name: 'nope', oci: `oci://${registry.host}/charts/nope`, version: '9.9.9' }], targets: [] }))
      .rejects.toMatchObject({ type: 'ChartNotFound', nonRetryable: true, message: expect.stringContaining('chart "nope"') as unknown });
  });
});
