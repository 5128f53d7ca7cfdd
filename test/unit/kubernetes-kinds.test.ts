// Apply order, object identity, selectors and workload status: the pure parts of the layer.
import type { V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyTier, applyTiers, builtinKind, objectKey } from '../../providers/kubernetes/kinds.js';
import { environmentLabels, formatSelector, isManagedByFlotilla, matchesLabels } from '../../providers/kubernetes/labels.js';
import { splitLines } from '../../providers/kubernetes/logs.js';
import { jobRollout, statefulSetRollout } from '../../providers/kubernetes/rollout.js';

const o = (apiVersion: string, kind: string, name = kind.toLowerCase()) => ({ apiVersion, kind, metadata: { name } });

describe('apply order', () => {
  it('puts namespaces, then cluster-scoped kinds, config, services, workloads, and the rest', () => {
    const objects = [
      o('networking.k8s.io/v1', 'Ingress'),
      o('apps/v1', 'Deployment'),
      o('v1', 'Service'),
      o('example.com/v1', 'Widget'),
      o('batch/v1', 'Job'),
      o('v1', 'Secret'),
      o('rbac.authorization.k8s.io/v1', 'ClusterRole'),
      o('v1', 'ConfigMap'),
      o('apps/v1', 'StatefulSet'),
      o('v1', 'ServiceAccount'),
      o('v1', 'Namespace'),
    ];
    expect(applyTiers(objects).map((tier) => tier.map((x) => x.kind))).toEqual([
      ['Namespace'],
      ['ClusterRole'],
      ['Secret', 'ConfigMap', 'ServiceAccount'],
      ['Service'],
      ['Deployment', 'Job', 'StatefulSet'],
      ['Ingress', 'Widget'],
    ]);
  });

  it('does not mistake a custom kind named like a built-in for the built-in', () => {
    expect(applyTier({ apiVersion: 'example.com/v1', kind: 'Service' })).toBe(5);
    expect(applyTier({ apiVersion: 'example.com/v1', kind: 'Namespace' })).toBe(5);
  });

  it('knows the REST names of built-in kinds', () => {
    expect(builtinKind('networking.k8s.io/v1', 'Ingress')).toEqual({ group: 'networking.k8s.io', kind: 'Ingress', plural: 'ingresses', namespaced: true });
    expect(builtinKind('v1', 'Namespace')?.namespaced).toBe(false);
    expect(builtinKind('example.com/v1', 'Widget')).toBeUndefined();
  });
});

describe('objectKey', () => {
  it('identifies an object by group, kind, namespace and name, not by version', () => {
    expect(objectKey({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' })).toBe('apps/Deployment/ns/web');
    expect(objectKey({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace: 'ns', name: 'a' })).toBe(
      objectKey({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', namespace: 'ns', name: 'a' }),
    );
    expect(objectKey({ apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'web' })).not.toBe(
      objectKey({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'web' }),
    );
  });
});

describe('labels', () => {
  it('select an environment and what Flotilla manages', () => {
    const labels = environmentLabels('shop-prod');
    expect(formatSelector(labels)).toBe('app.kubernetes.io/managed-by=flotilla,flotilla.dev/environment=shop-prod');
    expect(isManagedByFlotilla(labels)).toBe(true);
    expect(isManagedByFlotilla({ 'app.kubernetes.io/managed-by': 'Helm' })).toBe(false);
    expect(isManagedByFlotilla(undefined)).toBe(false);
    expect(matchesLabels({ ...labels, extra: 'x' }, labels)).toBe(true);
    expect(matchesLabels({ 'flotilla.dev/environment': 'shop-prod' }, labels)).toBe(false);
  });
});

describe('statefulSetRollout', () => {
  const set = (status: V1StatefulSet['status'], spec: Partial<NonNullable<V1StatefulSet['spec']>> = {}): V1StatefulSet => ({
    metadata: { name: 'db', namespace: 'ns', generation: 2 },
    spec: { replicas: 3, selector: {}, serviceName: 'db', template: {}, ...spec },
    status,
  });

  it('is done when observed, ready and on one revision', () => {
    expect(statefulSetRollout(set({ observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: 'r2', updateRevision: 'r2' }))).toEqual({
      kind: 'StatefulSet', namespace: 'ns', name: 'db', desired: 3, updated: 3, ready: 3, done: true,
    });
  });

  it('is not done while an update is in progress or the generation is unobserved', () => {
    expect(statefulSetRollout(set({ observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' })).done).toBe(false);
    expect(statefulSetRollout(set({ observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: 'r2', updateRevision: 'r2' })).done).toBe(false);
    expect(statefulSetRollout(set({ observedGeneration: 2, replicas: 3, readyReplicas: 2, updatedReplicas: 3, currentRevision: 'r2', updateRevision: 'r2' })).done).toBe(false);
  });

  it('counts only pods above the partition of a partitioned update', () => {
    const partitioned = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } };
    expect(statefulSetRollout(set({ observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' }, partitioned)).done).toBe(true);
  });
});

describe('jobRollout', () => {
  const job = (status: V1Job['status']): V1Job => ({ metadata: { name: 'migrate', namespace: 'ns' }, spec: { template: {} }, status });

  it('is done when Complete', () => {
    expect(jobRollout(job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }))).toEqual({
      kind: 'Job', namespace: 'ns', name: 'migrate', desired: 1, updated: 1, ready: 1, done: true,
    });
  });

  it('reports a failure from Failed or FailureTarget', () => {
    expect(jobRollout(job({ failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'too many' }] })).failure).toEqual({
      reason: 'BackoffLimitExceeded',
      message: 'too many',
    });
    expect(jobRollout(job({ conditions: [{ type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded' }] }))).toMatchObject({ done: false, failure: { reason: 'DeadlineExceeded' } });
  });

  it('is neither while running', () => {
    const r = jobRollout(job({ active: 1 }));
    expect(r.done).toBe(false);
    expect(r.failure).toBeUndefined();
  });
});

describe('splitLines', () => {
  it('splits a log into lines without a trailing empty one', () => {
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines(undefined)).toEqual([]);
  });
});
