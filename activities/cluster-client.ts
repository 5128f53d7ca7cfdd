// How every activity reaches a cluster: credentials from the directory (any provider), one
// client per call sharing the cluster's rate limiter, and failures turned into
// ApplicationFailures that say whether a retry can help.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { UnknownClusterError, type ClusterDirectory } from '../providers/cluster-directory.js';
import { CloudProviderError } from '../providers/cloud/errors.js';
import { ApplyConflictError } from '../providers/kubernetes/apply.js';
import { KubeClient } from '../providers/kubernetes/client.js';
import { classifyError } from '../providers/kubernetes/errors.js';
import { NamespaceDeleteTimeoutError } from '../providers/kubernetes/namespace.js';
import { ClusterRateLimits } from '../providers/kubernetes/rate-limit.js';
import { JobFailedError, RolloutFailedError, RolloutTimeoutError } from '../providers/kubernetes/rollout.js';

export interface KubernetesActivityDeps {
  clusters: ClusterDirectory;
  /** Request limits per cluster, shared by every activity of the worker; defaults otherwise. */
  rateLimits?: ClusterRateLimits;
}

/** Rethrows any error of the cloud or Kubernetes layer as an ApplicationFailure. */
export function toFailure(error: unknown): never {
  if (error instanceof ApplicationFailure || error instanceof CancelledFailure) throw error;
  if (error instanceof UnknownClusterError) throw ApplicationFailure.nonRetryable(error.message, 'UnknownCluster');
  if (error instanceof CloudProviderError) {
    throw ApplicationFailure.create({ message: error.message, type: `Cloud${error.kind}`, nonRetryable: !error.retryable });
  }
  const c = classifyError(error);
  let details: unknown[] | undefined;
  if (error instanceof ApplyConflictError) details = [error.objects];
  else if (error instanceof RolloutTimeoutError) details = [error.pending];
  else if (error instanceof RolloutFailedError) details = [error.workloads];
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

export function clusterClients({ clusters, rateLimits = new ClusterRateLimits() }: KubernetesActivityDeps) {
  /** Runs `work` with a client of the cluster, mapping its failures. */
  async function withClient<T>(cluster: string, work: (client: KubeClient, context: Context) => Promise<T>): Promise<T> {
    let client: KubeClient | undefined;
    try {
      client = new KubeClient(await clusters.kubeConfig(cluster), { cluster, limiter: rateLimits.for(cluster) });
      return await work(client, Context.current());
    } catch (error) {
      return toFailure(error);
    } finally {
      client?.close();
    }
  }
  return { withClient };
}
