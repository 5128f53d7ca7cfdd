// Environments of one application spread over real clusters, for promotion tests: create
// them in a catalog, deploy a first revision everywhere, and read back what runs.
import type { Client } from '@temporalio/client';
import type { AppSpecInput, OverridesInput, Tier } from '../../domain/environment.js';
import { LABEL } from '../../domain/labels.js';
import { shortRevision } from '../../domain/revision.js';
import type { Catalog } from '../../store/catalog.js';
import { changeSpec, createEnvironment } from '../../store/changes.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { kubectlJson } from './kubectl.js';

export interface EnvSpec {
  name: string;
  tier: Tier;
  cluster: string;
  residency?: string;
  overrides?: OverridesInput;
}

/** A small shop: `services` each with one port; `cpu` is the request of `web`. */
export function shopSpec(version: string, services = ['web', 'api'], cpu = '100m'): AppSpecInput & Required<Pick<AppSpecInput, 'services'>> {
  return {
    services: services.map((name) => ({
      name,
      image: `ghcr.io/acme/${name}:${version}`,
      ports: [{ port: 8080 }],
      replicas: 1,
      resources: { requests: { cpu: name === 'web' ? cpu : '100m', memory: '64Mi' }, limits: { cpu: '64', memory: '256Mi' } },
    })),
    config: { 'log-level': 'info' },
  };
}

export async function createEnvironments(catalog: Catalog, envs: EnvSpec[], spec: AppSpecInput): Promise<void> {
  for (const env of envs) {
    await createEnvironment(catalog, {
      binding: { name: env.name, application: 'shop', tier: env.tier, cluster: env.cluster, namespace: env.name, residency: env.residency },
      spec,
      overrides: env.overrides,
      author: 'setup',
    });
  }
}

export async function setSpec(catalog: Catalog, env: string, spec: AppSpecInput): Promise<string> {
  return (await changeSpec(catalog, env, spec, { author: 'alice' })).revision.id;
}

export async function deployAll(client: Client, taskQueue: string, envs: string[], tag: string): Promise<void> {
  await Promise.all(envs.map((environment) =>
    client.workflow.execute(deployEnvironment, {
      taskQueue, workflowId: `setup-${environment}-${tag}`, args: [{ environment, requestedBy: 'setup', rolloutTimeoutSeconds: 60 }],
    })));
}

interface Live { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: { replicas?: number; template?: { spec?: { containers?: { image: string }[] } } } }

/** Every object of the environment in its cluster, as kubectl sees them. */
export async function liveObjects(kubectl: string, kubeconfigPath: string, env: string): Promise<Live[]> {
  const list = await kubectlJson<{ items: Live[] }>(kubectl, kubeconfigPath, [
    'get', 'deployments,statefulsets,services,configmaps,secrets,jobs,ingresses', '-n', env, '-l', `${LABEL.environment}=${env}`,
  ]);
  return list.items;
}

/** "Kind/name@revision" for each live object: what runs, object by object. */
export async function liveRevisions(kubectl: string, kubeconfigPath: string, env: string): Promise<string[]> {
  return (await liveObjects(kubectl, kubeconfigPath, env))
    .map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.labels?.[LABEL.revision]}`)
    .sort();
}

export function expectedRevisions(names: string[], revision: string): string[] {
  const short = shortRevision(revision);
  return names.flatMap((n) => [`Deployment/${n}@${short}`, `Service/${n}@${short}`]).concat(`ConfigMap/shop-config@${short}`).sort();
}
