// Deploy activities. Each one reads what it needs from the catalog and renders the revision
// again (render is deterministic), so workflow inputs and histories carry names, revision ids
// and overrides versions only — never manifests, never secret values.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Environment, LifecycleHook } from '../domain/environment.js';
import type { Manifest } from '../domain/manifest.js';
import { namespaceRefusal } from '../domain/placement.js';
import { DEPLOY_HOOKS, hooksOf } from '../domain/jobs.js';
import { databasePasswordSecret, materializeSecrets, MissingSecretsError, render, renderLifecycleJobs } from '../domain/render.js';
import type { RuleName } from '../domain/rules.js';
import { serverSideApply } from '../providers/kubernetes/apply.js';
import { environmentLabels } from '../providers/kubernetes/labels.js';
import { markNamespace, namespaceClaim, removeEnvironmentObjects } from '../providers/kubernetes/ownership.js';
import { deletePruned, findPrunable, prune, type PrunedObject } from '../providers/kubernetes/prune.js';
import { PRUNABLE_KINDS } from '../providers/kubernetes/kinds.js';
import { RolloutTimeoutError, waitForRollouts, type WorkloadKind, type WorkloadRef } from '../providers/kubernetes/rollout.js';
import type { Catalog } from '../store/catalog.js';
import { changeVerdict } from '../store/change-verdict.js';
import { recordDeployment, recordUndeploy } from '../store/changes.js';
import { NotFoundError } from '../store/errors.js';
import { environmentScope } from '../store/secrets.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { DeployActivities, DeployPhase } from './deploy-types.js';
import { asStopped } from '../domain/stop.js';
import { createLifecycleJobActivities, type Loaded } from './lifecycle-jobs.js';
import { chartsOf, type HelmDeps } from './charts.js';
import { ChartScopeError } from '../domain/chart-objects.js';
import { LIFECYCLE_HOOKS } from '../domain/environment.js';

export interface DeployActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
  /** Renders charts the catalog's cache does not hold yet. */
  helm?: HelmDeps;
}

