// Tier scope binds where things run (issue 10, finding 1): an environment's tier must be one its
// cluster accepts, a deploy uses only namespaces Flotilla made (or an admin let it adopt), and
// Ingress hosts stay in their tier's domains and belong to one environment. Pure checks here;
// the API and deploy-time refusals are in test/unit/api/placement.test.ts and
// test/unit/workflows/deploy-placement.test.ts.
import { describe, expect, it } from 'vitest';
import { ClusterDocument } from '../../../domain/cluster.js';
import type { Environment, Tier } from '../../../domain/environment.js';
import { acceptedTiers, hostMatches, namespaceRefusal } from '../../../domain/placement.js';
import { evaluateRules, Rules, type ChangeTarget, type HostInUse, type RulesInput } from '../../../domain/rules.js';
import { shop } from '../../support/domain.js';

const at = '2026-11-25T10:00:00Z';
const on = (env: Environment, labels: Record<string, string>, allowedTiers?: Tier[]): ChangeTarget => ({
  ...env, cluster: { name: env.binding.cluster, labels, ...(allowedTiers ? { allowedTiers } : {}) },
});
const check = (rules: RulesInput, targets: ChangeTarget[], hostsInUse?: HostInUse[]) =>
  evaluateRules(Rules.parse(rules), { kind: 'deploy', at, targets, hostsInUse });
const withHosts = (env: Environment, hostnames: Record<string, string>): Environment => ({ ...env, overrides: { ...env.overrides, hostnames } });

describe('an environment runs only on a cluster that accepts its tier', () => {
  const dev = shop({ name: 'shop-dev', tier: 'dev', cluster: 'prod-1' });

  it('refuses tier dev on a tier=prod cluster, naming spec.tier, whatever the rules say (even none)', () => {
    const verdict = check({}, [on(dev, { tier: 'prod' })]);
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations).toEqual([{
      rule: 'clusterTier', severity: 'error', object: 'environment/shop-dev', field: 'spec.tier',
      message: expect.stringContaining('tier dev may not run on cluster "prod-1", which is labelled tier=prod and accepts only prod'),
    }]);
  });

  it('accepts it where the label matches, or where an admin allowed the tier on the cluster', () => {
    expect(check({}, [on(dev, { tier: 'dev' })]).allowed).toBe(true);
    expect(check({}, [on(dev, { tier: 'prod' }, ['dev', 'staging'])]).allowed).toBe(true);
  });

  it('an unlabelled cluster (or one whose tier label names no tier) accepts only its allowedTiers: none by default', () => {
    expect(check({}, [on(dev, {})]).violations.map((v) => v.message)).toEqual([expect.stringContaining('has no tier label and accepts no tier')]);
    expect(check({}, [on(dev, { tier: 'production' })]).allowed).toBe(false);
    expect(check({}, [on(dev, {}, ['dev'])]).allowed).toBe(true);
    expect(acceptedTiers({ labels: { tier: 'prod' }, allowedTiers: ['staging', 'dev'] })).toEqual(['dev', 'staging', 'prod']);
    // A key inherited by every object is not a label.
    expect(acceptedTiers({ labels: Object.create({ tier: 'dev' }) as Record<string, string> })).toEqual([]);
  });

  it('a Cluster document carries the allow-list and adoptable namespaces, never a system namespace', () => {
    const doc = (spec: Record<string, unknown>) => ClusterDocument.safeParse({
      apiVersion: 'flotilla.dev/v1', kind: 'Cluster', metadata: { name: 'c1' },
      spec: { labels: { tier: 'prod' }, connection: { provider: 'kubeconfig', kubeconfigSecret: 'kc' }, ...spec },
    });
    expect(doc({}).data?.spec).toMatchObject({ allowedTiers: [], adoptableNamespaces: [] });
    expect(doc({ allowedTiers: ['dev'], adoptableNamespaces: ['team-a'] }).success).toBe(true);
    expect(doc({ allowedTiers: ['production'] }).success).toBe(false);
    for (const namespace of ['kube-system', 'default', 'flotilla-system']) expect(doc({ adoptableNamespaces: [namespace] }).success).toBe(false);
  });
});

