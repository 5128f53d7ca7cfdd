// What a chart's render and a manifest bundle become in an environment (issue 14, domain): the
// objects `helm template` printed, put into the environment's namespace and labelled as Flotilla's;
// Helm's hook Jobs set apart for the deploy's lifecycle moments (named by revision and content),
// test and rollback hooks never run, other hooks applied with the rest; anything outside the
// namespace refused unless the overrides allow it; a missing render refused. Also what render()
// and renderLifecycleJobs() do with them, and the render requests of an environment's charts.
// The input is a hand-written render, as `helm template` would print it.
import { describe, expect, it } from 'vitest';
import {
  chartObjects,
  ChartNotPinnedError,
  ChartNotRenderedError,
  chartRenderRequests,
  ChartScopeError,
  type ChartObjectsInput,
  type RenderedChart,
} from '../../../domain/chart-objects.js';
import type { Chart } from '../../../domain/charts.js';
import { AppSpec, Overrides, type EnvironmentBinding } from '../../../domain/environment.js';
import type { Manifest } from '../../../domain/manifest.js';
import { render, renderLifecycleJobs } from '../../../domain/render.js';

const REVISION = `sha256:abcdef0123456789${'0'.repeat(48)}`;
const OTHER_REVISION = `sha256:9876543210fedcba${'0'.repeat(48)}`;
const WEB_DIGEST = `sha256:${'1'.repeat(64)}`;
const JOBS_ARCHIVE = `sha256:${'2'.repeat(64)}`;

const binding: EnvironmentBinding = { name: 'shop-dev', application: 'shop', tier: 'dev', cluster: 'eu-1', namespace: 'shop-dev' };
const webChart: Chart = { name: 'web', oci: 'oci://registry.example/charts/web', version: '1.2.0', digest: WEB_DIGEST, values: { replicaCount: 2 } };

/** The labels Helm's own chart template puts on every object. */
const HELM_LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web', 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'web-1.2.0' };
const SELECTOR = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web' };
/** What every chart object of shop-dev carries after chartObjects (Helm's managed-by replaced). */
const WEB_LABELS = {
  'app.kubernetes.io/name': 'web',
  'app.kubernetes.io/instance': 'web',
  'app.kubernetes.io/managed-by': 'flotilla',
  'helm.sh/chart': 'web-1.2.0',
  'flotilla.dev/environment': 'shop-dev',
  'flotilla.dev/application': 'shop',
  'flotilla.dev/revision': 'abcdef012345',
  'flotilla.dev/source': 'chart.web',
};

const job = (name: string, hook: string, image = 'ghcr.io/acme/web:1.2.0'): Manifest => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, labels: { ...HELM_LABELS }, annotations: { 'helm.sh/hook': hook, 'helm.sh/hook-delete-policy': 'before-hook-creation' } },
  spec: {
    backoffLimit: 1,
    template: {
      metadata: { labels: { ...SELECTOR } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'task', image, command: [`./${name}`] }] },
    },
  },
});

/** `helm template web oci://registry.example/charts/web --namespace shop-dev`, as parsed documents. */
function webRender(patch: { migrateImage?: string; replicas?: number } = {}): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', labels: { ...HELM_LABELS } } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-settings', namespace: 'shop-dev', labels: { ...HELM_LABELS } }, data: { LOG_LEVEL: 'info' } },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { ...HELM_LABELS } },
      spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 'http' }], selector: { ...SELECTOR } },
    },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { ...HELM_LABELS } },
      spec: {
        replicas: patch.replicas ?? 2,
        selector: { matchLabels: { ...SELECTOR } },
        template: {
          metadata: { labels: { ...SELECTOR } },
          spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'ghcr.io/acme/web:1.2.0', ports: [{ name: 'http', containerPort: 8080 }] }] },
        },
      },
    },
    {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'web-report', labels: { ...HELM_LABELS } },
      spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'ghcr.io/acme/report:2.0.0' }] } } } } },
    },
    {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'web-migrate-script', labels: { ...HELM_LABELS }, annotations: { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-10' } },
      data: { 'migrate.sh': 'exec ./migrate up' },
    },
    job('web-migrate', 'pre-upgrade,pre-install', patch.migrateImage),
    job('web-smoke', 'post-install, post-upgrade'),
    job('web-drain', 'pre-delete'),
    job('web-rollback-notify', 'pre-rollback'),
    {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'web-test-connection', labels: { ...HELM_LABELS }, annotations: { 'helm.sh/hook': 'test' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'wget', image: 'busybox:1.36', command: ['wget', 'web:80'] }] },
    },
  ];
}

