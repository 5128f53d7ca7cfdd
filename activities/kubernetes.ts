// Activities that change and read live clusters. Built by a factory over injected
// dependencies so the worker wires real clients and tests can wire real local clusters.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../domain/manifest.js';
import type { ClusterDirectory } from '../providers/cluster-directory.js';
import { UnknownClusterError } from '../providers/cluster-directory.js';
import { serverSideApply, type AppliedObject } from '../providers/kubernetes/apply.js';
import { waitForDeployments, RolloutTimeoutError, type DeploymentRollout } from '../providers/kubernetes/rollout.js';

export interface KubernetesActivityDeps {
  clusters: ClusterDirectory;
}

export interface ApplyManifestsInput {
  cluster: string;
  manifests: Manifest[];
}

export interface WaitForRolloutInput {
  cluster: string;
  deployments: { namespace: string; name: string }[];
  timeoutSeconds: number;
}

export function createKubernetesActivities({ clusters }: KubernetesActivityDeps) {
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

  return {
    /** Server-side applies the manifests; idempotent, so a retry is harmless. */
    async applyManifests({ cluster, manifests }: ApplyManifestsInput): Promise<AppliedObject[]> {
      return serverSideApply(await kubeConfig(cluster), manifests);
    },

    /** Waits until the Deployments are available, heartbeating their progress. */
    async waitForRollout({ cluster, deployments, timeoutSeconds }: WaitForRolloutInput): Promise<DeploymentRollout[]> {
      const context = Context.current();
      try {
        return await waitForDeployments(await kubeConfig(cluster), deployments, {
          timeoutMs: timeoutSeconds * 1000,
          pollMs: 500,
          signal: context.cancellationSignal,
          onProgress: (rollouts) => context.heartbeat(rollouts),
        });
      } catch (error) {
        if (error instanceof RolloutTimeoutError) {
          throw ApplicationFailure.nonRetryable(error.message, 'RolloutTimeout', error.pending);
        }
        throw error;
      }
    },
  };
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
