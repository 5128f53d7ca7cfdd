// The bootstrap step of a deploy: the environment's namespace and the agent's RoleBinding in
// it, made by the narrowly scoped bootstrap account (domain/baseline.ts), so that the agent,
// which does everything else, holds rights only where an environment lives.
//
// - A namespace that does not exist is created (marked as created for the environment, the
//   mark ownership.ts reads) and the agent is bound in it.
// - A namespace Flotilla created for this environment gets the binding again if it was lost.
// - A namespace Flotilla did not create (one an admin made adoptable, domain/placement.ts) is
//   left alone: Flotilla never grants itself rights in someone else's namespace. Its owner
//   grants them with one RoleBinding (the error says how); until then the deploy stops with a
//   clear, non-retryable error, and nothing is written there.
import { AGENT_NAMESPACED_ROLE, AGENT_ROLE_BINDING, AGENT_SERVICE_ACCOUNT, agentRoleBinding, serviceAccountUser, SYSTEM_NAMESPACE } from '../../domain/baseline.js';
import type { KubeClient } from './client.js';
import { systemClock, type Clock } from './clock.js';
import { httpStatusOf, isNotFound, KubeLayerError } from './errors.js';
import { BOOTSTRAP_FIELD_MANAGER } from './labels.js';
import { CREATED_FOR_ANNOTATION, namespaceClaim } from './ownership.js';
import { readObject, type LiveObject } from './read.js';

export interface AgentNamespaceOptions {
  namespace: string;
  environment: string;
  /** Labels of a namespace Flotilla creates (the rendered Namespace's). */
  labels?: Record<string, string>;
  /** How long a new binding may take to reach the API server's authorizer (default 15 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface AgentNamespace {
  /** As ownership.ts's namespaceClaim: 'absent' when this call created it. */
  claim: 'absent' | 'owned' | 'foreign';
  /** This call created the agent's RoleBinding. */
  bound: boolean;
}

/** The agent may not work in a namespace: nobody granted it there. */
export class AgentNamespaceAccessError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'AgentForbidden';
  override readonly httpStatus = 403;

  constructor(readonly namespace: string, detail: string) {
    super(detail);
    this.name = 'AgentNamespaceAccessError';
  }
}

/** The agent was bound but the API server does not let it in yet (authorizer caches): retry. */
export class AgentBindingPendingError extends KubeLayerError {
  readonly retryable = true;
  readonly reason = 'AgentBindingPending';
}

/** The command a namespace's owner runs to let Flotilla's agent work there. */
export function grantCommand(namespace: string): string {
  return `kubectl create rolebinding ${AGENT_ROLE_BINDING} -n ${namespace} --clusterrole=${AGENT_NAMESPACED_ROLE} --serviceaccount=${SYSTEM_NAMESPACE}:${AGENT_SERVICE_ACCOUNT}`;
}

/**
 * Makes sure the agent may work in the environment's namespace, creating the namespace and the
 * binding with `bootstrap` where Flotilla may; `agent` checks the result (SelfSubjectAccessReview).
 * A namespace it creates carries the creation mark (written by the bootstrap account, which
 * ownership.ts's namespaceClaim recognises); the deploy's apply then takes the mark over. Idempotent.
 */
