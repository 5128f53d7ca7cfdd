import { describe, expect, it } from 'vitest';
import type { Environment } from '../../../domain/environment.js';
import { evaluateRules, inWindow, parseImage, Rules, type ChangeTarget, type RulesInput } from '../../../domain/rules.js';
import { shop } from '../../support/domain.js';

const at = '2026-11-25T10:00:00Z'; // a Wednesday
// Each target on a cluster of its own tier (domain/placement.ts), unless a test says otherwise.
const target = (env: Environment, clusterLabels: Record<string, string> = { geo: 'us' }): ChangeTarget => ({
  ...env,
  cluster: { name: env.binding.cluster, labels: { tier: env.binding.tier, ...clusterLabels } },
});
const check = (rules: RulesInput, targets: ChangeTarget[], when = at) =>
  evaluateRules(Rules.parse(rules), { kind: 'deploy', at: when, targets });

function withService(env: Environment, name: string, patch: Record<string, unknown>): Environment {
  return { ...env, spec: { ...env.spec, services: env.spec.services.map((s) => (s.name === name ? { ...s, ...patch } : s)) } };
}

describe('evaluateRules', () => {
  const staging = shop();

  it('scrubbedCopies: data of the listed tiers leaves them only scrubbed, except into the tiers it names; other changes are not judged', () => {
    const clone = (tier: 'preview' | 'dr' | 'prod', source: 'prod' | 'staging', modes: Record<string, 'snapshot' | 'scrubbed' | 'schema' | 'none'>, rules: RulesInput) => {
      const env = shop({ name: 'shop-copy', tier });
      return evaluateRules(Rules.parse(rules), {
        kind: 'clone', at, targets: [target(env)],
        copy: { sourceTier: source, databases: Object.entries(modes).map(([database, mode]) => ({ database, mode })) },
      });
    };
    const rule = { scrubbedCopies: { exceptTiers: ['dr' as const] } };
    expect(clone('preview', 'prod', { 'orders-db': 'snapshot', ledger: 'scrubbed', cache: 'schema' }, rule).violations).toEqual([{
      rule: 'scrubbedCopies', severity: 'error', object: 'database/shop-copy/orders-db', field: 'data.orders-db',
      message: 'data of a prod environment goes into tier preview only scrubbed, not as a snapshot (as it is only into dr)',
    }]);
    expect(clone('preview', 'prod', { 'orders-db': 'scrubbed' }, rule).allowed).toBe(true);
    expect(clone('dr', 'prod', { 'orders-db': 'snapshot' }, rule).allowed).toBe(true);
    expect(clone('preview', 'staging', { 'orders-db': 'snapshot' }, rule).allowed).toBe(true);
    expect(clone('preview', 'prod', { 'orders-db': 'snapshot' }, {}).allowed).toBe(true);
    expect(clone('preview', 'prod', { 'orders-db': 'snapshot' }, { scrubbedCopies: { enforcement: 'warn' } })).toMatchObject({ allowed: true, warnings: [expect.objectContaining({ rule: 'scrubbedCopies' })] });
  });

  it('allows a change that breaks no rule', () => {
    const verdict = check({ requireResourceLimits: {}, forbidLatestTag: {}, allowedRegistries: { registries: ['ghcr.io/acme'] } }, [target(staging)]);
    expect(verdict).toMatchObject({ allowed: true, violations: [], warnings: [] });
  });

  it('requires resource limits, naming service and field', () => {
    const env = withService(staging, 'cart', { resources: { requests: { cpu: '100m' } } });
    const { violations } = check({ requireResourceLimits: {} }, [target(env)]);
    expect(violations).toEqual([
      { rule: 'requireResourceLimits', severity: 'error', object: 'service/shop-staging/cart', field: 'spec.app.services[2].resources.limits.cpu', message: 'no cpu limit set' },
      { rule: 'requireResourceLimits', severity: 'error', object: 'service/shop-staging/cart', field: 'spec.app.services[2].resources.limits.memory', message: 'no memory limit set' },
    ]);
  });

  it('allows only listed registries', () => {
    const env = withService(staging, 'web', { image: 'docker.io/evil/web:1.0' });
    const { violations } = check({ allowedRegistries: { registries: ['ghcr.io/acme'] } }, [target(env)]);
    expect(violations).toEqual([expect.objectContaining({ rule: 'allowedRegistries', object: 'service/shop-staging/web', field: 'spec.app.services[0].image' })]);
  });

  it('refuses latest and untagged images, but not digests', () => {
    const latest = withService(staging, 'web', { image: 'ghcr.io/acme/web:latest' });
    const untagged = withService(latest, 'api', { image: 'ghcr.io/acme/api' });
    const digest = withService(untagged, 'cart', { image: 'ghcr.io/acme/cart@sha256:abc' });
    const { violations } = check({ forbidLatestTag: {} }, [target(digest)]);
    expect(violations.map((v) => [v.object, v.message])).toEqual([
      ['service/shop-staging/web', 'image "ghcr.io/acme/web:latest" uses the "latest" tag'],
      ['service/shop-staging/api', 'image "ghcr.io/acme/api" has no tag; pin a version or digest'],
    ]);
  });

  it('checks minimum replicas per tier on the effective spec (after overrides)', () => {
    const prod: Environment = { ...staging, binding: { ...staging.binding, tier: 'prod' }, overrides: { ...staging.overrides, replicas: { web: 1 } } };
    const { violations } = check({ minReplicas: { perTier: { prod: 2 } } }, [target(prod)]);
    expect(violations).toEqual([expect.objectContaining({ rule: 'minReplicas', object: 'service/shop-staging/web', field: 'spec.overrides.replicas.web', message: '1 replicas; tier prod needs at least 2' })]);
    expect(check({ minReplicas: { perTier: { prod: 2 } } }, [target(staging)]).violations).toEqual([]);
  });

  it('keeps a resident environment on clusters of its geography', () => {
    const eu = shop({ residency: 'eu' });
    expect(check({ residency: {} }, [target(eu, { geo: 'eu' })]).allowed).toBe(true);
    const { violations } = check({ residency: {} }, [target(eu, { geo: 'us' })]);
    expect(violations).toEqual([expect.objectContaining({
      rule: 'residency', object: 'environment/shop-staging', field: 'spec.cluster',
      message: 'residency "eu" needs a cluster labelled geo=eu; cluster "local-dev" is geo=us',
    })]);
  });

  it('refuses changes to a frozen tier, absolute and weekly', () => {
    const rules = { freezeWindows: [{ name: 'black friday', tiers: ['staging' as const], from: '2026-11-25T00:00:00Z', to: '2026-11-26T00:00:00Z' }] };
    expect(check(rules, [target(staging)]).violations).toEqual([expect.objectContaining({ rule: 'freezeWindows', field: 'freezeWindows[0]' })]);
    expect(check(rules, [target(staging)], '2026-11-26T00:00:00Z').allowed).toBe(true);
    expect(check({ freezeWindows: [{ name: 'prod only', tiers: ['prod'], from: '2026-11-25T00:00:00Z', to: '2026-11-26T00:00:00Z' }] }, [target(staging)]).allowed).toBe(true);
  });

  it('does not block on rules set to warn', () => {
    const env = withService(staging, 'web', { image: 'ghcr.io/acme/web:latest' });
    const verdict = check({ forbidLatestTag: { enforcement: 'warn' } }, [target(env)]);
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toEqual([expect.objectContaining({ rule: 'forbidLatestTag', severity: 'warning' })]);
  });

  it('limits how many clusters one change touches', () => {
    const targets = ['a', 'b', 'c'].map((c) => target({ ...staging, binding: { ...staging.binding, cluster: c } }));
    expect(check({ maxClustersPerChange: { max: 2 } }, targets).violations).toEqual([expect.objectContaining({ rule: 'maxClustersPerChange', message: 'changes 3 clusters at once; at most 2 allowed' })]);
  });

  it('reports the approvals the strictest tier asks for', () => {
    const prod: Environment = { ...staging, binding: { ...staging.binding, tier: 'prod' } };
    const verdict = check({ approvals: { prod: { required: 2 }, staging: { required: 1, fourEyes: false } } }, [target(staging), target(prod)]);
    expect(verdict.approval).toEqual({ required: 2, fourEyes: true, tiers: ['staging', 'prod'] });
  });

  it('lists every violation of every target, not just the first', () => {
    const bad = withService(withService(staging, 'web', { image: 'nginx:latest' }), 'api', { resources: undefined });
    const { violations } = check({ requireResourceLimits: {}, forbidLatestTag: {}, allowedRegistries: { registries: ['ghcr.io'] } }, [target(bad)]);
    expect(violations.map((v) => v.rule).sort()).toEqual(['allowedRegistries', 'forbidLatestTag', 'requireResourceLimits', 'requireResourceLimits']);
  });
});

