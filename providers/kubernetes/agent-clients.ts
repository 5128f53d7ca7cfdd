// Clients that reach a cluster as Flotilla's agent (flotilla-system/flotilla-agent), for processes
// other than the worker that read clusters: the API's logs. The agent may read pods and their logs
// only in the namespaces it is bound in (domain/baseline.ts), so a reader can never see more than
// Flotilla's own environments, whatever the registered credential could. Its short-lived token is
// minted with the registered credential (TokenRequest) and kept in this process's memory only.
// (The worker's activities do the same with Temporal's failure mapping: activities/cluster-client.ts.)
import { AGENT_SERVICE_ACCOUNT, SYSTEM_NAMESPACE } from '../../domain/baseline.js';
import type { ClusterDirectory } from '../cluster-directory.js';
import { KubeClient } from './client.js';
import { httpStatusOf, KubeLayerError } from './errors.js';
import { ClusterRateLimits } from './rate-limit.js';
import {
  clusterIdentity, requestServiceAccountToken, ServiceAccountKubeConfig, ServiceAccountTokens, type ServiceAccountRef,
} from './service-account-tokens.js';

const AGENT: ServiceAccountRef = { namespace: SYSTEM_NAMESPACE, name: AGENT_SERVICE_ACCOUNT };

/** The agent's token could not be had: the cluster is not onboarded, or its credential may not mint one. */
export class AgentUnavailableError extends KubeLayerError {
  readonly retryable: boolean;
  readonly reason = 'AgentUnavailable';

  constructor(message: string, override readonly httpStatus: number) {
    super(message);
    this.name = 'AgentUnavailableError';
    this.retryable = httpStatus === 401;
  }
}

export class AgentClients {
  constructor(
    private readonly clusters: ClusterDirectory,
    private readonly tokens = new ServiceAccountTokens(),
    private readonly rateLimits = new ClusterRateLimits(),
  ) {}

  /** A client of `cluster` that authenticates as the agent; the caller closes it. */
  async client(cluster: string): Promise<KubeClient> {
    const registered = await this.clusters.kubeConfig(cluster);
    const identity = clusterIdentity(registered);
    const limiter = this.rateLimits.for(cluster);
    const mint = async (expirationSeconds: number) => {
      const issuer = new KubeClient(registered, { cluster, limiter });
      try {
        return await requestServiceAccountToken(issuer, AGENT, expirationSeconds);
      } catch (error) {
        const status = httpStatusOf(error);
        if (status === 404) throw new AgentUnavailableError(`cluster "${cluster}" has no service account ${SYSTEM_NAMESPACE}/${AGENT_SERVICE_ACCOUNT}: onboard it first`, 404);
        if (status === 401 || status === 403) {
          throw new AgentUnavailableError(`cluster "${cluster}" refused its registered credential a token of ${SYSTEM_NAMESPACE}/${AGENT_SERVICE_ACCOUNT} (${status})`, status);
        }
        throw error;
      } finally {
        issuer.close();
      }
    };
    const kc = new ServiceAccountKubeConfig(registered, AGENT.name, () => this.tokens.token(cluster, AGENT, identity, mint));
    return new KubeClient(kc, { cluster, limiter });
  }

  /** Drops a cluster's token, e.g. after the API server refused it (401). */
  forget(cluster: string): void {
    this.tokens.forget(cluster);
  }
}
