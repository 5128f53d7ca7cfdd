// How every activity reaches a cluster, and as whom (issue 10, finding 5; README "Security"):
//
// - withClient: as Flotilla's agent (flotilla-system/flotilla-agent), with a short-lived token
//   from the TokenRequest API. Every cluster request after onboarding goes this way: apply,
//   prune, rollout waits, reads, health checks. The agent's rights are per namespace, so a
//   request outside its namespaces fails, with a non-retryable error that names what it tried.
//   Only requests for namespace objects themselves (read, create, delete) go as the bootstrap
//   account instead: the agent's RoleBinding lives inside a namespace, so it can neither see one
//   that does not exist yet nor follow one being deleted (its binding goes with the contents).
// - bootstrapNamespace: as the bootstrap account (flotilla-system/flotilla-bootstrap): the
//   environment's namespace and the agent's RoleBinding in it, before a deploy applies.
// - withRegisteredClient: as the registered credential (usually an admin's). Onboarding and
//   offboarding only (probe, install and remove the baseline), and minting the two tokens.
//
// Tokens live in this worker's memory (ServiceAccountTokens), never in the catalog, a workflow's
// input or result, a log or an error. The agent's and the bootstrap account's clients are pooled
// per cluster (providers/kubernetes/client-pool.ts): the activities of one worker share their
// connections and the cluster's rate limiter.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { AGENT_SERVICE_ACCOUNT, BOOTSTRAP_SERVICE_ACCOUNT, clusterScopeGrantCommand, serviceAccountUser, SYSTEM_NAMESPACE } from '../domain/baseline.js';
import { UnknownClusterError, type ClusterDirectory } from '../providers/cluster-directory.js';
import { CloudProviderError } from '../providers/cloud/errors.js';
import { ensureAgentNamespace, type AgentNamespace, type AgentNamespaceOptions } from '../providers/kubernetes/agent-access.js';
import { ApplyConflictError } from '../providers/kubernetes/apply.js';
import { KubeClient } from '../providers/kubernetes/client.js';
import { classifyError, httpStatusOf, statusOf } from '../providers/kubernetes/errors.js';
import { NamespaceDeleteTimeoutError } from '../providers/kubernetes/namespace.js';
import { KubeClientPool } from '../providers/kubernetes/client-pool.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterRateLimits } from '../providers/kubernetes/rate-limit.js';
import { JobFailedError, RolloutFailedError, RolloutTimeoutError } from '../providers/kubernetes/rollout.js';
import {
  clusterIdentity, requestServiceAccountToken, ServiceAccountKubeConfig, ServiceAccountTokens, type ServiceAccountRef,
} from '../providers/kubernetes/service-account-tokens.js';

const AGENT: ServiceAccountRef = { namespace: SYSTEM_NAMESPACE, name: AGENT_SERVICE_ACCOUNT };
const BOOTSTRAP: ServiceAccountRef = { namespace: SYSTEM_NAMESPACE, name: BOOTSTRAP_SERVICE_ACCOUNT };

export interface KubernetesActivityDeps {
  clusters: ClusterDirectory;
  /** Request limits per cluster, shared by every activity of the worker; defaults otherwise. */
  rateLimits?: ClusterRateLimits;
  /** The worker's service-account tokens; one cache per cluster directory otherwise. */
  serviceAccountTokens?: ServiceAccountTokens;
}

/** What the activity factories of one worker share, per cluster directory. */
interface SharedState {
  tokens: ServiceAccountTokens;
  rateLimits: ClusterRateLimits;
  /** Per rate limits, so a client never sends through another factory's limiter. */
  pools: WeakMap<ClusterRateLimits, KubeClientPool>;
  /** Each cluster's registered kubeconfig as last read: a pooled client mints with the current credential. */
  registered: Map<string, KubeConfig>;
}

const sharedStates = new WeakMap<ClusterDirectory, SharedState>();

function sharedState(deps: KubernetesActivityDeps): SharedState {
  let state = sharedStates.get(deps.clusters);
  if (!state) {
    state = { tokens: new ServiceAccountTokens(), rateLimits: new ClusterRateLimits(), pools: new WeakMap(), registered: new Map() };
    sharedStates.set(deps.clusters, state);
  }
  return state;
}

