// Deploy activities. Each one reads what it needs from the catalog and renders the revision
// again (render is deterministic), so workflow inputs and histories carry names and revision
// ids only — never manifests, never secret values.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Environment } from '../domain/environment.js';
import type { Manifest } from '../domain/manifest.js';
import { databasePasswordSecret, materializeSecrets, MissingSecretsError, render } from '../domain/render.js';
import { evaluateRules } from '../domain/rules.js';
import { serverSideApply } from '../providers/kubernetes/apply.js';
import { environmentLabels } from '../providers/kubernetes/labels.js';
import { prune } from '../providers/kubernetes/prune.js';
import { waitForRollouts, type WorkloadKind, type WorkloadRef } from '../providers/kubernetes/rollout.js';
import type { Catalog } from '../store/catalog.js';
import { recordDeployment } from '../store/changes.js';
import { NotFoundError } from '../store/errors.js';
import { environmentScope } from '../store/secrets.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { DeployActivities, DeployPhase } from './deploy-types.js';

export interface DeployActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
}

interface Loaded {
  environment: Environment;
  revision: string;
  manifests: Manifest[];
}

const WORKLOAD_KINDS = new Set<string>(['Deployment', 'StatefulSet', 'Job']);

export function createDeployActivities(deps: DeployActivityDeps): DeployActivities {
  const { catalog } = deps;
  const { withClient } = clusterClients(deps);

  async function load(name: string, revision?: string): Promise<Loaded> {
    try {
      const record = await catalog.environments.require(name);
      const id = revision ?? record.currentRevision;
      if (!id) throw ApplicationFailure.nonRetryable(`environment "${name}" has no spec yet`, 'NoRevision');
      const { spec } = await catalog.revisions.require(id);
      const environment = { binding: record.binding, spec, overrides: record.overrides };
      return { environment, revision: id, manifests: render({ ...environment, revision: id }) };
    } catch (error) {
      if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFound');
      throw error;
    }
  }

  /** The environment's secret values, generating container database passwords once. */
  async function secretValues(loaded: Loaded): Promise<Map<string, string>> {
    const scope = environmentScope(loaded.environment.binding.name);
    for (const db of loaded.environment.spec.databases) {
      if (db.mode !== 'container') continue;
      const name = databasePasswordSecret(db.name);
      if ((await catalog.secrets.get(scope, name)) === undefined) {
        await catalog.secrets.put(scope, name, randomBytes(24).toString('base64url'));
      }
    }
    const values = new Map<string, string>();
    for (const { name } of await catalog.secrets.list(scope)) values.set(name, await catalog.secrets.require(scope, name));
    return values;
  }

  function workloadsOf(manifests: Manifest[], phase: DeployPhase): WorkloadRef[] {
    return manifests
      .filter((m) => WORKLOAD_KINDS.has(m.kind) && (phase === 'all' || m.kind === 'Job'))
      .map((m) => ({ kind: m.kind as WorkloadKind, namespace: m.metadata.namespace!, name: m.metadata.name }));
  }

  return {
    async planDeploy({ environment, revision, at }) {
      const loaded = await load(environment, revision);
      const { binding, spec, overrides } = loaded.environment;
      const record = await catalog.environments.require(environment);
      const cluster = await catalog.clusters.get(binding.cluster);
      if (!cluster) throw ApplicationFailure.nonRetryable(`cluster "${binding.cluster}" is not registered`, 'UnknownCluster');
      const { rules } = await catalog.rules.current();
      const verdict = evaluateRules(rules, {
        kind: 'deploy',
        at,
        targets: [{ binding, spec, overrides, cluster: { name: cluster.name, labels: cluster.labels } }],
      });
      return {
        environment,
        cluster: binding.cluster,
        namespace: binding.namespace,
        tier: binding.tier,
        revision: loaded.revision,
        previousRevision: record.deployed?.revision,
        verdict,
        hasMigrations: loaded.manifests.some((m) => m.kind === 'Job'),
        objects: loaded.manifests.length,
      };
    },

    async applyRevision({ environment, revision, phase }) {
      const loaded = await load(environment, revision);
      const values = await secretValues(loaded);
      let manifests: Manifest[];
      try {
        manifests = materializeSecrets(loaded.manifests, (name) => values.get(name));
      } catch (error) {
        if (error instanceof MissingSecretsError) throw ApplicationFailure.nonRetryable(error.message, 'MissingSecrets', error.secrets);
        throw error;
      }
      if (phase === 'migrations') manifests = manifests.filter((m) => m.kind !== 'Deployment' && m.kind !== 'Ingress');
      return withClient(loaded.environment.binding.cluster, async (client, context) => {
        const applied = await serverSideApply(client, manifests, {
          signal: context.cancellationSignal,
          onProgress: ({ applied: n, total }) => context.heartbeat({ applied: n, total }),
        });
        const count = (action: string) => applied.filter((a) => a.action === action).length;
        return { created: count('created'), configured: count('configured'), unchanged: count('unchanged') };
      });
    },

    async pruneRevision({ environment, revision }) {
      const loaded = await load(environment, revision);
      const { binding } = loaded.environment;
      return withClient(binding.cluster, async (client, context) => {
        const deleted = await prune(client, {
          namespace: binding.namespace,
          selector: environmentLabels(binding.name),
          keep: loaded.manifests.map((m) => ({ apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name })),
          signal: context.cancellationSignal,
          onProgress: (d) => context.heartbeat({ deleted: `${d.kind}/${d.name}` }),
        });
        return { deleted: deleted.map((d) => `${d.kind}/${d.namespace}/${d.name}`) };
      });
    },

    async waitForRevision({ environment, revision, phase, timeoutSeconds }) {
      const loaded = await load(environment, revision);
      return withClient(loaded.environment.binding.cluster, async (client, context) => {
        const rollouts = await waitForRollouts(client, workloadsOf(loaded.manifests, phase), {
          timeoutMs: timeoutSeconds * 1000,
          // One list per kind per poll: cheap enough to notice the end of a rollout sooner.
          pollMs: 250,
          signal: context.cancellationSignal,
          onProgress: (r) => context.heartbeat(r.map(({ kind, name, ready, desired }) => ({ kind, name, ready, desired }))),
        });
        return rollouts.map(({ kind, name, ready, desired, done }) => ({ kind, name, ready, desired, done }));
      });
    },

    async recordDeployment({ environment, revision, requestedBy, operationId, kind }) {
      const record = await catalog.environments.require(environment);
      if (record.deployed?.revision === revision) return { changed: false };
      await recordDeployment(catalog, environment, { revision, by: requestedBy, kind, operationId });
      return { changed: true };
    },
  };
}
