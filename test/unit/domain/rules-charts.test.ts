// The organisation's rules on charts and manifest bundles (issue 14): they are judged by what they
// render. Every container of their workloads (hook Jobs, CronJobs and init containers too) against
// requireResourceLimits, allowedRegistries and forbidLatestTag; their Deployments and StatefulSets
// against minReplicas; objects outside the environment's namespace it does not allow as chartScope
// violations, which always block. Each violation names the chart (or bundle), the environment and
// the object: "chart/web/shop-prod: Deployment/web". The renders are hand-written, as
// `helm template` would print them.
import { describe, expect, it } from 'vitest';
import { ChartNotRenderedError, type RenderedChart } from '../../../domain/chart-objects.js';
import { AppSpec, Overrides, type EnvironmentBinding } from '../../../domain/environment.js';
import type { Manifest } from '../../../domain/manifest.js';
import { evaluateRules, Rules, type ChangeTarget, type RulesInput } from '../../../domain/rules.js';

const at = '2026-12-07T10:00:00Z';
const DIGEST = `sha256:${'1'.repeat(64)}`;
const LIMITS = { limits: { cpu: '500m', memory: '256Mi' } };

const binding: EnvironmentBinding = { name: 'shop-prod', application: 'shop', tier: 'prod', cluster: 'eu-1', namespace: 'shop-prod' };

const pod = (containers: Record<string, unknown>[], initContainers?: Record<string, unknown>[]) => ({
  metadata: { labels: { app: 'web' } },
  spec: { ...(initContainers ? { initContainers } : {}), containers },
});

const deployment = (name: string, replicas: number | undefined, containers: Record<string, unknown>[], initContainers?: Record<string, unknown>[]): Manifest => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { ...(replicas === undefined ? {} : { replicas }), selector: { matchLabels: { app: name } }, template: pod(containers, initContainers) },
});

/** A chart that breaks no rule. */
const clean: Manifest[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } },
  deployment('web', 3, [{ name: 'web', image: 'ghcr.io/acme/web:1.2.0', resources: LIMITS }]),
  {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'web-migrate', annotations: { 'helm.sh/hook': 'pre-upgrade' } },
    spec: { template: pod([{ name: 'migrate', image: 'ghcr.io/acme/web:1.2.0', resources: LIMITS }]) },
  },
];

function target(charts: RenderedChart[] | undefined, over: { spec?: Record<string, unknown>; overrides?: Record<string, unknown>; tier?: EnvironmentBinding['tier'] } = {}): ChangeTarget {
  const tier = over.tier ?? binding.tier;
  return {
    binding: { ...binding, tier },
    spec: AppSpec.parse({ services: [], charts: [{ name: 'web', oci: 'oci://registry.example/charts/web', digest: DIGEST }], ...over.spec }),
    overrides: Overrides.parse(over.overrides ?? {}),
    cluster: { name: 'eu-1', labels: { tier } },
    ...(charts ? { charts } : {}),
  };
}
const check = (rules: RulesInput, t: ChangeTarget) => evaluateRules(Rules.parse(rules), { kind: 'deploy', at, targets: [t] });
const ALL_RULES: RulesInput = { requireResourceLimits: {}, allowedRegistries: { registries: ['ghcr.io/acme'] }, forbidLatestTag: {}, minReplicas: { perTier: { prod: 2 } } };