/** What each phase applies (by what it leaves out) and waits for. */
const PHASES: Record<DeployPhase, { skip: ReadonlySet<string>; waitFor: ReadonlySet<string> }> = {
  databases: { skip: new Set(['Job', 'Deployment', 'DaemonSet', 'Ingress', 'CronJob']), waitFor: new Set(['StatefulSet']) },
  migrations: { skip: new Set(['Deployment', 'DaemonSet', 'Ingress', 'CronJob']), waitFor: new Set(['Job']) },
  all: { skip: new Set(), waitFor: new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']) },
};

/**
 * Placement checks that bind at every deploy, even one whose rules a promotion already judged:
 * the cluster may have been relabelled, or another environment taken the host, since. Each
 * refuses with a non-retryable failure of its own type.
 */
const PLACEMENT_FAILURES: Partial<Record<RuleName, string>> = { clusterTier: 'TierMismatch', uniqueIngressHost: 'IngressHostTaken' };

/** How long a pod may sit in an image-pull or crash loop before the rollout fails (default). */
const STUCK_AFTER_SECONDS = 60;

/**
 * Objects to delete that came back through the workflow from findPrunable: only prunable kinds in
 * the environment's own namespace, each with the uid it was found with (the delete's precondition).
 */
function vetted(objects: readonly PrunedObject[], namespace: string): PrunedObject[] {
  for (const o of objects) {
    const prunable = PRUNABLE_KINDS.some((k) => k.apiVersion === o.apiVersion && k.kind === o.kind);
    if (!prunable || o.namespace !== namespace || !o.uid) {
      throw ApplicationFailure.nonRetryable(`refusing to prune ${o.kind}/${o.namespace}/${o.name}: not an object findPrunable finds in namespace "${namespace}"`, 'InvalidPrune');
    }
  }
  return [...objects];
}

export function createDeployActivities(deps: DeployActivityDeps): DeployActivities {
  const { catalog } = deps;
  const { withClient, bootstrapNamespace } = clusterClients(deps);

  async function load(name: string, revision?: string, overridesVersion?: number): Promise<Loaded> {
    try {
      const record = await catalog.environments.require(name);
      const id = revision ?? record.currentRevision;
      if (!id) throw ApplicationFailure.nonRetryable(`environment "${name}" has no spec yet`, 'NoRevision');
      const { spec } = await catalog.revisions.require(id);
      const overrides = overridesVersion === undefined ? record.overrides : await catalog.environments.overridesAt(name, overridesVersion);
      const environment = { binding: record.binding, spec, overrides };
      const charts = await chartsOf(catalog, deps.helm, environment);
      return { environment, revision: id, overridesVersion, ...(charts ? { charts } : {}), manifests: render({ ...environment, revision: id, charts }) };
    } catch (error) {
      if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFound');
      if (error instanceof ChartScopeError) throw ApplicationFailure.nonRetryable(error.message, 'ChartScope', error.problems);
      throw error;
    }
  }

  /** The environment's secret values and versions, generating container database passwords once. */
  async function secrets(name: string, databases: Environment['spec']['databases']): Promise<{ values: Map<string, string>; versions: Record<string, string> }> {
    const scope = environmentScope(name);
    for (const db of databases) {
      if (db.mode !== 'container') continue;
      const secret = databasePasswordSecret(db.name);
      if ((await catalog.secrets.get(scope, secret)) === undefined) {
        await catalog.secrets.put(scope, secret, randomBytes(24).toString('base64url'));
      }
    }
    const values = new Map<string, string>();
    const versions: Record<string, string> = {};
    for (const { name: secret, updatedAt } of await catalog.secrets.list(scope)) {
      values.set(secret, await catalog.secrets.require(scope, secret));
      versions[secret] = updatedAt;
    }
    return { values, versions };
  }

  /**
   * Server-side applies into the environment's namespace: never one someone else made (unless an
   * admin of the cluster lets Flotilla adopt it); the namespace and the agent's RoleBinding in it
   * by the bootstrap account first. In a namespace Flotilla did not create, the agent has only
   * what its owner granted (cluster-client.ts). Heartbeats per object.
   */
  async function applyInto(binding: Environment['binding'], manifests: Manifest[], options: { force?: true }) {
    const cluster = await catalog.clusters.get(binding.cluster);
    if (!cluster) throw ApplicationFailure.nonRetryable(`cluster "${binding.cluster}" is not registered`, 'UnknownCluster');
    return withClient(binding.cluster, async (client, context) => {
      const claim = await namespaceClaim(client, binding.namespace, binding.name, context.cancellationSignal);
      const refused = namespaceRefusal(claim, binding.namespace, binding.cluster, cluster.adoptableNamespaces);
      if (refused) throw ApplicationFailure.nonRetryable(refused, 'ForeignNamespace');
      await bootstrapNamespace(client, {
        namespace: binding.namespace, environment: binding.name, labels: manifests.find((m) => m.kind === 'Namespace')?.metadata.labels, signal: context.cancellationSignal,
      });
      return serverSideApply(client, markNamespace(manifests, claim, binding.name), {
        ...options,
        signal: context.cancellationSignal,
        onProgress: ({ applied: n, total }) => context.heartbeat({ applied: n, total }),
      });
    });
  }

  /** The revision rendered with the secrets' versions, its Secrets filled from the catalog. */
  async function materialized(loaded: Loaded): Promise<Manifest[]> {
    const { values, versions } = await secrets(loaded.environment.binding.name, loaded.environment.spec.databases);
    try {
      // With the secrets' versions on the pod templates: a changed secret rolls the pods that use it.
      const rendered = render({ ...loaded.environment, revision: loaded.revision, secretVersions: versions, charts: loaded.charts });
      return materializeSecrets(rendered, (name) => values.get(name));
    } catch (error) {
      if (error instanceof MissingSecretsError) throw ApplicationFailure.nonRetryable(error.message, 'MissingSecrets', error.secrets);
      throw error;
    }
  }

  /** The Jobs of one lifecycle moment: the spec's and its charts' Helm hooks. */
  function hookJobs(loaded: Loaded, hook: LifecycleHook, runId?: string): Manifest[] {
    return renderLifecycleJobs({ ...loaded.environment, revision: loaded.revision, hook, ...(runId !== undefined ? { runId } : {}), ...(loaded.charts ? { charts: loaded.charts } : {}) });
  }

  /** What prune looks at: the environment's objects, keeping the revision's own and its deploy jobs. */
  function pruneScope(loaded: Loaded) {
    const { binding } = loaded.environment;
    return {
      namespace: binding.namespace,
      selector: environmentLabels(binding.name),
      // The revision's deploy jobs stay (as its migrations do) until a later revision's deploy.
      keep: [...loaded.manifests, ...DEPLOY_HOOKS.flatMap((hook) => hookJobs(loaded, hook))]
        .map((m) => ({ apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name })),
    };
  }

  function workloadsOf(manifests: Manifest[], phase: DeployPhase): WorkloadRef[] {
    return manifests
      .filter((m) => PHASES[phase].waitFor.has(m.kind))
      .map((m) => ({ kind: m.kind as WorkloadKind, namespace: m.metadata.namespace!, name: m.metadata.name }));
  }

  return {
    ...createLifecycleJobActivities({ catalog, withClient, applyInto, materialized, load, hookJobs }),

    async planDeploy({ environment, revision, overridesVersion, at }) {
      const record = await catalog.environments.require(environment).catch((error: unknown) => {
        if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFound');
        throw error;
      });
      // Pin the overrides: what this deploy applies cannot change if someone edits them meanwhile.
      const pinned = overridesVersion ?? record.overridesVersion;
      const loaded = await load(environment, revision, pinned);
      const { binding, spec, overrides } = loaded.environment;
      // The spec's jobs and its charts' Helm hooks, by moment.
      const hooks = LIFECYCLE_HOOKS.filter((hook) => hooksOf(spec.jobs).includes(hook) || hookJobs(loaded, hook).length > 0);
      let verdict;
      try {
        verdict = await changeVerdict(catalog, { kind: 'deploy', at, targets: [{ binding, spec, overrides, ...(loaded.charts ? { charts: loaded.charts } : {}) }] });
      } catch (error) {
        if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`cluster "${binding.cluster}" is not registered`, 'UnknownCluster');
        throw error;
      }
      if ((await catalog.clusters.get(binding.cluster))?.status === 'offboarded') {
        throw ApplicationFailure.nonRetryable(`cluster "${binding.cluster}" is offboarded`, 'ClusterOffboarded');
      }
      const misplaced = verdict.violations.filter((v) => PLACEMENT_FAILURES[v.rule] !== undefined);
      if (misplaced.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `refused: ${misplaced.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ')}`,
          PLACEMENT_FAILURES[misplaced[0]!.rule], misplaced,
        );
      }
      return {
        environment,
        cluster: binding.cluster,
        namespace: binding.namespace,
        tier: binding.tier,
        revision: loaded.revision,
        overridesVersion: pinned,
        currentRevision: record.currentRevision,
        previousRevision: record.deployed?.revision,
        previousOverridesVersion: record.deployed?.overridesVersion,
        verdict,
        hasDatabases: loaded.manifests.some((m) => m.kind === 'StatefulSet'),
        hasMigrations: loaded.manifests.some((m) => m.kind === 'Job'),
        // Absent when the revision has no lifecycle jobs: plans (and histories) stay as they were.
        ...(hooks.length > 0 ? { hooks } : {}),
        objects: loaded.manifests.length,
      };
    },

    async applyRevision({ environment, revision, overridesVersion, phase, force }) {
      const loaded = await load(environment, revision, overridesVersion);
      let manifests = await materialized(loaded);
      manifests = manifests.filter((m) => !PHASES[phase].skip.has(m.kind));
      // A stopped environment stays stopped through a deploy (keepStopped) or a heal: its workloads
      // go in scaled to zero, CronJobs suspended, and start brings them back (domain/stop.ts).
      if ((await catalog.environments.get(environment))?.stopped) manifests = asStopped(manifests);
      const applied = await applyInto(loaded.environment.binding, manifests, force ? { force: true } : {});
      const count = (action: string) => applied.filter((a) => a.action === action).length;
      return { created: count('created'), configured: count('configured'), unchanged: count('unchanged') };
    },

    async findPrunable({ environment, revision, overridesVersion }) {
      const loaded = await load(environment, revision, overridesVersion);
      const { binding } = loaded.environment;
      const objects = await withClient(binding.cluster, (client, context) => findPrunable(client, { ...pruneScope(loaded), signal: context.cancellationSignal }));
      return { objects };
    },

    async pruneRevision({ environment, revision, overridesVersion, objects }) {
      const loaded = await load(environment, revision, overridesVersion);
      const { binding } = loaded.environment;
      return withClient(binding.cluster, async (client, context) => {
        const options = { signal: context.cancellationSignal, onProgress: (d: PrunedObject) => context.heartbeat({ deleted: `${d.kind}/${d.name}` }) };
        const deleted = objects === undefined
          ? await prune(client, { ...pruneScope(loaded), ...options })
          : await deletePruned(client, vetted(objects, binding.namespace), options);
        return { deleted: deleted.map((d) => `${d.kind}/${d.namespace}/${d.name}`) };
      });
    },

    async waitForRevision({ environment, revision, overridesVersion, phase, timeoutSeconds, stuckAfterSeconds }) {
      const loaded = await load(environment, revision, overridesVersion);
      return withClient(loaded.environment.binding.cluster, async (client, context) => {
        try {
          const rollouts = await waitForRollouts(client, workloadsOf(loaded.manifests, phase), {
            timeoutMs: timeoutSeconds * 1000,
            stuckAfterMs: (stuckAfterSeconds ?? STUCK_AFTER_SECONDS) * 1000,
            // A watch notices the end of the rollout as it happens; the list every 250 ms (2 s while
            // the watch is up) is the fallback when a watch is down.
            pollMs: 250,
            watch: true,
            signal: context.cancellationSignal,
            // The heartbeat is the operation's progress: who is not ready yet, and why.
            onProgress: (r) => context.heartbeat(r.map(({ kind, name, ready, desired, problems }) => ({ kind, name, ready, desired, ...(problems?.length ? { problems } : {}) }))),
          });
          return rollouts.map(({ kind, name, ready, desired, done }) => ({ kind, name, ready, desired, done }));
        } catch (error) {
          // Say which timeout fired: this one is the rollout's, not the promotion's per-target one.
          if (error instanceof RolloutTimeoutError) {
            throw ApplicationFailure.nonRetryable(`rollout timeout (${timeoutSeconds}s) fired: ${error.message}`, 'RolloutTimeout', error.pending);
          }
          throw error;
        }
      });
    },

    async recordDeployment({ environment, revision, overridesVersion, requestedBy, operationId, kind, desired }) {
      const record = await catalog.environments.require(environment);
      const same = record.deployed?.revision === revision && record.deployed.overridesVersion === overridesVersion;
      if (same && (desired === undefined || record.currentRevision === desired)) return { changed: false };
      await recordDeployment(catalog, environment, { revision, overridesVersion, by: requestedBy, kind, operationId, desired });
      return { changed: true };
    },

    async removeDeployment({ environment }) {
      const record = await catalog.environments.require(environment);
      const { binding } = record;
      return withClient(binding.cluster, (client, context) => removeEnvironmentObjects(client, {
        namespace: binding.namespace,
        environment: binding.name,
        timeoutMs: 240_000,
        signal: context.cancellationSignal,
        onProgress: (what) => context.heartbeat({ deleting: what }),
      }));
    },

    async recordUndeploy({ environment, revision, requestedBy, operationId, desired }) {
      const record = await catalog.environments.require(environment);
      if (record.deployed === undefined && (desired === undefined || record.currentRevision === desired)) return;
      await recordUndeploy(catalog, environment, { revision, by: requestedBy, operationId, desired });
    },
  };
}
