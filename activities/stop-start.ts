// Stop and start activities: the deployed revision rendered again (as a deploy renders it, so pod
// templates stay the same and nothing rolls), its workloads applied scaled to zero or back to
// what they ran, by Flotilla's own field manager (domain/stop.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { Tier } from '../domain/environment.js';
import type { Manifest } from '../domain/manifest.js';
import { stopRefusal } from '../domain/rules.js';
import { SCALED_KINDS, startedWorkloads, stoppedWorkloads, workloadKey } from '../domain/stop.js';
import { serverSideApply } from '../providers/kubernetes/apply.js';
import { readObject } from '../providers/kubernetes/read.js';
import { waitForRollouts, type WorkloadKind } from '../providers/kubernetes/rollout.js';
import type { Catalog } from '../store/catalog.js';
import { renderEnvironment } from '../store/chart-renders.js';
import { type HelmDeps, helmRenderer } from './charts.js';
import type { EnvironmentRecord } from '../store/environments.js';
import { environmentScope } from '../store/secrets.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { StopStartActivities } from './stop-start-types.js';

export interface StopStartActivityDeps extends KubernetesActivityDeps {
  helm?: HelmDeps;
  catalog: Catalog;
}

export function createStopStartActivities(deps: StopStartActivityDeps): StopStartActivities {
  const { catalog } = deps;
  const { withClient } = clusterClients(deps);

  /** The deployed revision rendered as its deploy rendered it (the same secret versions on the pod templates). */
  async function deployedManifests(env: EnvironmentRecord): Promise<Manifest[]> {
    if (!env.deployed) throw ApplicationFailure.nonRetryable(`environment "${env.binding.name}" has never been deployed`, 'NotDeployed');
    const { spec } = await catalog.revisions.require(env.deployed.revision);
    const overrides = env.deployed.overridesVersion === undefined ? env.overrides : await catalog.environments.overridesAt(env.binding.name, env.deployed.overridesVersion);
    const secretVersions = Object.fromEntries((await catalog.secrets.list(environmentScope(env.binding.name))).map((s) => [s.name, s.updatedAt]));
    return renderEnvironment(catalog, { binding: env.binding, spec, overrides, revision: env.deployed.revision, secretVersions }, helmRenderer(deps.helm, catalog));
  }

  return {
    async planStopStart({ environment }) {
      const env = await catalog.environments.get(environment);
      if (!env) return { gone: true, deployed: false, stopped: false };
      const refusal = stopRefusal((await catalog.rules.current()).rules, env.binding.tier);
      return {
        gone: false, cluster: env.binding.cluster, tier: env.binding.tier, deployed: env.deployed !== undefined, stopped: env.stopped !== undefined,
        ...(refusal ? { refusal } : {}),
      };
    },

    async stopWorkloads({ environment, operationId, requestedBy }) {
      let env = await catalog.environments.require(environment);
      const manifests = await deployedManifests(env);
      const { binding } = env;
      return withClient(binding.cluster, async (client, context) => {
        if (!env.stopped) {
          // What each runs now (a hand-scaled or autoscaled count too): what start brings back.
          const replicas: Record<string, number> = {};
          for (const m of manifests.filter((w) => SCALED_KINDS.has(w.kind))) {
            const live = await readObject(client, { apiVersion: m.apiVersion, kind: m.kind, namespace: binding.namespace, name: m.metadata.name }, context.cancellationSignal);
            const rendered = (m.spec as { replicas?: number }).replicas ?? 1;
            replicas[workloadKey(m)] = (live?.spec as { replicas?: number } | undefined)?.replicas ?? rendered;
          }
          env = await catalog.environments.setStopped(environment, { at: new Date().toISOString(), by: requestedBy, operationId, replicas });
        }
        await serverSideApply(client, stoppedWorkloads(manifests), {
          force: true, signal: context.cancellationSignal, onProgress: ({ applied, total }) => context.heartbeat({ applied, total }),
        });
        return { replicas: env.stopped!.replicas };
      });
    },

    async startWorkloads({ environment, timeoutSeconds }) {
      const env = await catalog.environments.require(environment);
      if (!env.stopped) return { replicas: {} };
      const manifests = await deployedManifests(env);
      const workloads = startedWorkloads(manifests, env.stopped.replicas);
      return withClient(env.binding.cluster, async (client, context) => {
        await serverSideApply(client, workloads, { force: true, signal: context.cancellationSignal, onProgress: ({ applied, total }) => context.heartbeat({ applied, total }) });
        await waitForRollouts(client, workloads.filter((w) => SCALED_KINDS.has(w.kind)).map((w) => ({ kind: w.kind as WorkloadKind, namespace: env.binding.namespace, name: w.metadata.name })), {
          timeoutMs: timeoutSeconds * 1000, pollMs: 250, watch: true, signal: context.cancellationSignal,
          onProgress: (r) => context.heartbeat(r.map(({ kind, name, ready, desired }) => ({ kind, name, ready, desired }))),
        });
        return { replicas: env.stopped!.replicas };
      });
    },

    async markStarted({ environment }) {
      const env = await catalog.environments.get(environment);
      if (env?.stopped) await catalog.environments.setStopped(environment, undefined);
    },

    async lifecycleTargets({ environment, tier }) {
      if (environment !== undefined) return (await catalog.environments.get(environment)) ? [environment] : [];
      return (await catalog.environments.list({ tier: tier as Tier })).map((e) => e.binding.name);
    },
  };
}
