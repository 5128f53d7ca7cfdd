// Activities that change and read live clusters. Built by a factory over injected
// dependencies so the worker wires real clients and tests can wire real local clusters.
//
// Every activity talks to its cluster through one KubeClient that shares the cluster's rate
// limiter with every other activity of this worker, heartbeats through the layer's progress
// callbacks, and turns failures into ApplicationFailures whose `type` is the classified reason:
// non-retryable ones (invalid objects, forbidden, apply conflicts, failed Jobs, timeouts) stop
// Temporal's retries at once.
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../domain/manifest.js';
import { serverSideApply, type AppliedObject } from '../providers/kubernetes/apply.js';
import type { TypedRef } from '../providers/kubernetes/kinds.js';
import { environmentLabels, type LabelSet } from '../providers/kubernetes/labels.js';
import { deleteNamespace as deleteNamespaceAndWait } from '../providers/kubernetes/namespace.js';
import { prune, type PrunedObject } from '../providers/kubernetes/prune.js';
import {
  waitForDeployments,
  waitForRollouts,
  type DeploymentRollout,
  type WorkloadRef,
  type WorkloadRollout,
} from '../providers/kubernetes/rollout.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';

export type { KubernetesActivityDeps } from './cluster-client.js';

export interface ApplyManifestsInput {
  cluster: string;
  manifests: Manifest[];
  /** Take fields other field managers own; without it a conflict fails as ApplyConflict. */
  force?: boolean;
}

export interface WaitForRolloutInput {
  cluster: string;
  deployments: { namespace: string; name: string }[];
  timeoutSeconds: number;
}

export interface WaitForWorkloadsInput {
  cluster: string;
  workloads: WorkloadRef[];
  timeoutSeconds: number;
}

export interface PruneObjectsInput {
  cluster: string;
  namespace: string;
  /** The environment whose objects to prune: selects flotilla.dev/environment=<name>. */
  environment?: string;
  /** Or an explicit selector; managed-by=flotilla is always added. */
  selector?: Record<string, string>;
  /** The objects of the revision being deployed (identity only, never their content). */
  keep: TypedRef[];
  includePersistentVolumeClaims?: boolean;
}

export interface DeleteNamespaceInput {
  cluster: string;
  namespace: string;
  timeoutSeconds: number;
}

export function createKubernetesActivities(deps: KubernetesActivityDeps) {
  const { withClient } = clusterClients(deps);

  return {
    /**
     * Server-side applies the manifests in dependency order; idempotent, so a retry is
     * harmless. Each result says whether the object was created, configured or unchanged.
     */
    async applyManifests({ cluster, manifests, force }: ApplyManifestsInput): Promise<AppliedObject[]> {
      return withClient(cluster, (client, context) =>
        serverSideApply(client, manifests, {
          force,
          signal: context.cancellationSignal,
          onProgress: ({ applied, total }) => context.heartbeat({ applied, total }),
        }),
      );
    },

    /** Deletes the environment's objects that the revision no longer has; returns them. */
    async pruneObjects({ cluster, namespace, environment, selector, keep, includePersistentVolumeClaims }: PruneObjectsInput): Promise<PrunedObject[]> {
      const labels: LabelSet | undefined = selector ?? (environment ? environmentLabels(environment) : undefined);
      if (!labels) throw ApplicationFailure.nonRetryable('pruneObjects needs an environment or a selector', 'InvalidPruneSelector');
      return withClient(cluster, (client, context) =>
        prune(client, {
          namespace,
          selector: labels,
          keep,
          includePersistentVolumeClaims,
          signal: context.cancellationSignal,
          onProgress: (deleted) => context.heartbeat({ deleted }),
        }),
      );
    },

    /** Waits until the Deployments are available, heartbeating their progress. */
    async waitForRollout({ cluster, deployments, timeoutSeconds }: WaitForRolloutInput): Promise<DeploymentRollout[]> {
      return withClient(cluster, (client, context) =>
        waitForDeployments(client, deployments, {
          timeoutMs: timeoutSeconds * 1000,
          pollMs: 500,
          signal: context.cancellationSignal,
          onProgress: (rollouts) => context.heartbeat(rollouts),
        }),
      );
    },

    /** Waits until Deployments and StatefulSets are ready and Jobs complete; a failed Job fails it. */
    async waitForWorkloads({ cluster, workloads, timeoutSeconds }: WaitForWorkloadsInput): Promise<WorkloadRollout[]> {
      return withClient(cluster, (client, context) =>
        waitForRollouts(client, workloads, {
          timeoutMs: timeoutSeconds * 1000,
          pollMs: 500,
          signal: context.cancellationSignal,
          onProgress: (rollouts) => context.heartbeat(rollouts),
        }),
      );
    },

    /** Deletes a namespace and waits until it is gone; false when it did not exist. */
    async deleteNamespace({ cluster, namespace, timeoutSeconds }: DeleteNamespaceInput): Promise<{ deleted: boolean }> {
      return withClient(cluster, async (client, context) => ({
        deleted: await deleteNamespaceAndWait(client, namespace, {
          timeoutMs: timeoutSeconds * 1000,
          pollMs: 500,
          signal: context.cancellationSignal,
          onProgress: (state) => context.heartbeat(state),
        }),
      }));
    },
  };
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
