import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deploymentsOf } from '../../domain/manifest.js';
import { commonSelector, describeProblems, podProblems, selectorMatches } from '../../providers/kubernetes/pod-problems.js';
import { deploymentRollout, deploymentWorkload } from '../../providers/kubernetes/rollout.js';

function deployment(spec: { replicas?: number; generation?: number }, status: V1Deployment['status']): V1Deployment {
  return {
    metadata: { name: 'web', namespace: 'shop', generation: spec.generation ?? 1 },
    spec: { replicas: spec.replicas, selector: {}, template: {} },
    status,
  };
}

describe('deploymentRollout', () => {
  it('is done when every replica is updated and available for the current generation', () => {
    const r = deploymentRollout(deployment({ replicas: 3 }, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }));
    expect(r).toEqual({ namespace: 'shop', name: 'web', replicas: 3, updated: 3, ready: 3, available: 3, done: true });
  });

  it('is not done while the controller has not observed the latest generation', () => {
    const r = deploymentRollout(deployment({ replicas: 1, generation: 2 }, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }));
    expect(r.done).toBe(false);
  });

  it('is not done while old replicas remain', () => {
    const r = deploymentRollout(deployment({ replicas: 2 }, { observedGeneration: 1, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }));
    expect(r.done).toBe(false);
  });

  it('is not done while replicas are updated but not yet available', () => {
    const r = deploymentRollout(deployment({ replicas: 2 }, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }));
    expect(r.done).toBe(false);
  });

  it('counts an omitted replica count as one, as Kubernetes defaults it', () => {
    const r = deploymentRollout(deployment({}, {}));
    expect(r).toMatchObject({ replicas: 1, updated: 0, available: 0, done: false });
  });
});

describe('deploymentsOf', () => {
  it('lists the Deployments of a manifest set, defaulting the namespace', () => {
    expect(
      deploymentsOf([
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } },
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } },
      ]),
    ).toEqual([{ namespace: 'shop', name: 'web' }, { namespace: 'default', name: 'api' }]);
  });
});

describe('deploymentWorkload', () => {
  const stalled = (generation: number, observedGeneration: number): V1Deployment => ({
    metadata: { name: 'web', namespace: 'shop', generation },
    spec: { replicas: 1, selector: {}, template: {} },
    status: {
      observedGeneration, replicas: 1, updatedReplicas: 1, availableReplicas: 0,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-7d9" has timed out progressing.' }],
    },
  });

  it('reports a Deployment past its progress deadline as stalled', () => {
    expect(deploymentWorkload(stalled(2, 2))).toEqual({
      kind: 'Deployment', namespace: 'shop', name: 'web', desired: 1, updated: 1, ready: 0, done: false,
      stalled: { reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-7d9" has timed out progressing.' },
    });
  });

  it('does not trust the condition of a generation the controller has not observed', () => {
    expect(deploymentWorkload(stalled(3, 2)).stalled).toBeUndefined();
  });
});

describe('podProblems', () => {
  const base = { metadata: { name: 'web-1' } };

  it('reads an unschedulable pod from its PodScheduled condition', () => {
    const pod: V1Pod = { ...base, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }] } };
    expect(podProblems(pod)).toEqual([{ pod: 'web-1', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }]);
  });

  it('reads waiting containers and init containers, ignoring ordinary start-up', () => {
    const pod: V1Pod = {
      ...base,
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'init', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'InvalidImageName', message: 'couldn\'t parse image name' } } }],
        containerStatuses: [
          { name: 'web', image: 'w', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
          { name: 'side', image: 's', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
        ],
      },
    };
    expect(podProblems(pod)).toEqual([{ pod: 'web-1', container: 'init', init: true, reason: 'InvalidImageName', message: 'couldn\'t parse image name' }]);
  });

  it('says nothing of a running, finished or terminating pod', () => {
    const running: V1Pod = { ...base, status: { phase: 'Running', containerStatuses: [{ name: 'web', image: 'w', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } };
    const gone: V1Pod = { metadata: { name: 'web-1', deletionTimestamp: new Date(0) }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } };
    expect(podProblems(running)).toEqual([]);
    expect(podProblems(gone)).toEqual([]);
    expect(podProblems({ ...base, status: { phase: 'Succeeded' } })).toEqual([]);
  });
});

describe('pod selection', () => {
  it('matches matchLabels and matchExpressions; an empty selector matches nothing', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorMatches({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'api' } }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({}, labels)).toBe(false);
  });

  it('lists with one selector that covers every workload of a namespace', () => {
    expect(commonSelector([{ matchLabels: { app: 'web', env: 'shop' } }, { matchLabels: { env: 'shop', app: 'api' } }])).toBe('app in (api,web),env=shop');
    expect(commonSelector([{ matchLabels: { app: 'web' } }, { matchLabels: { 'controller-uid': 'u1' } }])).toBeUndefined();
    expect(commonSelector([{ matchLabels: { app: 'web' } }, undefined])).toBeUndefined();
  });

  it('says identical problems of many pods once', () => {
    const p = (pod: string) => ({ pod, reason: 'Unschedulable', message: 'no nodes' });
    expect(describeProblems([p('a'), p('b')])).toEqual(['pods a, b: Unschedulable: no nodes']);
    expect(describeProblems([p('a'), p('b'), p('c'), p('d')], 3)).toEqual(['pods a, b and 2 more: Unschedulable: no nodes', '3 more pod problems']);
  });
});