describe('inWindow (weekly)', () => {
  const window = { name: 'weekend', tiers: ['prod' as const], days: ['fri' as const], start: '22:00', end: '06:00' };
  it('spans midnight', () => {
    expect(inWindow(window, new Date('2026-11-27T23:00:00Z'))).toBe(true); // Friday night
    expect(inWindow(window, new Date('2026-11-28T05:59:00Z'))).toBe(true); // Saturday morning
    expect(inWindow(window, new Date('2026-11-28T06:00:00Z'))).toBe(false);
    expect(inWindow(window, new Date('2026-11-27T21:59:00Z'))).toBe(false);
  });
});

describe('parseImage', () => {
  it.each([
    ['nginx', { repository: 'docker.io/library/nginx', tag: undefined, digest: undefined }],
    ['nginx:1.27', { repository: 'docker.io/library/nginx', tag: '1.27', digest: undefined }],
    ['acme/web:2', { repository: 'docker.io/acme/web', tag: '2', digest: undefined }],
    ['localhost:5000/web', { repository: 'localhost:5000/web', tag: undefined, digest: undefined }],
    ['ghcr.io/acme/web:1.2@sha256:ab', { repository: 'ghcr.io/acme/web', tag: '1.2', digest: 'sha256:ab' }],
  ])('%s', (image, expected) => {
    expect(parseImage(image)).toEqual(expected);
  });
});
