// What onboarding installs in every cluster: a system namespace, Flotilla's two service
// accounts with least-privilege RBAC, and organisation defaults. Pure: the manifests, nothing
// applied here.
//
// Who may do what (issue 10, finding 5; README "Security"):
// - flotilla-agent: every cluster request after onboarding. Cluster-wide it may only read
//   nodes (capacity); everything else comes from the ClusterRole flotilla-agent-namespaced,
//   which no ClusterRoleBinding references: a RoleBinding in each environment namespace
//   grants it there (agentRoleBinding). Outside those namespaces it can do nothing.
// - flotilla-bootstrap: namespace lifecycle only. It may create, read and delete namespaces
//   and create RoleBindings, and may bind no role but flotilla-agent-namespaced (RBAC's `bind`
//   verb with resourceNames), so it cannot grant itself or anyone else anything more. It can
//   read no secret and write no workload.
// - The registered credential (usually an admin's) installs and removes this baseline, and
//   after onboarding only mints the two accounts' short-lived tokens (TokenRequest).
import { LABEL, MANAGED_BY } from './labels.js';
import type { Manifest } from './manifest.js';

export const SYSTEM_NAMESPACE = 'flotilla-system';
export const AGENT_SERVICE_ACCOUNT = 'flotilla-agent';
/** The agent's cluster-wide role (nodes, read-only) and its binding. */
export const AGENT_ROLE = 'flotilla-agent';
/** The agent's rights inside one namespace: bound only by RoleBindings, never cluster-wide. */
export const AGENT_NAMESPACED_ROLE = 'flotilla-agent-namespaced';
/** The RoleBinding that grants AGENT_NAMESPACED_ROLE in an environment namespace. */
export const AGENT_ROLE_BINDING = 'flotilla-agent';
/**
 * What an environment's charts may write at cluster scope (CRDs): installed with the baseline
 * but bound by nobody. A cluster's admin who lets charts install CRDs binds it to the agent
 * (clusterScopeGrantCommand); an environment must also allow it (overrides.chartScope).
 */
export const AGENT_CLUSTER_SCOPE_ROLE = 'flotilla-agent-cluster-scope';
export const BOOTSTRAP_SERVICE_ACCOUNT = 'flotilla-bootstrap';
export const BOOTSTRAP_ROLE = 'flotilla-bootstrap';

/** The username a service account's token authenticates as. */
export function serviceAccountUser(name: string, namespace = SYSTEM_NAMESPACE): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

const labels = { [LABEL.managedBy]: MANAGED_BY, [LABEL.component]: 'baseline' };

interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** Cluster-wide, the agent reads nodes (capacity) and nothing else. */
export const AGENT_CLUSTER_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
];

/**
 * What the agent may do in a namespace it is bound in: manage the kinds Flotilla renders, read
 * pods (health, logs) and events, port-forward to a pod (a container database's data, for
 * clones: providers/kubernetes/port-forward.ts), GET a service through the API server's proxy
 * (a DR drill's HTTP checks), and read and apply its own namespace object (a
 * request for namespace X is authorised in namespace X, so a RoleBinding there grants it;
 * deleting namespaces is the bootstrap account's). No wildcards, no RBAC, no pod creation of
 * its own, no exec.
 */
export const AGENT_NAMESPACED_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'services', 'serviceaccounts', 'persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: [''], resources: ['pods', 'pods/log', 'events'], verbs: ['get', 'list', 'watch'] },
  // The observer reads autoscalers: a Deployment's replicas are an HPA's to set, not drift.
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch'] },
  // A WebSocket port-forward (client-node's, and kubectl's since 1.31) is a GET upgrade, which
  // the API server authorises as `get`; SPDY's POST as `create`, which newer API servers also
  // ask of WebSocket upgrades. Both, so the agent forwards whatever the server and protocol.
  { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
  // A DR drill's HTTP checks: GET through the API server's proxy to the clone's services.
  { apiGroups: [''], resources: ['services/proxy'], verbs: ['get'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch'] },
];

/**
 * The bootstrap account: make and remove environment namespaces, and bind the agent's
 * namespaced role in them. `bind` on that one ClusterRole is what lets it create such a
 * RoleBinding without holding the role's rights itself (RBAC's escalation check).
 */
export const BOOTSTRAP_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'delete'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get', 'create'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: [AGENT_NAMESPACED_ROLE] },
];

/** AGENT_CLUSTER_SCOPE_ROLE's rights: CustomResourceDefinitions, which charts bring. */
export const AGENT_CLUSTER_SCOPE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update'] },
];

