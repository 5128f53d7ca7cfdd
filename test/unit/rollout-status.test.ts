import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deploymentsOf } from '../../domain/manifest.js';
import { deploymentRollout } from '../../providers/kubernetes/rollout.js';

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
