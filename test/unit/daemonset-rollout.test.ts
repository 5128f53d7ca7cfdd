// A chart's DaemonSets are waited on (issue 14): their rollout is read the way kubectl's DaemonSet
// status viewer reads it: the controller has observed the latest generation, and every node that
// should run a pod runs an updated one that is available.
import type { V1DaemonSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { daemonSetRollout } from '../../providers/kubernetes/rollout.js';

function daemonSet(generation: number, status: V1DaemonSet['status'], updateStrategy?: NonNullable<V1DaemonSet['spec']>['updateStrategy']): V1DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'node-agent', namespace: 'shop-prod', generation },
    spec: { selector: { matchLabels: { app: 'node-agent' } }, template: {}, ...(updateStrategy ? { updateStrategy } : {}) },
    ...(status ? { status } : {}),
  };
}

describe('daemonSetRollout', () => {
  it('is done when the latest generation is observed and every scheduled pod is updated and available', () => {
    const set = daemonSet(2, { observedGeneration: 2, currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3 });
    expect(daemonSetRollout(set)).toEqual({ kind: 'DaemonSet', namespace: 'shop-prod', name: 'node-agent', desired: 3, updated: 3, ready: 3, done: true });
  });

  it('is not done while the controller has not observed the latest generation (its counts are of the old template)', () => {
    const set = daemonSet(3, { observedGeneration: 2, currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3 });
    expect(daemonSetRollout(set)).toEqual({ kind: 'DaemonSet', namespace: 'shop-prod', name: 'node-agent', desired: 3, updated: 3, ready: 3, done: false });
  });

  it('is not done while some nodes still run the old pod', () => {
    const set = daemonSet(2, { observedGeneration: 2, currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 2, numberAvailable: 3 });
    expect(daemonSetRollout(set)).toEqual({ kind: 'DaemonSet', namespace: 'shop-prod', name: 'node-agent', desired: 3, updated: 2, ready: 3, done: false });
  });

  it('counts available pods, not merely ready ones (minReadySeconds)', () => {
    const set = daemonSet(2, { observedGeneration: 2, currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 2 });
    expect(daemonSetRollout(set)).toEqual({ kind: 'DaemonSet', namespace: 'shop-prod', name: 'node-agent', desired: 3, updated: 3, ready: 2, done: false });
  });

  it('a DaemonSet no node should run is done once observed', () => {
    const set = daemonSet(1, { observedGeneration: 1, currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 });
    expect(daemonSetRollout(set)).toEqual({ kind: 'DaemonSet', namespace: 'shop-prod', name: 'node-agent', desired: 0, updated: 0, ready: 0, done: true });
  });

  it('a DaemonSet the controller has not looked at yet (no status) is not done', () => {
    expect(daemonSetRollout(daemonSet(1, undefined))).toEqual({ kind: 'DaemonSet', namespace: 'shop-prod', name: 'node-agent', desired: 0, updated: 0, ready: 0, done: false });
  });

  it('a status without observedGeneration is not trusted, even for generation 0', () => {
    const set = daemonSet(0, { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 });
    expect(daemonSetRollout(set).done).toBe(false);
  });

  it('an OnDelete DaemonSet is done once every pod is available: its pods are replaced only when deleted, so waiting for updated ones would wait out the timeout', () => {
    // As statefulSetRollout treats an OnDelete StatefulSet (only RollingUpdate waits for updated pods).
    const set = daemonSet(2, { observedGeneration: 2, currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 0, numberAvailable: 3 }, { type: 'OnDelete' });
    expect(daemonSetRollout(set)).toEqual({ kind: 'DaemonSet', namespace: 'shop-prod', name: 'node-agent', desired: 3, updated: 0, ready: 3, done: true });
  });
});
