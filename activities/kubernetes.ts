// Activities that change and read live clusters. Built by a factory over injected
// dependencies so the worker wires real clients and tests can wire real local clusters.
//
// Every activity talks to its cluster through one KubeClient that shares the cluster's rate
// limiter with every other activity of this worker, heartbeats through the layer's progress
// callbacks, and turns failures into ApplicationFailures whose `type` is the classified reason:
// non-retryable ones (invalid objects, forbidden, apply conflicts, failed Jobs, timeouts) stop
// Temporal's retries at once.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Manifest } from '../domain/manifest.js';
import type { ClusterDirectory } from '../providers/cluster-directory.js';
import { UnknownClusterError } from '../providers/cluster-directory.js';
import { ApplyConflictError, serverSideApply, type AppliedObject } from '../providers/kubernetes/apply.js';
import { KubeClient } from '../providers/kubernetes/client.js';
import { classifyError } from '../providers/kubernetes/errors.js';
import type { TypedRef } from '../providers/kubernetes/kinds.js';
import { environmentLabels, type LabelSet } from '../providers/kubernetes/labels.js';
import { deleteNamespace as deleteNamespaceAndWait, NamespaceDeleteTimeoutError } from '../providers/kubernetes/namespace.js';
import { prune, type PrunedObject } from '../providers/kubernetes/prune.js';
import { ClusterRateLimits } from '../providers/kubernetes/rate-limit.js';
import {
  JobFailedError,
  RolloutTimeoutError,
  waitForDeployments,
  waitForRollouts,
  type DeploymentRollout,
  type WorkloadRef,
  type WorkloadRollout,
} from '../providers/kubernetes/rollout.js';

export interface KubernetesActivityDeps {
  clusters: ClusterDirectory;
  /** Request limits per cluster, shared by every activity of the worker; defaults otherwise. */
  rateLimits?: ClusterRateLimits;
}

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

/** Rethrows any error of the layer as an ApplicationFailure that says whether to retry. */
function toFailure(error: unknown): never {
  if (error instanceof ApplicationFailure || error instanceof CancelledFailure) throw error;
  const c = classifyError(error);
  let details: unknown[] | undefined;
  if (error instanceof ApplyConflictError) details = [error.objects];
  else if (error instanceof RolloutTimeoutError) details = [error.pending];
  else if (error instanceof JobFailedError) details = [error.job];
  else if (error instanceof NamespaceDeleteTimeoutError) details = [error.state];
  throw ApplicationFailure.create({
    message: c.message,
    type: c.reason,
    nonRetryable: !c.retryable,
    details,
    nextRetryDelay: c.retryAfterMs,
  });
}

export function createKubernetesActivities({ clusters, rateLimits = new ClusterRateLimits() }: KubernetesActivityDeps) {
  async function kubeConfig(cluster: string) {
    try {
      return await clusters.kubeConfig(cluster);
    } catch (error) {
      if (error instanceof UnknownClusterError) {
        throw ApplicationFailure.nonRetryable(error.message, 'UnknownCluster');
      }
      throw error;
    }
  }

  /** Runs `work` with a client of the cluster, mapping its failures. */
  async function withClient<T>(cluster: string, work: (client: KubeClient, context: Context) => Promise<T>): Promise<T> {
    const client = new KubeClient(await kubeConfig(cluster), { cluster, limiter: rateLimits.for(cluster) });
    try {
      return await work(client, Context.current());
    } catch (error) {
      toFailure(error);
    } finally {
      client.close();
    }
  }

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