/** The command a cluster's admin runs to let environments' charts write CRDs there. */
export function clusterScopeGrantCommand(): string {
  return `kubectl create clusterrolebinding ${AGENT_CLUSTER_SCOPE_ROLE} --clusterrole=${AGENT_CLUSTER_SCOPE_ROLE} --serviceaccount=${SYSTEM_NAMESPACE}:${AGENT_SERVICE_ACCOUNT}`;
}

/** @deprecated The agent's namespaced rights; kept for readers of the old name. */
export const AGENT_RULES = AGENT_NAMESPACED_RULES;

export interface BaselineOptions {
  /** Default container limits for the system namespace (org standard). */
  defaultLimits?: { cpu: string; memory: string };
}

const rules = (list: readonly PolicyRule[]) =>
  list.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs], ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}) }));

function clusterRole(name: string, list: readonly PolicyRule[]): Manifest {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: rules(list) };
}

function clusterRoleBinding(name: string, serviceAccount: string): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: SYSTEM_NAMESPACE }],
  };
}

export function baselineManifests(options: BaselineOptions = {}): Manifest[] {
  const limits = options.defaultLimits ?? { cpu: '500m', memory: '512Mi' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: AGENT_SERVICE_ACCOUNT, namespace: SYSTEM_NAMESPACE, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: BOOTSTRAP_SERVICE_ACCOUNT, namespace: SYSTEM_NAMESPACE, labels } },
    // Same name as the broad role older versions installed: onboarding again narrows it in place.
    clusterRole(AGENT_ROLE, AGENT_CLUSTER_RULES),
    clusterRole(AGENT_NAMESPACED_ROLE, AGENT_NAMESPACED_RULES),
    clusterRole(BOOTSTRAP_ROLE, BOOTSTRAP_RULES),
    clusterRole(AGENT_CLUSTER_SCOPE_ROLE, AGENT_CLUSTER_SCOPE_RULES),
    clusterRoleBinding(AGENT_ROLE, AGENT_SERVICE_ACCOUNT),
    clusterRoleBinding(BOOTSTRAP_ROLE, BOOTSTRAP_SERVICE_ACCOUNT),
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'flotilla-defaults', namespace: SYSTEM_NAMESPACE, labels },
      spec: { limits: [{ type: 'Container', default: limits, defaultRequest: { cpu: '50m', memory: '64Mi' } }] },
    },
  ];
}

/** The RoleBinding that lets the agent work in one environment namespace (made by the bootstrap account). */
export function agentRoleBinding(namespace: string): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: AGENT_ROLE_BINDING, namespace, labels: { [LABEL.managedBy]: MANAGED_BY, [LABEL.component]: 'agent-access' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_NAMESPACED_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: AGENT_SERVICE_ACCOUNT, namespace: SYSTEM_NAMESPACE }],
  };
}

/** A Kubernetes version such as "v1.34.4" against a supported minor range. */
export interface VersionRange {
  minMinor: number;
  maxMinor: number;
}

export const DEFAULT_SUPPORTED_VERSIONS: VersionRange = { minMinor: 30, maxMinor: 37 };

export function checkVersion(gitVersion: string, range: VersionRange): { supported: boolean; minor?: number; reason?: string } {
  const match = /^v?1\.(\d+)(\.\d+)?/.exec(gitVersion);
  if (!match) return { supported: false, reason: `cannot read Kubernetes version "${gitVersion}"` };
  const minor = Number(match[1]);
  if (minor < range.minMinor || minor > range.maxMinor) {
    return { supported: false, minor, reason: `Kubernetes ${gitVersion} is outside the supported range 1.${range.minMinor}–1.${range.maxMinor}` };
  }
  return { supported: true, minor };
}
