// Keys a user names (services, config keys, label keys, document kinds) are looked up as the
// record's own properties only: "constructor" or "toString" never reach what every object
// inherits (issue 10, finding 10).
import { describe, expect, it } from 'vitest';
import { parseDocuments, validateDocument } from '../../../domain/documents.js';
import { AppSpec, Overrides } from '../../../domain/environment.js';
import { render } from '../../../domain/render.js';
import { evaluateRules, Rules } from '../../../domain/rules.js';

const binding = { name: 'shop', application: 'shop', tier: 'prod' as const, cluster: 'c1', namespace: 'shop' };

describe('own-property lookups of user-named keys', () => {
  it('a service named "constructor" keeps its own replicas and gets no Ingress it did not ask for', () => {
    const spec = AppSpec.parse({ services: [{ name: 'constructor', image: 'ghcr.io/acme/c:1', ports: [{ port: 80 }], replicas: 2 }] });
    const manifests = render({ binding, spec, overrides: Overrides.parse({}), revision: 'sha256:abc' });
    const deployment = manifests.find((m) => m.kind === 'Deployment')!;
    expect((deployment.spec as { replicas: unknown }).replicas).toBe(2);
    expect(manifests.filter((m) => m.kind === 'Ingress')).toEqual([]);
  });

  it('a config key or environment-specific key named like an Object method must still be declared', () => {
    const refused = AppSpec.safeParse({
      services: [{ name: 'web', image: 'ghcr.io/acme/web:1', env: { A: { config: 'toString' } } }],
      environmentConfig: ['constructor'],
    });
    expect(refused.success).toBe(false);
    const paths = refused.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['services.0.env.A.config', 'environmentConfig.0']));
  });

  it('minimum replicas are not skipped for a service named "constructor" (no override inherited)', () => {
    const spec = AppSpec.parse({ services: [{ name: 'constructor', image: 'ghcr.io/acme/c:1', replicas: 1 }] });
    const rules = Rules.parse({ minReplicas: { perTier: { prod: 2 } } });
    const verdict = evaluateRules(rules, { kind: 'deploy', at: '2026-12-01T00:00:00Z', targets: [{ binding, spec, overrides: Overrides.parse({}), cluster: { name: 'c1', labels: { tier: 'prod' } } }] });
    expect(verdict.violations.map((v) => v.rule)).toEqual(['minReplicas']);
  });

  it('residency on a label key named "constructor" reads the cluster\'s own labels', () => {
    const spec = AppSpec.parse({ services: [{ name: 'web', image: 'ghcr.io/acme/web:1' }] });
    const rules = Rules.parse({ residency: { labelKey: 'constructor' } });
    const verdict = evaluateRules(rules, { kind: 'deploy', at: '2026-12-01T00:00:00Z', targets: [{ binding: { ...binding, residency: 'eu' }, spec, overrides: Overrides.parse({}), cluster: { name: 'c1', labels: { tier: 'prod' } } }] });
    expect(verdict.violations[0]!.message).toContain('not labelled constructor');
  });

  it('a document of kind "toString" or "constructor" is a validation issue, not a crash', () => {
    for (const kind of ['toString', 'constructor', '__proto__']) {
      expect(validateDocument({ apiVersion: 'flotilla.dev/v1', kind, metadata: { name: 'x' } })).toEqual({
        ok: false, issues: [{ path: 'kind', message: expect.stringContaining('must be one of') }],
      });
    }
    expect(parseDocuments('apiVersion: flotilla.dev/v1\nkind: hasOwnProperty\nmetadata: { name: x }\n').ok).toBe(false);
  });
});
