// The API's side of charts (issue 14, api/services/charts.ts): it cannot run helm, so it asks the
// worker (the prepareCharts workflow, executed and waited for) to pin chart versions to digests
// and to render the charts of the environments it judges into the catalog's cache. What the
// worker refuses becomes a 422 at the charts' path; a worker without helm, or no worker at all,
// charts_not_supported. Renders already cached are not asked for again; targets with the same
// charts go in one request. A stand-in answers as the workflow would; the catalog is real (SQLite).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PrepareChartsInput } from '../../../activities/charts-types.js';
import { ApiError } from '../../../api/errors.js';
import { pinCharts, renderCharts, type ChartTarget } from '../../../api/services/charts.js';
import { WorkflowRunError } from '../../../api/starter.js';
import { chartRenderRequests } from '../../../domain/chart-objects.js';
import type { Chart } from '../../../domain/charts.js';
import { testCatalog, type TestCatalog } from '../../support/catalog.js';

const WEB_DIGEST = `sha256:${'1'.repeat(64)}`;
const API_DIGEST = `sha256:${'2'.repeat(64)}`;
const ARCHIVE = `sha256:${'3'.repeat(64)}`;

const webPinned: Chart = { name: 'web', oci: 'oci://registry.example/charts/web', version: '1.2.0', digest: WEB_DIGEST, environmentValues: ['ingress.host'] };
const webUnpinned: Chart = { name: 'web', oci: 'oci://registry.example/charts/web', version: '1.2.0', environmentValues: ['ingress.host'] };
const apiPinned: Chart = { name: 'api', oci: 'oci://registry.example/charts/api', digest: API_DIGEST };
const jobsArchive: Chart = { name: 'jobs', archive: ARCHIVE };

interface Call { workflowType: string; args: unknown[]; workflowId: string; options?: { timeoutMs?: number } }

/** The worker, as the API sees it: a workflow it executes and waits for. */
class FakeWorker {
  readonly calls: Call[] = [];
  answer: (input: PrepareChartsInput) => unknown = (input) => ({ charts: input.charts.map((c) => (c.archive || c.digest ? c : { ...c, digest: WEB_DIGEST })) });

  async execute(workflowType: string, args: unknown[], workflowId: string, options?: { timeoutMs?: number }): Promise<unknown> {
    this.calls.push({ workflowType, args, workflowId, ...(options ? { options } : {}) });
    return this.answer(args[0] as PrepareChartsInput);
  }
}

/** What a call of pinCharts or renderCharts threw (undefined when it did not). */
async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

const failing = (type: string | undefined, message: string) => () => {
  throw new WorkflowRunError('prepare-charts-x', message, type);
};

