// Drift detection (domain/drift.ts) over hand-written objects shaped as the API server returns
// them: its defaults and status are not drift; hand edits, deletions and extra labelled objects
// are, with the field path and the manager that made them.
import { describe, expect, it } from 'vitest';
import { detectDrift, type LiveManifest } from '../../../domain/drift.js';
import type { Manifest } from '../../../domain/manifest.js';

const labels = { 'flotilla.dev/environment': 'shop-prod', 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.dev/revision': 'abc123' };

const deployment: Manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels },
  spec: {
    replicas: 2,
    selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
    template: {
      metadata: { labels },
      spec: {
        containers: [{
          name: 'web',
          image: 'ghcr.io/acme/web:1.0.0',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'MODE', value: 'prod' }],
          resources: { requests: { cpu: '0.5', memory: '64Mi' } },
        }],
      },
    },
  },
};

const service: Manifest = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', labels },
  spec: { selector: { 'app.kubernetes.io/name': 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
};

const secret: Manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-secrets', namespace: 'shop', labels }, type: 'Opaque', data: {} };

/** The Deployment as the API server keeps it after Flotilla applied it: defaults, status, managedFields. */
function liveDeployment(edit: (d: LiveManifest) => void = () => {}): LiveManifest {
  const live: LiveManifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web', namespace: 'shop', labels: { ...labels }, uid: 'u1', resourceVersion: '17', generation: 1,
      managedFields: [{ manager: 'flotilla', operation: 'Apply', time: '2026-12-01T10:00:00Z', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
    },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
          containers: [{
            name: 'web',
            image: 'ghcr.io/acme/web:1.0.0',
            imagePullPolicy: 'IfNotPresent',
            terminationMessagePath: '/dev/termination-log',
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            env: [{ name: 'MODE', value: 'prod' }],
            resources: { requests: { cpu: '500m', memory: '64Mi' } },
          }],
        },
      },
    },
    status: { replicas: 2, readyReplicas: 2 },
  };
  edit(live);
  return live;
}

const liveService = (): LiveManifest => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: 'shop', labels: { ...labels } },
  spec: { type: 'ClusterIP', clusterIP: '10.0.0.12', selector: { 'app.kubernetes.io/name': 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});

const liveSecret = (): LiveManifest => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-secrets', namespace: 'shop', labels: { ...labels } }, type: 'Opaque' });

type Spec = { replicas: number; template: { spec: { containers: Record<string, unknown>[] } } };
const specOf = (d: LiveManifest) => d.spec as Spec;