describe('namespaces Flotilla did not create', () => {
  it('are refused unless the cluster lists them as adoptable; absent or Flotilla-made ones are fine', () => {
    expect(namespaceRefusal('absent', 'shop', 'c1', [])).toBeUndefined();
    expect(namespaceRefusal('owned', 'shop', 'c1', [])).toBeUndefined();
    expect(namespaceRefusal('foreign', 'shop', 'c1', [])).toMatch(/namespace "shop" exists on cluster "c1" and was not created by Flotilla.*adoptableNamespaces/);
    expect(namespaceRefusal('foreign', 'shop', 'c1', ['other'])).toBeDefined();
    expect(namespaceRefusal('foreign', 'shop', 'c1', ['shop'])).toBeUndefined();
    expect(namespaceRefusal('foreign', 'kube-system', 'c1', ['kube-system'])).toBeDefined();
  });
});

describe('Ingress hosts', () => {
  it('a wildcard stands for exactly one label; anything else matches only itself', () => {
    expect(hostMatches('*.dev.example.com', 'shop.dev.example.com')).toBe(true);
    expect(hostMatches('*.dev.example.com', 'dev.example.com')).toBe(false);
    expect(hostMatches('*.dev.example.com', 'a.shop.dev.example.com')).toBe(false);
    expect(hostMatches('*.dev.example.com', 'shopdev.example.com')).toBe(false);
    expect(hostMatches('*.dev.example.com', 'evil-dev.example.com')).toBe(false);
    expect(hostMatches('shop.example.com', 'shop.example.com')).toBe(true);
    expect(hostMatches('shop.example.com', 'www.shop.example.com')).toBe(false);
  });

  const rules = { ingressDomains: { perTier: { dev: ['*.dev.example.com'], prod: ['shop.example.com', '*.example.com'] } } };

  it('stay within the domains of their tier (rule ingressDomains), naming the override', () => {
    const dev = shop({ name: 'shop-dev', tier: 'dev', cluster: 'dev-1' });
    expect(check(rules, [on(withHosts(dev, { web: 'shop.dev.example.com' }), { tier: 'dev' })]).allowed).toBe(true);
    const verdict = check(rules, [on(withHosts(dev, { web: 'shop.example.com', api: 'api.dev.example.com' }), { tier: 'dev' })]);
    expect(verdict.violations).toEqual([{
      rule: 'ingressDomains', severity: 'error', object: 'service/shop-dev/web', field: 'spec.overrides.hostnames.web',
      message: 'host "shop.example.com" is not in a domain tier dev may use (*.dev.example.com)',
    }]);
    const prod = shop({ name: 'shop-prod', tier: 'prod', cluster: 'prod-1' });
    expect(check(rules, [on(withHosts(prod, { web: 'shop.example.com', api: 'api.example.com' }), { tier: 'prod' })]).allowed).toBe(true);
  });

  it('a tier the rule does not list may use no host; enforcement warn only reports', () => {
    const staging = on(shop({ name: 'shop-staging', tier: 'staging', cluster: 'dev-1' }), { tier: 'staging' });
    expect(check(rules, [staging]).violations).toEqual([expect.objectContaining({ rule: 'ingressDomains', message: expect.stringContaining('(none)') })]);
    expect(check({ ingressDomains: { ...rules.ingressDomains, enforcement: 'warn' } }, [staging])).toMatchObject({ allowed: true, warnings: [{ rule: 'ingressDomains' }] });
    expect(check({}, [staging]).allowed).toBe(true);
  });

  it('belong to one environment: refused against the others\' hosts and among the targets of one change', () => {
    const a = on(withHosts(shop({ name: 'shop-a', tier: 'prod', cluster: 'prod-1' }), { web: 'shop.example.com' }), { tier: 'prod' });
    const b = on(withHosts(shop({ name: 'shop-b', tier: 'prod', cluster: 'prod-2' }), { web: 'shop.example.com' }), { tier: 'prod' });
    expect(check({}, [a], [{ host: 'shop.example.com', environment: 'shop-x' }]).violations).toEqual([{
      rule: 'uniqueIngressHost', severity: 'error', object: 'service/shop-a/web', field: 'spec.overrides.hostnames.web',
      message: 'host "shop.example.com" is already used by environment "shop-x"',
    }]);
    expect(check({}, [a, b]).violations).toEqual([expect.objectContaining({ rule: 'uniqueIngressHost', object: 'service/shop-b/web' })]);
    // Its own host, as the catalog holds it, is no collision; nor is a free one.
    expect(check({}, [a], [{ host: 'shop.example.com', environment: 'shop-a' }, { host: 'other.example.com', environment: 'shop-x' }]).allowed).toBe(true);
  });
});
