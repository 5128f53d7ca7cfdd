// The baseline's RBAC, against expectations written out here by hand (issue 10, finding 5):
// nothing cluster-wide but reading nodes (the agent) and namespace bootstrap (create/delete a
// namespace, bind the agent's namespaced role in it); every write of workloads, secrets and
// service accounts only through RoleBindings, per environment namespace.
import { describe, expect, it } from 'vitest';
import { agentRoleBinding, baselineManifests } from '../../../domain/baseline.js';
import type { Manifest } from '../../../domain/manifest.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection', 'bind', 'escalate', 'impersonate', '*'];
const SENSITIVE = [
  ['', 'secrets'], ['', 'serviceaccounts'], ['', 'serviceaccounts/token'], ['', 'pods'], ['', 'pods/exec'], ['', 'pods/portforward'], ['', 'configmaps'], ['', 'services'],
  ['apps', 'deployments'], ['apps', 'statefulsets'], ['apps', 'daemonsets'], ['batch', 'jobs'], ['batch', 'cronjobs'],
  ['rbac.authorization.k8s.io', 'roles'], ['rbac.authorization.k8s.io', 'clusterroles'], ['rbac.authorization.k8s.io', 'clusterrolebindings'],
  ['admissionregistration.k8s.io', 'validatingadmissionpolicies'], ['', 'nodes'],
] as const;

const rbac = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind) as (Manifest & { rules?: Rule[]; roleRef?: { kind: string; name: string }; subjects?: { kind: string; name: string; namespace?: string }[] })[];

/** Every rule that some ClusterRoleBinding of the baseline grants cluster-wide, with its subject. */
function clusterWideGrants(manifests: Manifest[]): { subject: string; rule: Rule }[] {
  const roles = new Map(rbac(manifests, 'ClusterRole').map((r) => [r.metadata.name, r.rules ?? []]));
  return rbac(manifests, 'ClusterRoleBinding').flatMap((binding) => {
    expect(binding.roleRef?.kind).toBe('ClusterRole');
    const rules = roles.get(binding.roleRef!.name);
    expect(rules, `ClusterRoleBinding ${binding.metadata.name} refers to a ClusterRole the baseline does not define`).toBeDefined();
    return (binding.subjects ?? []).flatMap((s) => rules!.map((rule) => ({ subject: `${s.kind}:${s.namespace ?? ''}:${s.name}`, rule })));
  });
}

function grants(rule: Rule, group: string, resource: string, verb: string): boolean {
  const any = (list: readonly string[] | undefined, value: string) => (list ?? []).some((x) => x === '*' || x === value);
  return any(rule.apiGroups, group) && any(rule.resources, resource) && any(rule.verbs, verb);
}

describe('baseline RBAC', () => {
  const manifests = baselineManifests();

  it('grants no cluster-wide write of secrets, service accounts, pods, workloads or RBAC', () => {
    const granted = clusterWideGrants(manifests);
    for (const [group, resource] of SENSITIVE) {
      for (const verb of WRITE) {
        const who = granted
          .filter((g) => grants(g.rule, group, resource, verb))
          // The one exception, by name: binding the agent's namespaced role (what bootstrap is for).
          .filter((g) => !(resource === 'clusterroles' && verb === 'bind' && g.rule.resourceNames?.join() === 'flotilla-agent-namespaced'));
        expect(who, `${verb} ${resource}${group ? `.${group}` : ''} cluster-wide`).toEqual([]);
      }
    }
    // And no wildcards anywhere.
    for (const { rule } of granted) {
      expect([...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs]).not.toContain('*');
    }
  });

  it('grants exactly these rules cluster-wide: the agent reads nodes; the bootstrap account makes namespaces and binds one role', () => {
    const granted = clusterWideGrants(manifests).map(({ subject, rule }) => ({
      subject, groups: rule.apiGroups, resources: rule.resources, verbs: [...rule.verbs].sort(), ...(rule.resourceNames ? { names: rule.resourceNames } : {}),
    }));
    expect(granted).toEqual([
      { subject: 'ServiceAccount:flotilla-system:flotilla-agent', groups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { subject: 'ServiceAccount:flotilla-system:flotilla-bootstrap', groups: [''], resources: ['namespaces'], verbs: ['create', 'delete', 'get'] },
      { subject: 'ServiceAccount:flotilla-system:flotilla-bootstrap', groups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create', 'get'] },
      {
        subject: 'ServiceAccount:flotilla-system:flotilla-bootstrap', groups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'],
        names: ['flotilla-agent-namespaced'],
      },
    ]);
  });

  it('binds the agent\'s namespaced role only through a RoleBinding in one namespace', () => {
    const bindings = rbac(manifests, 'ClusterRoleBinding');
    expect(bindings.filter((b) => b.roleRef?.name === 'flotilla-agent-namespaced')).toEqual([]);
    const role = rbac(manifests, 'ClusterRole').find((r) => r.metadata.name === 'flotilla-agent-namespaced');
    expect(role).toBeDefined();
    // The kinds Flotilla renders, written in its namespaces; pods only read (and port-forwarded
    // to: a container database's data), never created or exec'd into; no RBAC, no nodes.
    const can = (group: string, resource: string, verb: string) => role!.rules!.some((r) => grants(r, group, resource, verb));
    expect(can('apps', 'deployments', 'patch')).toBe(true);
    expect(can('', 'secrets', 'create')).toBe(true);
    expect(can('', 'pods', 'list')).toBe(true);
    expect(can('', 'pods', 'create')).toBe(false);
    expect(role!.rules!.filter((r) => r.resources?.includes('pods/portforward'))).toEqual([{ apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] }]);
    expect(can('', 'pods/exec', 'create')).toBe(false);
    expect(can('', 'pods/attach', 'create')).toBe(false);
    expect(can('', 'namespaces', 'delete')).toBe(false);
    expect(can('rbac.authorization.k8s.io', 'rolebindings', 'create')).toBe(false);

    expect(agentRoleBinding('shop')).toMatchObject({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'flotilla-agent', namespace: 'shop' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flotilla-agent-namespaced' },
      subjects: [{ kind: 'ServiceAccount', name: 'flotilla-agent', namespace: 'flotilla-system' }],
    });
  });
});
