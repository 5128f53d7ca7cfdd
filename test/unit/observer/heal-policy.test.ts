// When the observer heals drift (observer/heal.ts HealPolicy): at once the first time, never
// while a heal runs, then only after a pause that doubles while the drift keeps coming back, and
// afresh after a quiet spell; drift a deploy cannot mend (an extra object) is never healed.
import { describe, expect, it } from 'vitest';
import type { ObjectDrift } from '../../../domain/drift.js';
import { HealPolicy } from '../../../observer/heal.js';

const scaled: ObjectDrift[] = [{ kind: 'Deployment', name: 'web', reason: 'modified', fields: [{ path: 'spec.replicas', expected: 1, actual: 3 }] }];
const extra: ObjectDrift[] = [{ kind: 'ConfigMap', name: 'stray', reason: 'extra', fields: [] }];
const s = (seconds: number) => seconds * 1000;

describe('HealPolicy', () => {
  it('heals at once, not again while the heal runs, then waits 30 s, 60 s, 120 s … between heals', () => {
    const policy = new HealPolicy();
    expect(policy.shouldHeal('shop', scaled, s(0))).toBe(true);
    policy.started('shop', s(0));
    expect(policy.shouldHeal('shop', scaled, s(1))).toBe(false);
    policy.running('shop', 'heal-1');
    expect(policy.inFlight()).toEqual([{ environment: 'shop', operationId: 'heal-1' }]);
    expect(policy.shouldHeal('shop', scaled, s(40))).toBe(false);
    policy.finished('shop');
    // The same drift came back: 30 s after the first heal.
    expect(policy.shouldHeal('shop', scaled, s(29))).toBe(false);
    expect(policy.shouldHeal('shop', scaled, s(30))).toBe(true);
    policy.started('shop', s(30));
    policy.finished('shop');
    expect(policy.shouldHeal('shop', scaled, s(89))).toBe(false);
    expect(policy.shouldHeal('shop', scaled, s(90))).toBe(true);
    policy.started('shop', s(90));
    policy.finished('shop');
    expect(policy.shouldHeal('shop', scaled, s(209))).toBe(false);
    expect(policy.shouldHeal('shop', scaled, s(210))).toBe(true);
  });

  it('caps the pause', () => {
    const policy = new HealPolicy({ firstBackoffMs: s(30), maxBackoffMs: s(100) });
    let at = 0;
    for (let i = 0; i < 6; i++) {
      expect(policy.shouldHeal('shop', scaled, at)).toBe(true);
      policy.started('shop', at);
      policy.finished('shop');
      at += s(100);
    }
  });

  it('starts over after ten drift-free minutes', () => {
    const policy = new HealPolicy();
    policy.started('shop', s(0));
    policy.finished('shop');
    expect(policy.shouldHeal('shop', [], s(599))).toBe(false);
    expect(policy.shouldHeal('shop', scaled, s(20))).toBe(false);
    expect(policy.shouldHeal('shop', [], s(600))).toBe(false);
    // Forgotten: a new drift heals at once.
    expect(policy.shouldHeal('shop', scaled, s(601))).toBe(true);
  });

  it('never heals an extra object (not Flotilla\'s to delete), and keeps environments apart', () => {
    const policy = new HealPolicy();
    expect(policy.shouldHeal('shop', extra, s(0))).toBe(false);
    policy.started('shop', s(0));
    expect(policy.shouldHeal('blog', scaled, s(1))).toBe(true);
  });
});
