// The kinds Flotilla knows without asking the server: their REST resource names, whether they
// are namespaced, and the order in which apply creates them. Unknown kinds (custom resources)
// are looked up through discovery by the client and applied last.
import { groupOf } from '../../domain/chart-objects.js';

export interface KindInfo {
  /** API group; "" for the core group. */
  group: string;
  kind: string;
  /** Lower-case plural resource name in the URL. */
  plural: string;
  namespaced: boolean;
}

export interface TypedRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

const table: KindInfo[] = [
  // cluster-scoped
  { group: '', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { group: '', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
  { group: 'storage.k8s.io', kind: 'StorageClass', plural: 'storageclasses', namespaced: false },
  { group: 'scheduling.k8s.io', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false },
  { group: 'networking.k8s.io', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false },
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false },
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations', namespaced: false },
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations', namespaced: false },
  // namespaced
  { group: '', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { group: '', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { group: '', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true },
  { group: '', kind: 'LimitRange', plural: 'limitranges', namespaced: true },
  { group: '', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true },
  { group: '', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', kind: 'Pod', plural: 'pods', namespaced: true },
  { group: '', kind: 'Endpoints', plural: 'endpoints', namespaced: true },
  { group: 'rbac.authorization.k8s.io', kind: 'Role', plural: 'roles', namespaced: true },
  { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { group: 'apps', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'apps', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  { group: 'apps', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true },
  { group: 'apps', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
  { group: 'batch', kind: 'Job', plural: 'jobs', namespaced: true },
  { group: 'batch', kind: 'CronJob', plural: 'cronjobs', namespaced: true },
  { group: 'networking.k8s.io', kind: 'Ingress', plural: 'ingresses', namespaced: true },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  { group: 'policy', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true },
  { group: 'autoscaling', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true },
];

const byGroupKind = new Map(table.map((k) => [`${k.group}/${k.kind}`, k]));

// One definition of an API version's group, shared with domain/ (which may not import providers).
export { groupOf } from '../../domain/chart-objects.js';

/** A built-in kind's REST facts; undefined for kinds only discovery knows. */
export function builtinKind(apiVersion: string, kind: string): KindInfo | undefined {
  return byGroupKind.get(`${groupOf(apiVersion)}/${kind}`);
}

/**
 * Identity of an object across API versions: group, kind, namespace, name. Prune compares
 * rendered and live objects by this key, so apps/v1 and a future apps/v2 are the same object.
 */
export function objectKey(ref: TypedRef): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

export function describeRef(ref: TypedRef): string {
  return `${ref.kind}${ref.namespace ? ` ${ref.namespace}/` : ' '}${ref.name}`;
}

/**
 * Apply tiers, in order: what other objects live in or refer to comes first, so a workload
 * never starts before its ConfigMap, Secret or ServiceAccount exists (it would crash-loop or
 * be refused by admission), and Services exist before the pods that other services call.
 *  0 Namespaces · 1 other built-in cluster-scoped kinds · 2 configuration and identity
 *  · 3 Services · 4 workloads · 5 everything else (Ingress, HPA, PDB, custom resources …).
 */
export function applyTier(ref: Pick<TypedRef, 'apiVersion' | 'kind'>): number {
  const { kind } = ref;
  if (kind === 'Namespace' && groupOf(ref.apiVersion) === '') return 0;
  const info = builtinKind(ref.apiVersion, kind);
  if (info && !info.namespaced) return 1;
  switch (kind) {
    case 'ConfigMap': case 'Secret': case 'ServiceAccount': case 'PersistentVolumeClaim':
    case 'LimitRange': case 'ResourceQuota': case 'Role': case 'RoleBinding':
      return info ? 2 : 5;
    case 'Service':
      return info ? 3 : 5;
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': case 'CronJob': case 'Pod':
      return info ? 4 : 5;
    default:
      return 5;
  }
}

/** Groups objects into apply tiers (stable within a tier), lowest tier first. */
export function applyTiers<T extends Pick<TypedRef, 'apiVersion' | 'kind'>>(objects: readonly T[]): T[][] {
  const tiers: T[][] = [];
  for (const object of objects) (tiers[applyTier(object)] ??= []).push(object);
  return tiers.filter((t) => t !== undefined && t.length > 0);
}

/** The kinds prune looks at: what Flotilla renders into an environment's namespace. */
export const PRUNABLE_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
];

/** Opt-in: deleting a claim can delete its data. */
export const PVC_KIND = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' } as const;
