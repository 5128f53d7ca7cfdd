// The workload of bench/fleet.ts: a small application per environment (three services, four
// pods), put into the clusters the way the deploy activity does it (activities/deploy.ts:
// namespace claim, the agent's namespace and RoleBinding by the bootstrap account, server-side
// apply of the render as Flotilla's agent and field manager, then the deployment recorded in
// the catalog), minus Temporal and the rollout wait; the kubectl baseline (list the managed
// Deployments of every cluster); the fleet answer's shape; percentiles.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { clusterClients } from '../../activities/cluster-client.js';
import type { AppSpecInput } from '../../domain/environment.js';
import { LABEL, MANAGED_BY } from '../../domain/labels.js';
import { render } from '../../domain/render.js';
import type { ClusterDirectory } from '../../providers/cluster-directory.js';
import { serverSideApply } from '../../providers/kubernetes/apply.js';
import { markNamespace, namespaceClaim } from '../../providers/kubernetes/ownership.js';
import { ClusterRateLimits } from '../../providers/kubernetes/rate-limit.js';
import { ServiceAccountTokens } from '../../providers/kubernetes/service-account-tokens.js';
import type { Catalog } from '../../store/catalog.js';
import { recordDeployment } from '../../store/changes.js';

const exec = promisify(execFile);

/** The service a freshness trial scales (1 replica as deployed). */
export const SCALED_SERVICE = 'api';

/** Three services, four pods: web (2 replicas, HTTP), api (HTTP and gRPC), worker (no port). */
export function fleetSpec(application: string): AppSpecInput {
  const small = { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } };
  return {
    services: [
      {
        name: 'web', image: `ghcr.io/acme/${application}-web:1.4.2`, ports: [{ name: 'http', port: 8080 }], replicas: 2,
        env: { API_URL: 'http://api:8080', LOG_LEVEL: { config: 'log-level' } }, resources: small,
        probes: { readiness: { httpGet: { path: '/healthz', port: 8080 } } }, dependsOn: ['api'],
      },
      {
        name: SCALED_SERVICE, image: `ghcr.io/acme/${application}-api:1.4.2`, ports: [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9090 }], replicas: 1,
        env: { LOG_LEVEL: { config: 'log-level' } }, resources: small, probes: { readiness: { tcpSocket: { port: 8080 } } },
      },
      { name: 'worker', image: `ghcr.io/acme/${application}-worker:1.4.2`, replicas: 1, env: { QUEUE: 'jobs', LOG_LEVEL: { config: 'log-level' } }, resources: small },
    ],
    config: { 'log-level': 'info' },
  };
}

/** Services and pods of one environment of fleetSpec. */
export const PER_ENVIRONMENT = { services: 3, pods: 4 } as const;

/** One deploy path shared by every environment of a run: the worker's service-account tokens and request limits. */
export function directDeployer(catalog: Catalog, clusters: ClusterDirectory): (environment: string) => Promise<number> {
  const { agentClient, bootstrapNamespace } = clusterClients({ clusters, rateLimits: new ClusterRateLimits(), serviceAccountTokens: new ServiceAccountTokens() });
  /** Applies the environment's current revision and records it deployed; resolves to the number of objects applied. */
  return async (environment) => {
    const record = await catalog.environments.require(environment);
    const revision = record.currentRevision;
    if (!revision) throw new Error(`environment "${environment}" has no revision`);
    const { spec } = await catalog.revisions.require(revision);
    const { binding } = record;
    // What the observer compares against (observer/observer.ts renders the same, no secrets involved).
    const manifests = render({ binding, spec, overrides: record.overrides, revision });
    const client = await agentClient(binding.cluster);
    try {
      const claim = await namespaceClaim(client, binding.namespace, binding.name);
      if (claim === 'foreign') throw new Error(`namespace ${binding.namespace} of cluster ${binding.cluster} exists and is not Flotilla's`);
      await bootstrapNamespace(client, { namespace: binding.namespace, environment: binding.name, labels: manifests.find((m) => m.kind === 'Namespace')?.metadata.labels });
      const applied = await serverSideApply(client, markNamespace(manifests, claim, binding.name));
      await recordDeployment(catalog, environment, { revision, overridesVersion: record.overridesVersion, by: 'bench', kind: 'deploy' });
      return applied.length;
    } finally {
      client.close();
    }
  };
}

// ---- GET /v1/fleet, as much of it as the benchmark reads ----

export interface FleetService { service: string; health: string; desiredReplicas: number; readyReplicas: number; drift: boolean }
export interface FleetEnvironment { name: string; health: string; drifted: boolean; stale: boolean; services: FleetService[] }
export interface FleetCluster { name: string; status: string; stale: boolean; environments: FleetEnvironment[] }
export interface FleetAnswer {
  clusters: FleetCluster[];
  summary: { clusters: number; unreachable: number; environments: number; healthy: number; drifted: number; stale: number };
}

export function fleetEnvironment(fleet: FleetAnswer, cluster: string, environment: string): FleetEnvironment | undefined {
  return fleet.clusters.find((c) => c.name === cluster)?.environments.find((e) => e.name === environment);
}

// ---- the kubectl baseline ----

export const MANAGED_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;

interface DeploymentList { items: { metadata: { name: string; namespace: string }; spec?: { replicas?: number }; status?: { readyReplicas?: number } }[] }

export interface KubectlListing {
  /** Wall time of the whole listing (every cluster), ms. */
  ms: number;
  /** Per kubeconfig, its Deployments' replicas (spec) and ready replicas, by "namespace/name". */
  deployments: Map<string, { replicas: number; ready: number }>[];
}

/**
 * `kubectl get deploy -A -l app.kubernetes.io/managed-by=flotilla -o json`, one process per
 * cluster, all at once; timed until the last one has answered (the JSON read after).
 */
export async function kubectlListing(kubectl: string, kubeconfigs: readonly string[]): Promise<KubectlListing> {
  const t0 = performance.now();
  const outputs = await Promise.all(kubeconfigs.map((kubeconfig) => exec(kubectl, [
    '--kubeconfig', kubeconfig, 'get', 'deploy', '-A', '-l', MANAGED_SELECTOR, '-o', 'json',
  ], { maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout)));
  const ms = performance.now() - t0;
  const deployments = outputs.map((stdout) => {
    const list = JSON.parse(stdout) as DeploymentList;
    return new Map(list.items.map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, { replicas: d.spec?.replicas ?? 1, ready: d.status?.readyReplicas ?? 0 }]));
  });
  return { ms, deployments };
}

// ---- statistics ----

/** Nearest-rank percentile (p in 0–100) of the samples; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Distribution { n: number; p50: number; p90: number; p99: number; max: number; mean: number }

export function distribution(xs: readonly number[]): Distribution {
  return {
    n: xs.length,
    p50: percentile(xs, 50),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    max: xs.length ? Math.max(...xs) : NaN,
    mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN,
  };
}
