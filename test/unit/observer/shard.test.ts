import { describe, expect, it } from 'vitest';
import { presenceKey, shardPlan, type LeaseRow } from '../../../observer/shard.js';

const NOW = '2026-12-07T10:00:00.000Z';
const LATER = '2026-12-07T10:00:15.000Z';
const EARLIER = '2026-12-07T09:59:45.000Z';
const alive = (observer: string): LeaseRow => ({ cluster: presenceKey(observer), holder: observer, expiresAt: LATER });
const held = (cluster: string, holder: string, expiresAt = LATER): LeaseRow => ({ cluster, holder, expiresAt });
const CLUSTERS = ['c1', 'c2', 'c3', 'c4', 'c5'];

describe('shardPlan', () => {
  it('a lone observer holds every cluster', () => {
    expect(shardPlan(CLUSTERS, [], 'a', NOW)).toEqual({ hold: ['c1', 'c2', 'c3', 'c4', 'c5'], release: [], share: 5, observers: 1 });
  });

  it('a newcomer counts at once: the holder gives up what is above its share, the newcomer takes free clusters only', () => {
    const leases = [alive('a'), alive('b'), ...CLUSTERS.map((c) => held(c, 'a'))];
    // a: ceil(5 / 2) = 3 kept, the last two released.
    expect(shardPlan(CLUSTERS, leases, 'a', NOW)).toEqual({ hold: ['c1', 'c2', 'c3'], release: ['c4', 'c5'], share: 3, observers: 2 });
    // b, before a has released: nothing is free, so nothing to take yet.
    expect(shardPlan(CLUSTERS, leases, 'b', NOW).hold).toEqual([]);
    // b, after: the two released.
    const after = [alive('a'), alive('b'), held('c1', 'a'), held('c2', 'a'), held('c3', 'a')];
    expect(shardPlan(CLUSTERS, after, 'b', NOW)).toEqual({ hold: ['c4', 'c5'], release: [], share: 3, observers: 2 });
  });

  it('a dead observer: its presence and leases lapse, and the survivor takes its clusters', () => {
    const leases = [alive('a'), { ...alive('b'), expiresAt: EARLIER }, held('c1', 'a'), held('c2', 'a'), held('c3', 'a'), held('c4', 'b', EARLIER), held('c5', 'b', EARLIER)];
    expect(shardPlan(CLUSTERS, leases, 'a', NOW)).toEqual({ hold: ['c1', 'c2', 'c3', 'c4', 'c5'], release: [], share: 5, observers: 1 });
  });

  it('never takes a cluster another live observer holds, even below its share', () => {
    const leases = [alive('a'), alive('b'), alive('c'), held('c1', 'b'), held('c2', 'b'), held('c3', 'b'), held('c4', 'c'), held('c5', 'c')];
    expect(shardPlan(CLUSTERS, leases, 'a', NOW)).toEqual({ hold: [], release: [], share: 2, observers: 3 });
  });

  it('renews its own lease even when it lapsed, before taking free ones', () => {
    const leases = [alive('a'), alive('b'), held('c3', 'a', EARLIER), held('c1', 'b')];
    expect(shardPlan(CLUSTERS, leases, 'a', NOW)).toEqual({ hold: ['c3', 'c2', 'c4'], release: [], share: 3, observers: 2 });
  });

  it('presence rows are not clusters, and clusters no longer observed are not held', () => {
    const leases = [alive('a'), held('gone', 'a')];
    expect(shardPlan(['c1'], leases, 'a', NOW)).toEqual({ hold: ['c1'], release: [], share: 1, observers: 1 });
  });
});