function poolOf(state: SharedState, rateLimits: ClusterRateLimits): KubeClientPool {
  let pool = state.pools.get(rateLimits);
  if (!pool) state.pools.set(rateLimits, (pool = new KubeClientPool()));
  return pool;
}

/** A namespace object itself (GET/POST/DELETE /api/v1/namespaces[/NAME]): the bootstrap account's. */
export function isNamespaceLifecycleRequest(method: string | undefined, url: URL | undefined): boolean {
  if (!url || !method) return false;
  return ['GET', 'POST', 'DELETE'].includes(method.toUpperCase()) && /^\/api\/v1\/namespaces(\/[^/]+)?\/?$/.test(url.pathname);
}

/** Who the Kubernetes RBAC message names, and what it refused. */
export interface Refusal {
  user?: string;
  verb?: string;
  resource?: string;
  group?: string;
  namespace?: string;
}

/** Reads "User "U" cannot VERB resource "R" in API group "G" in the namespace "N"" (or "at the cluster scope"). */
export function refusalOf(message: string): Refusal | undefined {
  const m = /User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)"| at the cluster scope)?/.exec(message);
  if (!m) return undefined;
  return { user: m[1], verb: m[2], resource: m[3], group: m[4] || undefined, namespace: m[5] };
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

type Identity = 'agent' | 'registered';