describe('detectDrift', () => {
  it('finds none when the live objects carry only the API server\'s defaults and status', () => {
    expect(detectDrift({ expected: [deployment, service, secret], live: [liveDeployment(), liveService(), liveSecret()] })).toEqual([]);
  });

  it('takes an empty list or map rendered as equal to one the API server left out', () => {
    const withEmpty = structuredClone(deployment);
    const container = (withEmpty.spec as Spec).template.spec.containers[0]!;
    container.env = [];
    container.args = [];
    (withEmpty.spec as { template: { metadata: Record<string, unknown> } }).template.metadata.annotations = {};
    const live = liveDeployment((d) => delete specOf(d).template.spec.containers[0]!.env);
    expect(detectDrift({ expected: [withEmpty], live: [live] })).toEqual([]);
  });

  it('reports a hand scale with the manager that made it', () => {
    const live = liveDeployment((d) => {
      specOf(d).replicas = 5;
      d.metadata.managedFields!.push({ manager: 'kubectl', operation: 'Update', subresource: 'scale', time: '2026-12-01T11:00:00Z', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    });
    expect(detectDrift({ expected: [deployment], live: [live] })).toEqual([{
      kind: 'Deployment', namespace: 'shop', name: 'web', reason: 'modified',
      fields: [{ path: 'spec.replicas', expected: 2, actual: 5, changedBy: 'kubectl', changedAt: '2026-12-01T11:00:00Z' }],
    }]);
  });

  it('reports an edited image at its container, named by its key', () => {
    const live = liveDeployment((d) => {
      specOf(d).template.spec.containers[0]!.image = 'ghcr.io/acme/web:6.6.6';
      d.metadata.managedFields!.push({
        manager: 'kubectl-edit', operation: 'Update', time: '2026-12-01T12:00:00Z',
        fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } } },
      });
    });
    expect(detectDrift({ expected: [deployment], live: [live] })[0]!.fields).toEqual([{
      path: 'spec.template.spec.containers[name=web].image', expected: 'ghcr.io/acme/web:1.0.0', actual: 'ghcr.io/acme/web:6.6.6',
      changedBy: 'kubectl-edit', changedAt: '2026-12-01T12:00:00Z',
    }]);
  });

  it('reports an env var added by hand, and one removed', () => {
    const live = liveDeployment((d) => {
      specOf(d).template.spec.containers[0]!.env = [{ name: 'DEBUG', value: '1' }];
    });
    expect(detectDrift({ expected: [deployment], live: [live] })[0]!.fields).toEqual([
      { path: 'spec.template.spec.containers[name=web].env[name=MODE]', expected: { name: 'MODE', value: 'prod' } },
      { path: 'spec.template.spec.containers[name=web].env[name=DEBUG]', actual: { name: 'DEBUG', value: '1' } },
    ]);
  });

  it('reports a deleted Service', () => {
    expect(detectDrift({ expected: [deployment, service], live: [liveDeployment()] })).toEqual([
      { kind: 'Service', namespace: 'shop', name: 'web', reason: 'deleted', fields: [] },
    ]);
  });

  it('reports an extra object labelled as the environment\'s, with who labelled it', () => {
    const stray: LiveManifest = {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: {
        name: 'stray', namespace: 'shop', labels: { 'flotilla.dev/environment': 'shop-prod', 'app.kubernetes.io/managed-by': 'flotilla' },
        managedFields: [
          // The same second: who set the environment label decides, not the order.
          { manager: 'kubectl-label', operation: 'Update', time: '2026-12-01T13:00:00Z', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:flotilla.dev/environment': {}, 'f:app.kubernetes.io/managed-by': {} } } } },
          { manager: 'kubectl-create', operation: 'Update', time: '2026-12-01T13:00:00Z', fieldsV1: { 'f:data': { 'f:a': {} } } },
        ],
      },
      data: { a: 'b' },
    };
    expect(detectDrift({ expected: [deployment], live: [liveDeployment(), stray] })).toEqual([
      { kind: 'ConfigMap', namespace: 'shop', name: 'stray', reason: 'extra', fields: [], changedBy: 'kubectl-label', changedAt: '2026-12-01T13:00:00Z' },
    ]);
  });

  it('does not count objects another object owns (they inherit the labels)', () => {
    const owned: LiveManifest = {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'web-7d9f', namespace: 'shop', labels: { ...labels }, ownerReferences: [{ kind: 'Deployment', name: 'web' }] },
    };
    expect(detectDrift({ expected: [deployment], live: [liveDeployment(), owned] })).toEqual([]);
  });

  it('ignores replicas while an autoscaler targets the workload, and only then', () => {
    const scaled = liveDeployment((d) => (specOf(d).replicas = 7));
    expect(detectDrift({ expected: [deployment], live: [scaled], autoscaled: new Set(['Deployment/web']) })).toEqual([]);
    expect(detectDrift({ expected: [deployment], live: [scaled] })[0]!.fields.map((f) => f.path)).toEqual(['spec.replicas']);
  });

  it('ignores Secret values (filled from the catalog at deploy time) but not a changed label', () => {
    const withValues = { ...liveSecret(), data: { PAYMENTS_KEY: 'c2VjcmV0' } };
    expect(detectDrift({ expected: [secret], live: [withValues] })).toEqual([]);
    const relabelled = liveSecret();
    relabelled.metadata.labels!['flotilla.dev/revision'] = 'zzz';
    expect(detectDrift({ expected: [secret], live: [relabelled] })[0]!.fields).toEqual([
      { path: 'metadata.labels.flotilla.dev/revision', expected: 'abc123', actual: 'zzz' },
    ]);
  });

  it('matches volumeClaimTemplates by their name, ignoring what the API server adds', () => {
    const statefulSet: Manifest = {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop', labels },
      spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } }] },
    };
    const live = (storage: string): LiveManifest => ({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop', labels: { ...labels } },
      spec: { volumeClaimTemplates: [{ kind: 'PersistentVolumeClaim', apiVersion: 'v1', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, volumeMode: 'Filesystem' }, status: { phase: 'Pending' } }] },
    });
    expect(detectDrift({ expected: [statefulSet], live: [live('5Gi')] })).toEqual([]);
    expect(detectDrift({ expected: [statefulSet], live: [live('9Gi')] })[0]!.fields).toEqual([
      { path: 'spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage', expected: '5Gi', actual: '9Gi' },
    ]);
  });

  it('compares quantities by value, not by spelling', () => {
    const live = liveDeployment((d) => {
      (specOf(d).template.spec.containers[0]!.resources as { requests: Record<string, string> }).requests.cpu = '250m';
    });
    expect(detectDrift({ expected: [deployment], live: [live] })[0]!.fields).toEqual([
      { path: 'spec.template.spec.containers[name=web].resources.requests.cpu', expected: '0.5', actual: '250m' },
    ]);
  });
});
