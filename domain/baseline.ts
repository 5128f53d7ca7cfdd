// What onboarding installs in every cluster: a system namespace, a least-privilege service
// account for Flotilla, and organisation defaults. Pure: the manifests, nothing applied here.
import { LABEL, MANAGED_BY } from './labels.js';
import type { Manifest } from './manifest.js';

export const SYSTEM_NAMESPACE = 'flotilla-system';
export const AGENT_SERVICE_ACCOUNT = 'flotilla-agent';
export const AGENT_ROLE = 'flotilla-agent';

const labels = { [LABEL.managedBy]: MANAGED_BY, [LABEL.component]: 'baseline' };

/**
 * What Flotilla may do in a cluster: manage the kinds it renders, read nodes (capacity) and
 * pods (health, logs). No wildcard verbs or resources, no RBAC writes, nothing cluster-admin.
 */
export const AGENT_RULES = [
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'services', 'serviceaccounts', 'persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: [''], resources: ['pods', 'pods/log', 'events', 'nodes'], verbs: ['get', 'list', 'watch'] },
] as const;

export interface BaselineOptions {
  /** Default container limits for the system namespace (org standard). */
  defaultLimits?: { cpu: string; memory: string };
}

export function baselineManifests(options: BaselineOptions = {}): Manifest[] {
  const limits = options.defaultLimits ?? { cpu: '500m', memory: '512Mi' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: AGENT_SERVICE_ACCOUNT, namespace: SYSTEM_NAMESPACE, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: AGENT_ROLE, labels },
      rules: AGENT_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: AGENT_ROLE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: AGENT_SERVICE_ACCOUNT, namespace: SYSTEM_NAMESPACE }],
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'flotilla-defaults', namespace: SYSTEM_NAMESPACE, labels },
      spec: { limits: [{ type: 'Container', default: limits, defaultRequest: { cpu: '50m', memory: '64Mi' } }] },
    },
  ];
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