describe('charts through the worker', () => {
  let tc: TestCatalog;
  let worker: FakeWorker;
  beforeEach(async () => {
    tc = await testCatalog();
    worker = new FakeWorker();
  });
  afterEach(() => tc.close());
  const deps = () => ({ catalog: tc.catalog, operations: worker });

  describe('pinCharts', () => {
    it('leaves a spec whose charts are all pinned (by digest or as an archive) as it is, without asking the worker', async () => {
      const spec = { services: [], charts: [webPinned, jobsArchive] };
      expect(await pinCharts(deps(), spec, 'spec.charts')).toBe(spec);
      const none: { services: never[]; charts?: Chart[] } = { services: [] };
      expect(await pinCharts(deps(), none, 'spec.charts')).toBe(none);
      expect(worker.calls).toEqual([]);
    });

    it('asks the worker to pin the charts (and render nothing), waiting at most two minutes, and takes the charts it returns', async () => {
      const spec = { services: [{ name: 'x' }], charts: [webUnpinned, jobsArchive] };
      const pinned = await pinCharts(deps(), spec, 'spec.charts');
      expect(worker.calls).toEqual([{
        workflowType: 'prepareCharts',
        args: [{ charts: [webUnpinned, jobsArchive], targets: [] }],
        workflowId: expect.stringMatching(/^prepare-charts-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        options: { timeoutMs: 120_000 },
      }]);
      expect(pinned).toEqual({
        services: [{ name: 'x' }],
        charts: [
          { name: 'web', oci: 'oci://registry.example/charts/web', version: '1.2.0', digest: WEB_DIGEST, environmentValues: ['ingress.host'] },
          { name: 'jobs', archive: ARCHIVE },
        ],
      });
      expect(spec.charts[0]).toEqual({ name: 'web', oci: 'oci://registry.example/charts/web', version: '1.2.0', environmentValues: ['ingress.host'] });
    });

    it('each request is a workflow of its own', async () => {
      await pinCharts(deps(), { charts: [webUnpinned] }, 'charts');
      await pinCharts(deps(), { charts: [webUnpinned] }, 'charts');
      expect(worker.calls).toHaveLength(2);
      expect(worker.calls[0]!.workflowId).not.toBe(worker.calls[1]!.workflowId);
    });

    it.each([
      ['no operations at all', undefined],
      ['operations that cannot execute a workflow', {}],
    ])('with %s: 422 charts_not_supported at the charts\' path', async (_what, operations) => {
      const error = await thrown(pinCharts({ catalog: tc.catalog, ...(operations ? { operations } : {}) }, { charts: [webUnpinned] }, 'spec.app.charts'));
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        status: 422,
        code: 'charts_not_supported',
        message: 'charts are pinned and rendered on the worker, and this API has no way to ask one',
        details: [{ path: 'spec.app.charts', message: 'charts need a worker with helm' }],
      });
    });

    it.each(['ChartNotFound', 'ChartRenderFailed'])('a chart the worker refuses (%s): 422 invalid_chart at the path, with the worker\'s message', async (type) => {
      const message = 'chart "web": oci://registry.example/charts/web:9.9.9: not found';
      worker.answer = failing(type, message);
      const error = await thrown(pinCharts(deps(), { charts: [webUnpinned] }, 'documents[0].spec.charts'));
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status: 422, code: 'invalid_chart', message, details: [{ path: 'documents[0].spec.charts', message }] });
    });

    it('a worker without helm: 422 charts_not_supported, saying so of "the worker"', async () => {
      worker.answer = failing('HelmNotConfigured', 'helm is not installed on this worker (set FLOTILLA_HELM)');
      const error = await thrown(pinCharts(deps(), { charts: [webUnpinned] }, 'charts'));
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        status: 422,
        code: 'charts_not_supported',
        message: 'helm is not installed on the worker (set FLOTILLA_HELM)',
        details: [{ path: 'charts', message: 'charts need a worker with helm' }],
      });
    });

    it('a worker that does not answer in time: 504 worker_timeout', async () => {
      worker.answer = failing(undefined, 'workflow execution timed out');
      expect(await thrown(pinCharts(deps(), { charts: [webUnpinned] }, 'charts'))).toMatchObject({
        status: 504, code: 'worker_timeout', message: 'the worker did not pin and render the charts within 120 s',
      });
    });

    it('any other failure of the workflow: 502 chart_preparation_failed with its message', async () => {
      worker.answer = failing('ActivityTaskFailed', 'registry.example: connection refused');
      expect(await thrown(pinCharts(deps(), { charts: [webUnpinned] }, 'charts'))).toMatchObject({
        status: 502, code: 'chart_preparation_failed', message: 'registry.example: connection refused',
      });
    });

    it('an error that is not the workflow\'s goes up as it is', async () => {
      const boom = new Error('temporal client closed');
      worker.answer = () => {
        throw boom;
      };
      expect(await thrown(pinCharts(deps(), { charts: [webUnpinned] }, 'charts'))).toBe(boom);
    });
  });

  describe('renderCharts', () => {
    const target = (namespace: string, charts: Chart[] | undefined, chartValues?: Record<string, Record<string, unknown>>): ChartTarget => ({
      binding: { namespace },
      spec: { ...(charts ? { charts } : {}) },
      overrides: { ...(chartValues ? { chartValues } : {}) },
    });
    /** Puts a target's renders into the catalog's cache, as the worker would have. */
    const cache = async (t: ChartTarget, only?: string) => {
      for (const request of chartRenderRequests(t.binding, t.spec, t.overrides)) {
        if (only === undefined || request.chart === only) await tc.catalog.chartRenders.put(request, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: request.chart } }]);
      }
    };

    it('asks nothing for targets without charts, even with no worker to ask', async () => {
      await renderCharts({ catalog: tc.catalog }, [target('shop-dev', undefined), target('shop-qa', [])]);
      await renderCharts(deps(), [target('shop-dev', undefined)]);
      expect(worker.calls).toEqual([]);
    });

    it('asks the worker to render what the cache lacks: the charts and each target\'s namespace and chart values, nothing else', async () => {
      const full: ChartTarget = {
        binding: { namespace: 'shop-dev', name: 'shop-dev', tier: 'dev' } as ChartTarget['binding'],
        spec: { charts: [webPinned], services: [] } as ChartTarget['spec'],
        overrides: { chartValues: { web: { 'ingress.host': 'dev.shop.example' } }, replicas: { web: 3 } } as ChartTarget['overrides'],
      };
      await renderCharts(deps(), [full]);
      expect(worker.calls).toEqual([{
        workflowType: 'prepareCharts',
        args: [{ charts: [webPinned], targets: [{ binding: { namespace: 'shop-dev' }, overrides: { chartValues: { web: { 'ingress.host': 'dev.shop.example' } } } }] }],
        workflowId: expect.stringMatching(/^prepare-charts-[0-9a-f-]{36}$/),
        options: { timeoutMs: 120_000 },
      }]);
    });

    it('on the worker itself (a scheduled clone), renders in place with its renderer and asks no workflow', async () => {
      const rendered: { chart: string; namespace: string; values: Record<string, unknown> }[] = [];
      const renderer = async (r: { chart: string; namespace: string; values: Record<string, unknown> }) => {
        rendered.push({ chart: r.chart, namespace: r.namespace, values: r.values });
        return [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${r.chart}-rendered` } }];
      };
      const clone = target('shop-clone', [webPinned], { web: { 'ingress.host': 'clone.shop.example' } });
      await renderCharts({ catalog: tc.catalog, renderer }, [clone]);
      expect(rendered).toEqual([{ chart: 'web', namespace: 'shop-clone', values: { ingress: { host: 'clone.shop.example' } } }]);
      const [request] = chartRenderRequests(clone.binding, clone.spec, clone.overrides);
      expect(await tc.catalog.chartRenders.get(request!.key)).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-rendered' } }]);
      // Cached now: not rendered again.
      await renderCharts({ catalog: tc.catalog, renderer }, [clone]);
      expect(rendered).toHaveLength(1);
    });

    it('asks nothing when every render of every target is cached, even with no worker to ask', async () => {
      const dev = target('shop-dev', [webPinned, jobsArchive], { web: { 'ingress.host': 'dev.shop.example' } });
      await cache(dev);
      await renderCharts(deps(), [dev]);
      await renderCharts({ catalog: tc.catalog }, [dev]);
      expect(worker.calls).toEqual([]);
    });

    it('a render cached for other values is not this one', async () => {
      await cache(target('shop-dev', [webPinned], { web: { 'ingress.host': 'dev.shop.example' } }));
      await renderCharts(deps(), [target('shop-dev', [webPinned], { web: { 'ingress.host': 'other.shop.example' } })]);
      expect(worker.calls).toHaveLength(1);
    });

    it('asks for a target one of whose renders is missing', async () => {
      const dev = target('shop-dev', [webPinned, jobsArchive]);
      await cache(dev, 'web');
      await renderCharts(deps(), [dev]);
      expect(worker.calls.map((c) => c.args)).toEqual([[{ charts: [webPinned, jobsArchive], targets: [{ binding: { namespace: 'shop-dev' }, overrides: {} }] }]]);
    });

    it('asks once per list of charts, with every target of that list the cache lacks', async () => {
      const dev = target('shop-dev', [webPinned, apiPinned], { web: { 'ingress.host': 'dev.shop.example' } });
      const cached = target('shop-qa', [webPinned, apiPinned]);
      const staging = target('shop-staging', [webPinned, apiPinned]);
      const jobs = target('jobs-dev', [jobsArchive]);
      await cache(cached);
      await renderCharts(deps(), [dev, cached, jobs, staging], 'stages');
      expect(worker.calls.map((c) => [c.workflowType, c.args])).toEqual([
        ['prepareCharts', [{
          charts: [webPinned, apiPinned],
          targets: [
            { binding: { namespace: 'shop-dev' }, overrides: { chartValues: { web: { 'ingress.host': 'dev.shop.example' } } } },
            { binding: { namespace: 'shop-staging' }, overrides: {} },
          ],
        }]],
        ['prepareCharts', [{ charts: [jobsArchive], targets: [{ binding: { namespace: 'jobs-dev' }, overrides: {} }] }]],
      ]);
    });

    it('refuses with the path it is given: a chart helm cannot render, 422 invalid_chart', async () => {
      const message = 'chart "web": helm template: values don\'t meet the specifications of the schema';
      worker.answer = failing('ChartRenderFailed', message);
      expect(await thrown(renderCharts(deps(), [target('shop-dev', [webPinned])], 'stages'))).toMatchObject({
        status: 422, code: 'invalid_chart', message, details: [{ path: 'stages', message }],
      });
      expect(await thrown(renderCharts(deps(), [target('shop-dev', [webPinned])]))).toMatchObject({
        status: 422, code: 'invalid_chart', details: [{ path: 'spec.charts', message }],
      });
    });

    it('with renders missing and no worker to ask: 422 charts_not_supported', async () => {
      expect(await thrown(renderCharts({ catalog: tc.catalog }, [target('shop-dev', [webPinned])]))).toMatchObject({
        status: 422, code: 'charts_not_supported', details: [{ path: 'spec.charts', message: 'charts need a worker with helm' }],
      });
    });
  });
});