export async function ensureAgentNamespace(bootstrap: KubeClient, agent: KubeClient, options: AgentNamespaceOptions): Promise<AgentNamespace> {
  const { namespace, environment, signal } = options;
  let live = await readObject(bootstrap, { apiVersion: 'v1', kind: 'Namespace', name: namespace }, signal);
  let created = false;
  if (!live) {
    const body = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: options.labels ?? {}, annotations: { [CREATED_FOR_ANNOTATION]: environment } },
    };
    try {
      live = await bootstrap.request<LiveObject>('POST', '/api/v1/namespaces', { body, query: { fieldManager: BOOTSTRAP_FIELD_MANAGER }, signal });
      created = true;
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error; // made by someone else meanwhile: judge it as found
      live = await readObject(bootstrap, { apiVersion: 'v1', kind: 'Namespace', name: namespace }, signal);
      if (!live) throw error;
    }
  }
  const ours = created || (await namespaceClaim(bootstrap, namespace, environment, signal)) === 'owned';
  const bound = ours ? await bindAgent(bootstrap, namespace, signal) : false;

  if (!(await agentMay(agent, namespace, ours ? (options.timeoutMs ?? 15_000) : 0, options.clock ?? systemClock, signal))) {
    if (!ours) {
      throw new AgentNamespaceAccessError(
        namespace,
        `RBAC: Flotilla's agent (${serviceAccountUser(AGENT_SERVICE_ACCOUNT)}) may not patch deployments.apps in namespace "${namespace}", ` +
          `which Flotilla did not create, and Flotilla grants itself nothing there; its owner can grant it with: ${grantCommand(namespace)}`,
      );
    }
    throw new AgentBindingPendingError(`the agent's RoleBinding in namespace "${namespace}" is not in force yet`);
  }
  return { claim: created ? 'absent' : ours ? 'owned' : 'foreign', bound };
}

/** Creates the agent's RoleBinding unless a right one is there; true when it created it. */
async function bindAgent(bootstrap: KubeClient, namespace: string, signal?: AbortSignal): Promise<boolean> {
  const path = `/apis/rbac.authorization.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/rolebindings`;
  try {
    await bootstrap.request('POST', path, { body: agentRoleBinding(namespace), query: { fieldManager: BOOTSTRAP_FIELD_MANAGER }, signal });
    return true;
  } catch (error) {
    if (httpStatusOf(error) !== 409) throw error;
  }
  const existing = await bootstrap.request<{ roleRef?: { kind?: string; name?: string }; subjects?: { kind?: string; name?: string; namespace?: string }[] }>(
    'GET', `${path}/${AGENT_ROLE_BINDING}`, { signal },
  ).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  const grants = existing?.roleRef?.kind === 'ClusterRole' && existing.roleRef.name === AGENT_NAMESPACED_ROLE
    && (existing.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === AGENT_SERVICE_ACCOUNT && s.namespace === SYSTEM_NAMESPACE);
  if (!grants) {
    throw new AgentNamespaceAccessError(namespace, `RoleBinding ${namespace}/${AGENT_ROLE_BINDING} exists but does not bind ClusterRole ${AGENT_NAMESPACED_ROLE} to the agent; remove or fix it`);
  }
  return false;
}

/** What a SelfSubjectAccessReview asks. */
export interface AccessAttributes {
  verb: string;
  group?: string;
  resource: string;
  namespace?: string;
}

/**
 * Whether the client's identity may do `attributes` (SelfSubjectAccessReview), polling up to
 * `waitMs` for a binding just made to reach the API server's authorizer.
 */
export async function mayDo(client: KubeClient, attributes: AccessAttributes, waitMs: number, clock: Clock = systemClock, signal?: AbortSignal): Promise<boolean> {
  const started = clock.now();
  for (;;) {
    const review = await client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes } },
      signal,
    });
    if (review.status?.allowed) return true;
    if (clock.now() - started >= waitMs) return false;
    await clock.sleep(250, signal);
  }
}

/** Whether the agent may apply workloads in the namespace (see mayDo). */
export function agentMay(agent: KubeClient, namespace: string, waitMs: number, clock: Clock = systemClock, signal?: AbortSignal): Promise<boolean> {
  return mayDo(agent, { namespace, verb: 'patch', group: 'apps', resource: 'deployments' }, waitMs, clock, signal);
}

/** Who the API server says a client is (SelfSubjectReview, `kubectl auth whoami`). */
export async function whoAmI(client: KubeClient, signal?: AbortSignal): Promise<{ username: string; groups: string[] }> {
  const review = await client.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>(
    'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, signal },
  );
  return { username: review.status?.userInfo?.username ?? '', groups: review.status?.userInfo?.groups ?? [] };
}