export function clusterClients(deps: KubernetesActivityDeps) {
  const { clusters } = deps;
  const shared = sharedState(deps);
  const rateLimits = deps.rateLimits ?? shared.rateLimits;
  const tokens = deps.serviceAccountTokens ?? shared.tokens;
  const pool = poolOf(shared, rateLimits);

  /** The registered credential's client: onboarding, offboarding and minting tokens only. */
  async function registeredClient(cluster: string): Promise<KubeClient> {
    return new KubeClient(await clusters.kubeConfig(cluster), { cluster, limiter: rateLimits.for(cluster) });
  }

  /** Mints a token of `as` with the cluster's registered credential (the newest one that reaches `identity`). */
  function minter(cluster: string, identity: string, registered: KubeConfig, as: ServiceAccountRef) {
    return async (expirationSeconds: number) => {
      const newest = shared.registered.get(cluster);
      const issuer = new KubeClient(newest && clusterIdentity(newest) === identity ? newest : registered, { cluster, limiter: rateLimits.for(cluster) });
      try {
        return await requestServiceAccountToken(issuer, as, expirationSeconds);
      } catch (error) {
        const status = httpStatusOf(error);
        if (status === 401 || status === 403) {
          throw ApplicationFailure.create({
            message: `cluster "${cluster}" refused its registered credential a token of ${as.namespace}/${as.name} (${status}): the registered credential must be able to create serviceaccounts/token in ${as.namespace}`,
            type: 'TokenRequestRefused',
            nonRetryable: status === 403,
          });
        }
        if (status === 404) {
          throw ApplicationFailure.nonRetryable(
            `cluster "${cluster}" has no service account ${as.namespace}/${as.name}: onboard the cluster (it installs Flotilla's agent) before deploying to it`,
            'AgentMissing',
          );
        }
        throw error;
      } finally {
        issuer.close();
      }
    };
  }

  /** A new client that authenticates as a service account of Flotilla's (namespace lifecycle as the bootstrap account). */
  function serviceAccountClient(cluster: string, registered: KubeConfig, account: ServiceAccountRef, routeNamespaces: boolean): KubeClient {
    const identity = clusterIdentity(registered);
    const kc = new ServiceAccountKubeConfig(registered, account.name, ({ method, url }) => {
      const as = routeNamespaces && isNamespaceLifecycleRequest(method, url) ? BOOTSTRAP : account;
      return tokens.token(cluster, as, identity, minter(cluster, identity, registered, as));
    });
    return new KubeClient(kc, { cluster, limiter: rateLimits.for(cluster) });
  }

  /** Runs `work` with the worker's pooled client of `cluster` as `account`. */
  async function withPooled<T>(cluster: string, account: ServiceAccountRef, routeNamespaces: boolean, work: (client: KubeClient) => Promise<T>): Promise<T> {
    const registered = await clusters.kubeConfig(cluster);
    shared.registered.set(cluster, registered);
    const key = `${cluster}\u0000${account.name}\u0000${routeNamespaces}`;
    return pool.use(key, clusterIdentity(registered), () => serviceAccountClient(cluster, registered, account, routeNamespaces), work);
  }

  async function run<T>(cluster: string, identity: Identity, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (identity === 'agent') agentFailure(cluster, error);
      return toFailure(error);
    }
  }

  /** 401: the token was refused (a re-created account, a new signing key): mint anew on the retry. 403: what the agent may not do. */
  function agentFailure(cluster: string, error: unknown): void {
    if (error instanceof ApplicationFailure || error instanceof CancelledFailure) return;
    const status = httpStatusOf(error);
    if (status === 401) {
      tokens.forget(cluster);
      throw ApplicationFailure.create({ message: `cluster "${cluster}" refused Flotilla's service-account token; a new one is requested on the next attempt`, type: 'ServiceAccountTokenRejected', nonRetryable: false });
    }
    if (status !== 403) return;
    const c = classifyError(error);
    if (c.retryable) return; // e.g. a namespace being terminated
    const refusal = refusalOf(statusOf(error)?.message ?? (error instanceof Error ? error.message : ''));
    if (!refusal) return;
    const what = `${refusal.verb} ${refusal.resource}${refusal.group ? `.${refusal.group}` : ''}`;
    const where = refusal.namespace ? `in namespace "${refusal.namespace}"` : 'at cluster scope';
    // A chart's cluster-scoped objects (CRDs): the cluster's admin grants them, with the baseline's unbound role.
    const why = refusal.resource === 'customresourcedefinitions'
      ? `(an environment's charts write CRDs only where the cluster's admin grants it: ${clusterScopeGrantCommand()})`
      : '(Flotilla\'s agent works only in the namespaces it is bound in)';
    throw ApplicationFailure.create({
      message: `RBAC: ${refusal.user ?? serviceAccountUser(AGENT_SERVICE_ACCOUNT)} may not ${what} ${where} on cluster "${cluster}" ${why}`,
      type: 'AgentForbidden',
      nonRetryable: true,
      details: [refusal],
    });
  }

  /** Runs `work` with a client of the cluster that authenticates as Flotilla's agent, mapping its failures. */
  async function withClient<T>(cluster: string, work: (client: KubeClient, context: Context) => Promise<T>): Promise<T> {
    return run(cluster, 'agent', () => withPooled(cluster, AGENT, true, (client) => work(client, Context.current())));
  }

  /** Runs `work` as the registered credential: onboarding and offboarding only. */
  async function withRegisteredClient<T>(cluster: string, work: (client: KubeClient, context: Context) => Promise<T>): Promise<T> {
    return run(cluster, 'registered', async () => {
      const client = await registeredClient(cluster);
      try {
        return await work(client, Context.current());
      } finally {
        client.close();
      }
    });
  }

  /**
   * The bootstrap step before a deploy applies: the environment's namespace and the agent's
   * RoleBinding in it, as the bootstrap account; `agent` is the deploy's own client. Failures
   * are mapped by the surrounding withClient.
   */
  async function bootstrapNamespace(agent: KubeClient, options: AgentNamespaceOptions): Promise<AgentNamespace> {
    return withPooled(agent.cluster, BOOTSTRAP, false, (bootstrap) => ensureAgentNamespace(bootstrap, agent, options));
  }

  /**
   * A client of the cluster as Flotilla's agent for work that outlives one call, such as a
   * port-forward a data copy holds open (providers/databases/catalog-connector.ts); the caller
   * closes it. Its failures are not mapped: the caller classifies them (toFailure).
   */
  async function agentClient(cluster: string): Promise<KubeClient> {
    const registered = await clusters.kubeConfig(cluster);
    shared.registered.set(cluster, registered);
    return serviceAccountClient(cluster, registered, AGENT, true);
  }

  return { withClient, withRegisteredClient, bootstrapNamespace, agentClient };
}