describe('rules on chart objects', () => {
  it('allows a chart whose render breaks no rule', () => {
    expect(check(ALL_RULES, target([{ chart: 'web', objects: clean }]))).toMatchObject({ allowed: true, violations: [], warnings: [] });
  });

  it('requireResourceLimits: every container, init containers too, naming the chart, the object and the container', () => {
    const objects = [deployment('web', 3, [{ name: 'web', image: 'ghcr.io/acme/web:1.2.0', resources: { limits: { cpu: '1' } } }], [{ name: 'wait', image: 'ghcr.io/acme/wait:1.0.0' }])];
    expect(check({ requireResourceLimits: {} }, target([{ chart: 'web', objects }])).violations).toEqual([
      { rule: 'requireResourceLimits', severity: 'error', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: 'container "wait" (spec.template.spec.initContainers[0]) has no cpu limit' },
      { rule: 'requireResourceLimits', severity: 'error', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: 'container "wait" (spec.template.spec.initContainers[0]) has no memory limit' },
      { rule: 'requireResourceLimits', severity: 'error', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: 'container "web" (spec.template.spec.containers[0]) has no memory limit' },
    ]);
  });

  it('requireResourceLimits: a CronJob\'s containers, through its jobTemplate', () => {
    const objects: Manifest[] = [{
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'report' },
      spec: { schedule: '@daily', jobTemplate: { spec: { template: pod([{ name: 'report', image: 'ghcr.io/acme/report:2.0.0', resources: { limits: { memory: '1Gi' } } }]) } } },
    }];
    expect(check({ requireResourceLimits: {} }, target([{ chart: 'web', objects }])).violations).toEqual([
      { rule: 'requireResourceLimits', severity: 'error', object: 'chart/web/shop-prod: CronJob/report', field: 'spec.app.charts[0]', message: 'container "report" (spec.jobTemplate.spec.template.spec.containers[0]) has no cpu limit' },
    ]);
  });

  it('allowedRegistries and forbidLatestTag: every image of the render', () => {
    const objects: Manifest[] = [
      deployment('web', 3, [{ name: 'web', image: 'nginx:latest', resources: LIMITS }, { name: 'sidecar', image: 'ghcr.io/acme/proxy', resources: LIMITS }]),
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { template: pod([{ name: 'agent', image: 'quay.io/vendor/agent:3.1', resources: LIMITS }]) } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug' }, spec: { containers: [{ name: 'sh', image: 'ghcr.io/acme/tools@sha256:abc', resources: LIMITS }] } },
    ];
    const { violations } = check({ allowedRegistries: { registries: ['ghcr.io/acme'] }, forbidLatestTag: {} }, target([{ chart: 'web', objects }]));
    expect(violations).toEqual([
      { rule: 'allowedRegistries', severity: 'error', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: 'image "nginx:latest" is not from an allowed registry (ghcr.io/acme)' },
      { rule: 'forbidLatestTag', severity: 'error', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: 'image "nginx:latest" uses the "latest" tag' },
      { rule: 'forbidLatestTag', severity: 'error', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: 'image "ghcr.io/acme/proxy" has no tag; pin a version or digest' },
      { rule: 'allowedRegistries', severity: 'error', object: 'chart/web/shop-prod: DaemonSet/agent', field: 'spec.app.charts[0]', message: 'image "quay.io/vendor/agent:3.1" is not from an allowed registry (ghcr.io/acme)' },
    ]);
  });

  it('judges a chart\'s hook Jobs, named as the chart names them (or as they are deployed), never by a name that exists nowhere', () => {
    const objects: Manifest[] = [{
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'web-migrate', annotations: { 'helm.sh/hook': 'pre-install,pre-upgrade' } },
      spec: { template: pod([{ name: 'migrate', image: 'docker.io/acme/migrate:latest', resources: LIMITS }]) },
    }];
    const { violations } = check({ allowedRegistries: { registries: ['ghcr.io/acme'] }, forbidLatestTag: {} }, target([{ chart: 'web', objects }]));
    expect(violations.map((v) => [v.rule, v.field, v.message])).toEqual([
      ['allowedRegistries', 'spec.app.charts[0]', 'image "docker.io/acme/migrate:latest" is not from an allowed registry (ghcr.io/acme)'],
      ['forbidLatestTag', 'spec.app.charts[0]', 'image "docker.io/acme/migrate:latest" uses the "latest" tag'],
    ]);
    for (const v of violations) expect(v.object).toMatch(/^chart\/web\/shop-prod: Job\/web-migrate(-[0-9a-f]{8}-[0-9a-f]{6})?$/);
  });

  it('ignores test hooks (they never run)', () => {
    const objects: Manifest[] = [{
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-test', annotations: { 'helm.sh/hook': 'test' } },
      spec: { containers: [{ name: 'wget', image: 'busybox' }] },
    }];
    expect(check(ALL_RULES, target([{ chart: 'web', objects }])).violations).toEqual([]);
  });

  it('minReplicas: Deployments and StatefulSets of the render (an omitted count is one), not DaemonSets', () => {
    const objects: Manifest[] = [
      deployment('web', 1, [{ name: 'web', image: 'ghcr.io/acme/web:1.2.0' }]),
      deployment('api', undefined, [{ name: 'api', image: 'ghcr.io/acme/api:1.2.0' }]),
      deployment('cart', 2, [{ name: 'cart', image: 'ghcr.io/acme/cart:1.2.0' }]),
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { replicas: 1, serviceName: 'db', template: pod([{ name: 'db', image: 'ghcr.io/acme/db:16' }]) } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { template: pod([{ name: 'agent', image: 'ghcr.io/acme/agent:1' }]) } },
    ];
    expect(check({ minReplicas: { perTier: { prod: 2 } } }, target([{ chart: 'web', objects }])).violations).toEqual([
      { rule: 'minReplicas', severity: 'error', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: '1 replicas; tier prod needs at least 2' },
      { rule: 'minReplicas', severity: 'error', object: 'chart/web/shop-prod: Deployment/api', field: 'spec.app.charts[0]', message: '1 replicas; tier prod needs at least 2' },
      { rule: 'minReplicas', severity: 'error', object: 'chart/web/shop-prod: StatefulSet/db', field: 'spec.app.charts[0]', message: '1 replicas; tier prod needs at least 2' },
    ]);
    expect(check({ minReplicas: { perTier: { prod: 2 } } }, target([{ chart: 'web', objects }], { tier: 'staging' })).violations).toEqual([]);
  });

  it('rules set to warn report chart objects without blocking', () => {
    const objects = [deployment('web', 1, [{ name: 'web', image: 'ghcr.io/acme/web:latest', resources: LIMITS }])];
    const verdict = check({ forbidLatestTag: { enforcement: 'warn' }, minReplicas: { perTier: { prod: 2 }, enforcement: 'warn' } }, target([{ chart: 'web', objects }]));
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations).toEqual([]);
    expect(verdict.warnings).toEqual([
      { rule: 'forbidLatestTag', severity: 'warning', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: 'image "ghcr.io/acme/web:latest" uses the "latest" tag' },
      { rule: 'minReplicas', severity: 'warning', object: 'chart/web/shop-prod: Deployment/web', field: 'spec.app.charts[0]', message: '1 replicas; tier prod needs at least 2' },
    ]);
  });

  it('names the chart\'s index in the spec, and a bundle by its own', () => {
    const spec = {
      charts: [
        { name: 'base', oci: 'oci://registry.example/charts/base', digest: DIGEST },
        { name: 'web', oci: 'oci://registry.example/charts/web', digest: DIGEST },
      ],
      manifests: [
        { name: 'extras', documents: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flags' } }] },
        { name: 'workers', documents: [deployment('worker', 1, [{ name: 'worker', image: 'ghcr.io/acme/worker:1.0.0', resources: LIMITS }])] },
      ],
    };
    const charts: RenderedChart[] = [
      { chart: 'base', objects: [] },
      { chart: 'web', objects: [deployment('web', 1, [{ name: 'web', image: 'ghcr.io/acme/web:1.2.0', resources: LIMITS }])] },
    ];
    expect(check({ minReplicas: { perTier: { prod: 2 } } }, target(charts, { spec })).violations.map((v) => [v.object, v.field])).toEqual([
      ['chart/web/shop-prod: Deployment/web', 'spec.app.charts[1]'],
      ['manifests/workers/shop-prod: Deployment/worker', 'spec.app.manifests[1]'],
    ]);
  });

  it('chartScope: a cluster-scoped object or one in another namespace blocks, whatever the rules say', () => {
    const objects: Manifest[] = [
      ...clean,
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'web-reader' }, rules: [] },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dashboards', namespace: 'monitoring' } },
    ];
    const verdict = check({}, target([{ chart: 'web', objects }]));
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations).toEqual([
      {
        rule: 'chartScope', severity: 'error', object: 'chart/web/shop-prod: ClusterRole/web-reader', field: 'spec.app.charts[0]',
        message: 'is cluster-scoped: an environment writes only into its namespace unless its overrides allow it (chartScope.clusterScoped: true) and the cluster grants the agent the flotilla-agent-cluster-scope role',
      },
      {
        rule: 'chartScope', severity: 'error', object: 'chart/web/shop-prod: ConfigMap/dashboards', field: 'spec.app.charts[0]',
        message: 'would be written into namespace "monitoring", not the environment\'s "shop-prod" (allow it with chartScope.namespaces)',
      },
    ]);
  });

  it('chartScope: what the environment\'s overrides allow is no violation', () => {
    const objects: Manifest[] = [
      ...clean,
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'web-reader' }, rules: [] },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dashboards', namespace: 'monitoring' } },
    ];
    const verdict = check(ALL_RULES, target([{ chart: 'web', objects }], { overrides: { chartScope: { clusterScoped: true, namespaces: ['monitoring'] } } }));
    expect(verdict).toMatchObject({ allowed: true, violations: [], warnings: [] });
  });

  it('chartScope of a bundle names the bundle', () => {
    const spec = { charts: undefined, manifests: [{ name: 'extras', documents: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop-extra' } }] }] };
    expect(check({}, target(undefined, { spec })).violations).toEqual([{
      rule: 'chartScope', severity: 'error', object: 'manifests/extras/shop-prod: Namespace/shop-extra', field: 'spec.app.manifests[0]',
      message: 'is cluster-scoped: an environment writes only into its namespace unless its overrides allow it (chartScope.clusterScoped: true) and the cluster grants the agent the flotilla-agent-cluster-scope role',
    }]);
  });

  it('a chart without its render cannot be judged: the verdict refuses to guess', () => {
    expect(() => check(ALL_RULES, target(undefined))).toThrow(ChartNotRenderedError);
  });
});
