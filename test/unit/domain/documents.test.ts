import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocuments, validateDocument, type ValidationIssue } from '../../../domain/documents.js';
import { shopEnvironment } from '../../support/fixtures.js';

type Doc = ReturnType<typeof shop>;
function shop() {
  return shopEnvironment() as {
    spec: { app: { services: Record<string, unknown>[]; secrets: string[]; databases: Record<string, unknown>[] }; overrides: Record<string, unknown> } & Record<string, unknown>;
  } & Record<string, unknown>;
}

function issuesOf(mutate: (doc: Doc) => void): ValidationIssue[] {
  const doc = shop();
  mutate(doc);
  const result = validateDocument(doc);
  if (result.ok) throw new Error('expected the document to be invalid');
  return result.issues;
}

describe('validateDocument', () => {
  it('accepts the realistic 12-service environment', () => {
    const result = validateDocument(shop());
    expect(result.ok).toBe(true);
  });

  it.each<[string, (d: Doc) => void, ValidationIssue]>([
    ['a wrong type', (d) => { d.spec.app.services[3]!.replicas = 'two'; }, { path: 'spec.app.services[3].replicas', message: expect.stringContaining('number') as unknown as string }],
    ['an unknown field', (d) => { d.spec.app.services[0]!.replica = 2; }, { path: 'spec.app.services[0].replica', message: 'unknown field' }],
    ['a missing image', (d) => { delete d.spec.app.services[1]!.image; }, { path: 'spec.app.services[1].image', message: expect.any(String) as unknown as string }],
    ['a bad service name', (d) => { d.spec.app.services[2]!.name = 'Cart_Service'; }, { path: 'spec.app.services[2].name', message: expect.stringContaining('lower-case') as unknown as string }],
    ['a duplicate service', (d) => { d.spec.app.services[5]!.name = 'web'; }, { path: 'spec.app.services[5].name', message: 'duplicate service name "web"' }],
    ['an undeclared secret', (d) => { d.spec.app.secrets = ['CACHE_URL']; }, { path: 'spec.app.services[6].env.STRIPE_KEY.secret', message: 'secret "STRIPE_KEY" is not declared in secrets' }],
    ['an unknown dependency', (d) => { d.spec.app.services[0]!.dependsOn = ['nope']; }, { path: 'spec.app.services[0].dependsOn[0]', message: '"nope" is neither a service nor a database' }],
    ['a bad quantity', (d) => { d.spec.app.services[0]!.resources = { limits: { cpu: 'lots' } }; }, { path: 'spec.app.services[0].resources.limits.cpu', message: expect.stringContaining('quantity') as unknown as string }],
    ['an unknown database engine', (d) => { d.spec.app.databases[0]!.engine = 'oracle'; }, { path: 'spec.app.databases[0].engine', message: expect.any(String) as unknown as string }],
    ['an override of an unknown service', (d) => { d.spec.overrides = { replicas: { ghost: 2 } }; }, { path: 'spec.overrides.replicas.ghost', message: 'service "ghost" is not in the spec' }],
    ['an override of a shared config key', (d) => { d.spec.overrides = { config: { 'log-level': 'debug' } }; }, { path: 'spec.overrides.config.log-level', message: expect.stringContaining('environmentConfig') as unknown as string }],
    ['a bad tier', (d) => { d.spec.tier = 'production'; }, { path: 'spec.tier', message: expect.any(String) as unknown as string }],
  ])('names the field of %s', (_name, mutate, expected) => {
    expect(issuesOf(mutate)).toContainEqual(expected);
  });

  it('refuses an unknown kind, naming the field', () => {
    expect(validateDocument({ apiVersion: 'flotilla.dev/v1', kind: 'Pod' })).toEqual({
      ok: false,
      issues: [{ path: 'kind', message: 'must be one of Application, Cluster, Environment, Rules' }],
    });
  });

  it('validates Cluster connections by provider', () => {
    const bad = validateDocument({
      apiVersion: 'flotilla.dev/v1', kind: 'Cluster', metadata: { name: 'eu-1' },
      spec: { labels: { geo: 'eu' }, connection: { provider: 'eks', region: 'eu-west-1' } },
    });
    expect(bad).toEqual({ ok: false, issues: [{ path: 'spec.connection.clusterName', message: expect.any(String) }] });
    const good = validateDocument({
      apiVersion: 'flotilla.dev/v1', kind: 'Cluster', metadata: { name: 'eu-1' },
      spec: { labels: { geo: 'eu' }, connection: { provider: 'kubeconfig', kubeconfigSecret: 'eu-1-kubeconfig' } },
    });
    expect(good.ok).toBe(true);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const result = validateDocument(value);
      return result.ok || result.issues.every((i) => typeof i.path === 'string' && i.message.length > 0);
    }), { numRuns: 300 });
  });

  it('never throws on mutated environments', () => {
    const paths = ['spec.tier', 'spec.app.services', 'spec.app.config', 'spec.overrides', 'metadata', 'spec.app.databases'];
    fc.assert(fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
      const doc = shop() as Record<string, unknown>;
      const keys = path.split('.');
      let at = doc;
      for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
      at[keys.at(-1)!] = value;
      const result = validateDocument(doc);
      return result.ok || result.issues.length > 0;
    }), { numRuns: 300 });
  });
});

describe('parseDocuments', () => {
  it('parses a YAML stream of several kinds', () => {
    const text = `
apiVersion: flotilla.dev/v1
kind: Cluster
metadata: { name: local-dev }
spec:
  labels: { tier: dev }
  connection: { provider: kubeconfig, kubeconfigSecret: local-dev-kubeconfig }
---
apiVersion: flotilla.dev/v1
kind: Rules
spec:
  forbidLatestTag: {}
`;
    const result = parseDocuments(text);
    expect(result.ok && result.value.map((d) => d.kind)).toEqual(['Cluster', 'Rules']);
  });

  it('names the document and field of each problem', () => {
    const result = parseDocuments(`kind: Rules\napiVersion: flotilla.dev/v1\nspec: {}\n---\nkind: Cluster\napiVersion: flotilla.dev/v1\nmetadata: {name: x}\nspec: {connection: {provider: gke}}\n`);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => i.path)).toEqual([
      'documents[1].spec.connection.project', 'documents[1].spec.connection.location', 'documents[1].spec.connection.clusterName',
    ]);
  });

  it('reports an alias to an anchor of another document instead of throwing', () => {
    const result = parseDocuments('kind: Rules\napiVersion: flotilla.dev/v1\nspec: &s {}\n---\nkind: Rules\napiVersion: flotilla.dev/v1\nspec: *s\n');
    expect(result).toEqual({ ok: false, issues: [{ path: 'documents[1]', message: expect.stringMatching(/^YAML: Unresolved alias/) }] });
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
    const result = parseDocuments(bomb);
    expect(result.ok).toBe(false);
  });

  it('reports YAML syntax errors instead of throwing', () => {
    const result = parseDocuments('kind: [unclosed');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]!.message).toMatch(/^YAML: /);
  });
});
