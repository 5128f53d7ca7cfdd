import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppSpec } from '../../../domain/environment.js';
import { revisionOf, shortRevision } from '../../../domain/revision.js';
import { shop, shuffleKeys } from '../../support/domain.js';

describe('revisionOf', () => {
  const spec = shop().spec;

  it('is a sha256 content hash', () => {
    expect(revisionOf(spec)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(shortRevision(revisionOf(spec))).toMatch(/^[0-9a-f]{12}$/);
  });

  it('ignores key order (property)', () => {
    fc.assert(fc.property(fc.integer(), (seed) => {
      let s = seed;
      const random = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      return revisionOf(shuffleKeys(spec, random) as AppSpec) === revisionOf(spec);
    }), { numRuns: 100 });
  });

  it('ignores the order of services, databases and secret names', () => {
    const reordered: AppSpec = { ...spec, services: [...spec.services].reverse(), databases: [...spec.databases].reverse(), secrets: [...spec.secrets].reverse() };
    expect(revisionOf(reordered)).toBe(revisionOf(spec));
  });

  it('changes when anything meaningful changes', () => {
    const base = revisionOf(spec);
    const image = { ...spec, services: spec.services.map((s, i) => (i === 0 ? { ...s, image: `${s.image}-1` } : s)) };
    const config = { ...spec, config: { ...spec.config, 'log-level': 'debug' } };
    const command = { ...spec, services: spec.services.map((s) => (s.migration ? { ...s, migration: { command: [...s.migration.command].reverse() } } : s)) };
    expect(new Set([base, revisionOf(image), revisionOf(config), revisionOf(command)]).size).toBe(4);
  });
});