const input = (over: Partial<ChartObjectsInput> = {}): ChartObjectsInput => ({
  binding,
  spec: { charts: [webChart] },
  overrides: {},
  revision: REVISION,
  charts: [{ chart: 'web', objects: webRender() }],
  ...over,
});

const ids = (objects: readonly Manifest[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
const podLabels = (o: Manifest | undefined) => (o?.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
const hookName = (revision: string, render: Manifest[], hook: 'beforeDeploy' | 'afterDeploy' | 'beforeTeardown' = 'beforeDeploy') =>
  chartObjects(input({ revision, charts: [{ chart: 'web', objects: render }] })).hooks[hook]![0]!.metadata.name;

describe('chartObjects', () => {
  it('applies every object that is no hook, and hooks that are no Job, in the order Helm printed them', () => {
    const { objects } = chartObjects(input());
    expect(ids(objects)).toEqual([
      'ServiceAccount/web',
      'ConfigMap/web-settings',
      'Service/web',
      'Deployment/web',
      'CronJob/web-report',
      'ConfigMap/web-migrate-script',
    ]);
  });

  it('labels every object as the environment\'s and its chart\'s, in the environment\'s namespace', () => {
    const { objects, hooks } = chartObjects(input());
    for (const o of [...objects, ...Object.values(hooks).flat()]) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('shop-dev');
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toEqual(o.kind === 'Job' ? { ...WEB_LABELS, 'flotilla.dev/hook': expect.any(String) } : WEB_LABELS);
    }
  });

  it('renders a Deployment as Helm printed it, with Flotilla\'s labels and the environment\'s on its pods (no revision there)', () => {
    const deployment = chartObjects(input()).objects.find((o) => o.kind === 'Deployment');
    expect(deployment).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop-dev', labels: WEB_LABELS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web' } },
        template: {
          metadata: {
            labels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web', 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/application': 'shop' },
          },
          spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'ghcr.io/acme/web:1.2.0', ports: [{ name: 'http', containerPort: 8080 }] }] },
        },
      },
    });
  });

  it('labels a CronJob\'s pods through its jobTemplate', () => {
    const cron = chartObjects(input()).objects.find((o) => o.kind === 'CronJob');
    const template = (cron?.spec as { jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> } } } } }).jobTemplate.spec.template;
    expect(template.metadata.labels).toEqual({ 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/application': 'shop' });
  });

  it('keeps a namespace the chart wrote when it is the environment\'s', () => {
    const settings = chartObjects(input()).objects.find((o) => o.metadata.name === 'web-settings');
    expect(settings?.metadata.namespace).toBe('shop-dev');
  });

  it('applies a hook that is not a Job with the rest, keeping its annotations', () => {
    const script = chartObjects(input()).objects.find((o) => o.metadata.name === 'web-migrate-script');
    expect(script).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'web-migrate-script',
        namespace: 'shop-dev',
        labels: WEB_LABELS,
        annotations: { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-10' },
      },
      data: { 'migrate.sh': 'exec ./migrate up' },
    });
  });

  it('sets Helm\'s hook Jobs apart by deploy moment: pre-install/upgrade before, post-install/upgrade after, pre-delete before teardown', () => {
    const { hooks } = chartObjects(input());
    expect(Object.keys(hooks).sort()).toEqual(['afterDeploy', 'beforeDeploy', 'beforeTeardown']);
    expect(hooks.beforeDeploy).toHaveLength(1);
    expect(hooks.afterDeploy).toHaveLength(1);
    expect(hooks.beforeTeardown).toHaveLength(1);
    expect(hooks.beforeDeploy![0]!.metadata.name).toMatch(/^web-migrate-abcdef01-[0-9a-f]{6}$/);
    expect(hooks.afterDeploy![0]!.metadata.name).toMatch(/^web-smoke-abcdef01-[0-9a-f]{6}$/);
    expect(hooks.beforeTeardown![0]!.metadata.name).toMatch(/^web-drain-abcdef01-[0-9a-f]{6}$/);
    expect(hooks.beforeDeploy![0]!.metadata.labels!['flotilla.dev/hook']).toBe('beforeDeploy');
    expect(hooks.afterDeploy![0]!.metadata.labels!['flotilla.dev/hook']).toBe('afterDeploy');
    expect(hooks.beforeTeardown![0]!.metadata.labels!['flotilla.dev/hook']).toBe('beforeTeardown');
  });

  it('a hook Job keeps its spec and annotations, with the environment\'s labels on its pods', () => {
    const migrate = chartObjects(input()).hooks.beforeDeploy![0]!;
    expect(migrate).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: expect.stringMatching(/^web-migrate-abcdef01-[0-9a-f]{6}$/),
        namespace: 'shop-dev',
        labels: { ...WEB_LABELS, 'flotilla.dev/hook': 'beforeDeploy' },
        annotations: { 'helm.sh/hook': 'pre-upgrade,pre-install', 'helm.sh/hook-delete-policy': 'before-hook-creation', 'flotilla.dev/chart-name': 'web-migrate' },
      },
      spec: {
        backoffLimit: 1,
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web', 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/application': 'shop' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'ghcr.io/acme/web:1.2.0', command: ['./web-migrate'] }] },
        },
      },
    });
  });

  it('never runs test or rollback hooks, and never applies them', () => {
    const { objects, hooks } = chartObjects(input());
    const everything = ids([...objects, ...Object.values(hooks).flat()]);
    expect(everything.some((id) => id.includes('web-test-connection'))).toBe(false);
    expect(everything.some((id) => id.includes('web-rollback-notify'))).toBe(false);
    expect(everything).toHaveLength(9);
  });

  it('a hook Job\'s name stays for the same revision and content, whatever else the chart changes', () => {
    const first = hookName(REVISION, webRender());
    expect(hookName(REVISION, webRender())).toBe(first);
    expect(hookName(REVISION, webRender({ replicas: 5 }))).toBe(first);
  });

  it('a hook Job\'s name changes with its content (a Job\'s template cannot change in place)', () => {
    const first = hookName(REVISION, webRender());
    const changed = hookName(REVISION, webRender({ migrateImage: 'ghcr.io/acme/web:1.3.0' }));
    expect(changed).toMatch(/^web-migrate-abcdef01-[0-9a-f]{6}$/);
    expect(changed).not.toBe(first);
  });

  it('a hook Job\'s name changes with the revision (a new revision\'s pre-upgrade runs again)', () => {
    const next = hookName(OTHER_REVISION, webRender());
    expect(next).toMatch(/^web-migrate-98765432-[0-9a-f]{6}$/);
    expect(next).not.toBe(hookName(REVISION, webRender()));
  });

  it('shortens a long hook Job name so that revision and hash still fit in a Kubernetes name', () => {
    const long = `${'a'.repeat(41)}-database-migration-before-upgrade`;
    const [named] = chartObjects(input({ charts: [{ chart: 'web', objects: [job(long, 'pre-upgrade')] }] })).hooks.beforeDeploy!;
    expect(named!.metadata.name).toMatch(new RegExp(`^${'a'.repeat(41)}-abcdef01-[0-9a-f]{6}$`));
    expect(named!.metadata.name.length).toBeLessThanOrEqual(63);
  });

  it('leaves the render it was given as it was (a cached render is read again)', () => {
    const objects = webRender();
    const before = structuredClone(objects);
    chartObjects(input({ charts: [{ chart: 'web', objects }] }));
    expect(objects).toEqual(before);
  });

  it('labels a manifest bundle\'s documents with their bundle as source', () => {
    const spec = {
      manifests: [{
        name: 'extras',
        documents: [
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'feature-flags' }, data: { checkout: 'v2' } },
          { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: 'shop-dev' }, spec: { podSelector: {} } },
        ],
      }],
    };
    const { objects, hooks } = chartObjects(input({ spec, charts: [] }));
    expect(hooks).toEqual({});
    expect(objects).toEqual([
      {
        apiVersion: 'v1', kind: 'ConfigMap', data: { checkout: 'v2' },
        metadata: {
          name: 'feature-flags', namespace: 'shop-dev',
          labels: { 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/application': 'shop', 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.dev/revision': 'abcdef012345', 'flotilla.dev/source': 'manifests.extras' },
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec: { podSelector: {} },
        metadata: {
          name: 'deny-all', namespace: 'shop-dev',
          labels: { 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/application': 'shop', 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.dev/revision': 'abcdef012345', 'flotilla.dev/source': 'manifests.extras' },
        },
      },
    ]);
  });

  it('puts charts before bundles, each in the order the spec lists them', () => {
    const api: Chart = { name: 'api', archive: JOBS_ARCHIVE };
    const spec = { charts: [webChart, api], manifests: [{ name: 'extras', documents: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra' } }] }] };
    const charts: RenderedChart[] = [
      { chart: 'api', objects: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' } }] },
      { chart: 'web', objects: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } }] },
    ];
    const { objects } = chartObjects(input({ spec, charts }));
    expect(objects.map((o) => [o.metadata.name, o.metadata.labels!['flotilla.dev/source']])).toEqual([
      ['web', 'chart.web'],
      ['api', 'chart.api'],
      ['extra', 'manifests.extras'],
    ]);
  });

  it('refuses a chart whose render is missing, rather than apply a partial set (prune would delete the rest)', () => {
    const spec = { charts: [webChart, { name: 'api', archive: JOBS_ARCHIVE }] };
    const thrown = (() => {
      try {
        chartObjects(input({ spec }));
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ChartNotRenderedError);
    expect(thrown).toMatchObject({ chart: 'api', message: 'chart "api" has not been rendered for this environment' });
  });

  describe('scope', () => {
    const outside: Manifest[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'web-reader' }, rules: [] },
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'web', namespace: 'monitoring' }, spec: {} },
    ];
    const scopeError = (over: Partial<ChartObjectsInput>): ChartScopeError => {
      try {
        chartObjects(input(over));
      } catch (error) {
        if (error instanceof ChartScopeError) return error;
        throw error;
      }
      throw new Error('chartObjects did not refuse');
    };

    it('refuses cluster-scoped objects and objects of other namespaces, naming each', () => {
      const error = scopeError({ charts: [{ chart: 'web', objects: outside }] });
      expect(error.problems).toEqual([
        {
          source: 'chart/web',
          object: 'ClusterRole/web-reader',
          message: 'is cluster-scoped: an environment writes only into its namespace unless its overrides allow it (chartScope.clusterScoped: true) and the cluster grants the agent the flotilla-agent-cluster-scope role',
        },
        {
          source: 'chart/web',
          object: 'ServiceMonitor/web',
          message: 'would be written into namespace "monitoring", not the environment\'s "shop-dev" (allow it with chartScope.namespaces)',
        },
      ]);
      expect(error.message).toContain('chart/web: ClusterRole/web-reader is cluster-scoped');
      expect(error.message).toContain('chart/web: ServiceMonitor/web would be written into namespace "monitoring"');
    });

    it('allows what the overrides allow, leaving cluster-scoped objects without a namespace', () => {
      const { objects } = chartObjects(input({ charts: [{ chart: 'web', objects: outside }], overrides: { chartScope: { clusterScoped: true, namespaces: ['monitoring'] } } }));
      expect(objects.map((o) => [o.kind, o.metadata.namespace])).toEqual([
        ['ConfigMap', 'shop-dev'],
        ['ClusterRole', undefined],
        ['ServiceMonitor', 'monitoring'],
      ]);
      expect(objects[1]!.metadata.labels).toMatchObject({ 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/source': 'chart.web' });
    });

    it('allowing one scope does not allow the other', () => {
      expect(scopeError({ charts: [{ chart: 'web', objects: outside }], overrides: { chartScope: { clusterScoped: true } } }).problems.map((p) => p.object)).toEqual(['ServiceMonitor/web']);
      expect(scopeError({ charts: [{ chart: 'web', objects: outside }], overrides: { chartScope: { namespaces: ['monitoring'] } } }).problems.map((p) => p.object)).toEqual(['ClusterRole/web-reader']);
    });

    it('knows a custom kind is cluster-scoped when a CRD of the same render says so', () => {
      const crd = (kind: string, scope: 'Cluster' | 'Namespaced'): Manifest => ({
        apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${kind.toLowerCase()}s.acme.example` },
        spec: { group: 'acme.example', scope, names: { kind, plural: `${kind.toLowerCase()}s` }, versions: [] },
      });
      const objects: Manifest[] = [
        crd('Tenant', 'Cluster'),
        crd('Widget', 'Namespaced'),
        { apiVersion: 'acme.example/v1', kind: 'Tenant', metadata: { name: 'shop' } },
        { apiVersion: 'acme.example/v1', kind: 'Widget', metadata: { name: 'button' } },
      ];
      expect(scopeError({ charts: [{ chart: 'web', objects }] }).problems.map((p) => p.object)).toEqual([
        'CustomResourceDefinition/tenants.acme.example',
        'CustomResourceDefinition/widgets.acme.example',
        'Tenant/shop',
      ]);
      const allowed = chartObjects(input({ charts: [{ chart: 'web', objects }], overrides: { chartScope: { clusterScoped: true } } })).objects;
      expect(allowed.map((o) => [o.kind, o.metadata.namespace])).toEqual([
        ['CustomResourceDefinition', undefined],
        ['CustomResourceDefinition', undefined],
        ['Tenant', undefined],
        ['Widget', 'shop-dev'],
      ]);
    });

    it('refuses a bundle\'s document in another namespace, naming the bundle', () => {
      const spec = { manifests: [{ name: 'extras', documents: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pull', namespace: 'kube-system' } }] }] };
      expect(scopeError({ spec, charts: [] }).problems).toEqual([{
        source: 'manifests/extras',
        object: 'Secret/pull',
        message: 'would be written into namespace "kube-system", not the environment\'s "shop-dev" (allow it with chartScope.namespaces)',
      }]);
    });
  });
});

describe('chartRenderRequests', () => {
  const jobsChart: Chart = { name: 'jobs', archive: JOBS_ARCHIVE, release: 'batch', values: { schedule: '@daily', ingress: { host: 'jobs.example', tls: false } }, environmentValues: ['ingress.host'] };

  it('asks for each chart from its pinned source, with its release, the namespace and the values merged with the environment\'s', () => {
    const requests = chartRenderRequests({ namespace: 'shop-dev' }, { charts: [webChart, jobsChart] }, { chartValues: { jobs: { 'ingress.host': 'jobs.dev.example' } } });
    expect(requests).toEqual([
      {
        chart: 'web',
        source: `oci://registry.example/charts/web@${WEB_DIGEST}`,
        release: 'web',
        namespace: 'shop-dev',
        values: { replicaCount: 2 },
        key: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      {
        chart: 'jobs',
        source: JOBS_ARCHIVE,
        release: 'batch',
        namespace: 'shop-dev',
        values: { schedule: '@daily', ingress: { host: 'jobs.dev.example', tls: false } },
        key: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    expect(requests[0]!.key).not.toBe(requests[1]!.key);
  });

  it('names a render by what it depends on: the same inputs (in any key order) the same key, another namespace, values or digest another', () => {
    const key = (namespace: string, chart: Chart, values?: Record<string, unknown>) =>
      chartRenderRequests({ namespace }, { charts: [chart] }, { chartValues: values ? { [chart.name]: values } : undefined })[0]!.key;
    const base = key('shop-dev', jobsChart);
    expect(key('shop-dev', { ...jobsChart })).toBe(base);
    expect(key('shop-dev', { ...jobsChart, values: { ingress: { tls: false, host: 'jobs.example' }, schedule: '@daily' } })).toBe(base);
    expect(key('shop-staging', jobsChart)).not.toBe(base);
    expect(key('shop-dev', jobsChart, { 'ingress.host': 'other.example' })).not.toBe(base);
    expect(key('shop-dev', { ...jobsChart, archive: `sha256:${'3'.repeat(64)}` })).not.toBe(base);
    expect(key('shop-dev', { ...jobsChart, release: 'jobs' })).not.toBe(base);
  });

  it('nothing to ask without charts', () => {
    expect(chartRenderRequests({ namespace: 'shop-dev' }, {}, {})).toEqual([]);
  });

  it('refuses a chart that is not pinned yet', () => {
    expect(() => chartRenderRequests({ namespace: 'shop-dev' }, { charts: [{ name: 'web', oci: 'oci://registry.example/charts/web', version: '1.2.0' }] }, {}))
      .toThrow(ChartNotPinnedError);
  });
});

describe('render() and renderLifecycleJobs() with charts', () => {
  const spec = AppSpec.parse({
    services: [],
    charts: [webChart],
    jobs: [{ name: 'seed', hook: 'beforeDeploy', image: 'registry.example/seed:1', command: ['seed'] }],
  });
  const overrides = Overrides.parse({});
  const charts: RenderedChart[] = [{ chart: 'web', objects: webRender() }];

  it('render() appends the chart\'s objects after the namespace, leaving its hook Jobs for their moment', () => {
    const manifests = render({ binding, spec, overrides, revision: REVISION, charts });
    expect(ids(manifests)).toEqual([
      'Namespace/shop-dev',
      'ServiceAccount/web',
      'ConfigMap/web-settings',
      'Service/web',
      'Deployment/web',
      'CronJob/web-report',
      'ConfigMap/web-migrate-script',
    ]);
    expect(manifests[4]!.metadata.labels).toEqual(WEB_LABELS);
    expect(podLabels(manifests[4])).toEqual({ 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web', 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/application': 'shop' });
  });

  it('render() appends a manifest bundle\'s documents', () => {
    const bundled = AppSpec.parse({ services: [], manifests: [{ name: 'extras', documents: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra' } }] }] });
    expect(ids(render({ binding, spec: bundled, overrides, revision: REVISION }))).toEqual(['Namespace/shop-dev', 'ConfigMap/extra']);
  });

  it('render() refuses a spec whose chart has no render', () => {
    expect(() => render({ binding, spec, overrides, revision: REVISION })).toThrow(ChartNotRenderedError);
  });

  it('renderLifecycleJobs() adds the chart\'s hook Jobs of that moment after the spec\'s own', () => {
    const before = renderLifecycleJobs({ binding, spec, revision: REVISION, hook: 'beforeDeploy', overrides, charts });
    expect(before.map((j) => j.metadata.name)).toEqual(['seed-abcdef012345', expect.stringMatching(/^web-migrate-abcdef01-[0-9a-f]{6}$/)]);
    expect(renderLifecycleJobs({ binding, spec, revision: REVISION, hook: 'afterDeploy', overrides, charts }).map((j) => j.metadata.name))
      .toEqual([expect.stringMatching(/^web-smoke-abcdef01-[0-9a-f]{6}$/)]);
    // A teardown's run-once hook is a Job of its run (a teardown tried again runs it again).
    const drain = renderLifecycleJobs({ binding, spec, revision: REVISION, hook: 'beforeTeardown', runId: 'teardown-1', overrides, charts }).map((j) => j.metadata.name);
    expect(drain).toEqual([expect.stringMatching(/^web-drain-abcdef01-[0-9a-f]{6}-[0-9a-z]{7}$/)]);
    expect(renderLifecycleJobs({ binding, spec, revision: REVISION, hook: 'beforeTeardown', runId: 'teardown-2', overrides, charts }).map((j) => j.metadata.name)).not.toEqual(drain);
    expect(renderLifecycleJobs({ binding, spec, revision: REVISION, hook: 'beforeStop', runId: 'stop-1', overrides, charts })).toEqual([]);
  });

  it('renderLifecycleJobs() gives the same hook Job as chartObjects (the deploy applies and waits for that one)', () => {
    const [, fromRender] = renderLifecycleJobs({ binding, spec, revision: REVISION, hook: 'beforeDeploy', overrides, charts });
    expect(fromRender!.metadata.name).toBe(hookName(REVISION, webRender()));
  });

  it('renderLifecycleJobs() refuses a spec whose chart has no render', () => {
    expect(() => renderLifecycleJobs({ binding, spec, revision: REVISION, hook: 'beforeDeploy', overrides })).toThrow(ChartNotRenderedError);
  });
});
