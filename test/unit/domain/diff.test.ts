import { describe, expect, it } from 'vitest';
import { deepDiff, diffEnvironments, diffLive } from '../../../domain/diff.js';
import type { Environment } from '../../../domain/environment.js';
import type { Manifest } from '../../../domain/manifest.js';
import { render } from '../../../domain/render.js';
import { revisionOf } from '../../../domain/revision.js';
import { shop } from '../../support/domain.js';

describe('deepDiff', () => {
  it('reports leaf paths', () => {
    expect(deepDiff({ a: [1, { b: 2 }], c: 'x' }, { a: [1, { b: 3 }], c: 'x', d: true })).toEqual([
      { path: 'a[1].b', a: 2, b: 3 },
      { path: 'd', a: undefined, b: true },
    ]);
  });
});

describe('diffEnvironments', () => {
  const staging = shop();
  const prodOverrides = { ...staging.overrides, replicas: { web: 6, api: 4 }, hostnames: { web: 'shop.example' }, config: { 'public-url': 'https://shop.example' } };
  const prod: Environment = { binding: { ...staging.binding, name: 'shop-prod', tier: 'prod' }, spec: staging.spec, overrides: prodOverrides };

  it('holds overrides only when the specs are the same (zero drift)', () => {
    const diff = diffEnvironments(staging, prod);
    expect(diff.other).toEqual([]);
    expect(diff.overrides.map((d) => d.path)).toEqual([
      'overrides.config.public-url', 'overrides.hostnames.web', 'overrides.replicas.api', 'overrides.replicas.web',
    ]);
  });

  it('ignores the order of services', () => {
    const reordered = { ...prod, spec: { ...prod.spec, services: [...prod.spec.services].reverse() } };
    expect(diffEnvironments(staging, reordered).other).toEqual([]);
  });

  it('reports a spec difference as something other than an override', () => {
    const drifted = { ...prod, spec: { ...prod.spec, services: prod.spec.services.map((s) => (s.name === 'cart' ? { ...s, image: 'ghcr.io/acme/cart:9' } : s)) } };
    const { other } = diffEnvironments(staging, drifted);
    expect(other).toEqual([{ path: expect.stringMatching(/^services\[\d+\]\.image$/), a: 'ghcr.io/acme/cart:1.2.0', b: 'ghcr.io/acme/cart:9' }]);
  });
});

describe('diffLive', () => {
  const env = shop();
  const rendered = render({ ...env, revision: revisionOf(env.spec) });
  // What a server gives back: rendered fields plus defaults, status and normalised quantities.
  const asLive = (m: Manifest): Manifest => {
    const copy = structuredClone(m) as Manifest & { spec?: Record<string, unknown> };
    copy.metadata = { ...copy.metadata, ...{ uid: 'u-1', resourceVersion: '42' } } as Manifest['metadata'];
    if (copy.kind === 'Deployment') {
      const spec = copy.spec as { strategy?: unknown; template: { spec: { containers: { resources?: { limits?: { cpu?: string } }; imagePullPolicy?: string }[] } } };
      spec.strategy = { type: 'RollingUpdate' };
      const c = spec.template.spec.containers[0]!;
      c.imagePullPolicy = 'IfNotPresent';
      if (c.resources?.limits?.cpu === '500m') c.resources.limits.cpu = '0.5';
    }
    if (copy.kind === 'Secret') copy.data = { STRIPE_KEY: 'c2VjcmV0' };
    return copy;
  };

  it('finds no drift when live objects hold what was rendered plus server defaults', () => {
    expect(diffLive(rendered, rendered.map(asLive))).toEqual({ missing: [], extra: [], changed: [] });
  });

  it('reports missing, extra and changed objects with field paths', () => {
    const live = rendered.map(asLive).filter((m) => !(m.kind === 'Service' && m.metadata.name === 'email'));
    const cart = live.find((m) => m.kind === 'Deployment' && m.metadata.name === 'cart') as Manifest & { spec: { replicas: number } };
    cart.spec.replicas = 7;
    live.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', namespace: 'shop-staging' } });
    const drift = diffLive(rendered, live);
    expect(drift.missing).toEqual([{ apiVersion: 'v1', kind: 'Service', namespace: 'shop-staging', name: 'email' }]);
    expect(drift.extra).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop-staging', name: 'stray' }]);
    expect(drift.changed).toEqual([{ object: expect.objectContaining({ kind: 'Deployment', name: 'cart' }), path: 'spec.replicas', expected: 2, actual: 7 }]);
  });
});
