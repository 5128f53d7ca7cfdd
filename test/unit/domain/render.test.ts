import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppSpec, Overrides } from '../../../domain/environment.js';
import { LABEL, SECRET_REFS_ANNOTATION } from '../../../domain/labels.js';
import { materializeSecrets, MissingSecretsError, render } from '../../../domain/render.js';
import { revisionOf, shortRevision } from '../../../domain/revision.js';
import { shop, shuffleKeys } from '../../support/domain.js';

const env = shop();
const revision = revisionOf(env.spec);
const manifests = render({ ...env, revision });
const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);

describe('render', () => {
  it('emits the namespace first and every object of the environment', () => {
    expect(manifests[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'shop-staging' } });
    const counts = manifests.reduce<Record<string, number>>((acc, m) => ({ ...acc, [m.kind]: (acc[m.kind] ?? 0) + 1 }), {});
    expect(counts).toEqual({ Namespace: 1, ConfigMap: 1, Secret: 2, Service: 13, StatefulSet: 1, Job: 1, Deployment: 12, Ingress: 1 });
  });

  it('labels every object with environment, application, revision and managed-by', () => {
    for (const m of manifests.slice(1)) {
      expect(m.metadata.labels).toMatchObject({
        [LABEL.environment]: 'shop-staging',
        [LABEL.application]: 'shop',
        [LABEL.revision]: shortRevision(revision),
        [LABEL.managedBy]: 'flotilla',
      });
      expect(m.metadata.namespace).toBe('shop-staging');
    }
  });

  it('keeps the revision off pod templates, so a revision that leaves a service alone does not restart it', () => {
    const web = find('Deployment', 'web') as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } };
    expect(web.spec.template.metadata.labels[LABEL.revision]).toBeUndefined();
  });

  it('applies overrides: replicas, hostnames and environment-specific config', () => {
    expect(find('Deployment', 'web')).toMatchObject({ spec: { replicas: 3 } });
    expect(find('Deployment', 'api')).toMatchObject({ spec: { replicas: 2 } });
    expect(find('Ingress', 'web')).toMatchObject({ spec: { rules: [{ host: 'staging.shop.example' }] } });
    expect(find('ConfigMap', 'shop-config')).toMatchObject({ data: { 'public-url': 'https://staging.shop.example' } });
  });

  it('renders Secrets with references only, never values', () => {
    const secret = find('Secret', 'shop-secrets')!;
    expect(secret.stringData).toBeUndefined();
    expect(secret.data).toBeUndefined();
    expect(JSON.parse(secret.metadata.annotations![SECRET_REFS_ANNOTATION]!)).toEqual({ CACHE_URL: 'CACHE_URL', STRIPE_KEY: 'STRIPE_KEY' });
  });

  it('renders a container database as StatefulSet, headless Service and credentials Secret', () => {
    expect(find('StatefulSet', 'orders-db')).toMatchObject({
      spec: { serviceName: 'orders-db', volumeClaimTemplates: [{ spec: { resources: { requests: { storage: '10Gi' } } } }] },
    });
    expect(find('Service', 'orders-db')).toMatchObject({ spec: { clusterIP: 'None' } });
    expect(find('Secret', 'orders-db-credentials')).toBeDefined();
    const cart = find('Deployment', 'cart') as unknown as { spec: { template: { spec: { containers: { env: { name: string }[] }[] } } } };
    expect(cart.spec.template.spec.containers[0]!.env.map((e) => e.name)).toEqual(
      expect.arrayContaining(['ORDERS_DB_HOST', 'ORDERS_DB_PORT', 'ORDERS_DB_PASSWORD', 'CACHE_URL']),
    );
  });

  it('renders a pre-deploy migration Job named by revision, before the Deployments', () => {
    const job = find('Job', `api-migrate-${shortRevision(revision)}`);
    expect(job).toMatchObject({ spec: { template: { spec: { restartPolicy: 'Never', containers: [{ command: ['./migrate', 'up'] }] } } } });
    expect(manifests.indexOf(job!)).toBeLessThan(manifests.indexOf(find('Deployment', 'api')!));
  });

  it('is deterministic: the same input in any key order gives byte-identical output (property)', () => {
    const expected = JSON.stringify(manifests);
    fc.assert(fc.property(fc.integer(), fc.boolean(), (seed, reverse) => {
      let s = seed;
      const random = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const spec = shuffleKeys(env.spec, random) as AppSpec;
      const input = { ...env, spec: reverse ? { ...spec, services: [...spec.services].reverse() } : spec, overrides: shuffleKeys(env.overrides, random) as Overrides };
      return JSON.stringify(render({ ...input, revision })) === expected;
    }), { numRuns: 50 });
  });
});

describe('materializeSecrets', () => {
  it('fills each referenced key from the catalog', () => {
    const values: Record<string, string> = { STRIPE_KEY: 'sk_test_1', CACHE_URL: 'redis://cache', ORDERS_DB_PASSWORD: 'pw' };
    const out = materializeSecrets(manifests, (name) => values[name]);
    expect(out.find((m) => m.metadata.name === 'shop-secrets')!.stringData).toEqual({ CACHE_URL: 'redis://cache', STRIPE_KEY: 'sk_test_1' });
    expect(out.find((m) => m.metadata.name === 'orders-db-credentials')!.stringData).toEqual({ password: 'pw' });
  });

  it('names every secret without a value', () => {
    expect(() => materializeSecrets(manifests, () => undefined)).toThrow(MissingSecretsError);
    expect(() => materializeSecrets(manifests, () => undefined)).toThrow('CACHE_URL, ORDERS_DB_PASSWORD, STRIPE_KEY');
  });
});
