import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppSpec, Overrides } from '../../../domain/environment.js';
import { Service } from '../../../domain/environment.js';
import { CONFIG_CHECKSUM_ANNOTATION, LABEL, SECRET_REFS_ANNOTATION, SECRETS_CHECKSUM_ANNOTATION } from '../../../domain/labels.js';
import type { Manifest } from '../../../domain/manifest.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, materializeSecrets, MissingSecretsError, render } from '../../../domain/render.js';
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
type PodOwner = { kind: string; metadata: { name: string }; spec: { progressDeadlineSeconds?: number; template: { metadata: { annotations?: Record<string, string> } } } };
/** Every Deployment's and StatefulSet's pod template annotations, by "Kind/name". */
const podAnnotationsOf = (out: Manifest[]) => Object.fromEntries(
  (out as unknown as PodOwner[])
    .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
    .map((m) => [`${m.kind}/${m.metadata.name}`, m.spec.template.metadata.annotations]),
);
const changed = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();

describe('render: progress deadline', () => {
  it('defaults every Deployment to 120 s, well under the rollout timeout', () => {
    expect(DEFAULT_PROGRESS_DEADLINE_SECONDS).toBe(120);
    const deployments = (manifests as unknown as PodOwner[]).filter((m) => m.kind === 'Deployment');
    expect(deployments).toHaveLength(12);
    for (const d of deployments) expect(d.spec.progressDeadlineSeconds).toBe(120);
  });

  it("takes a service's own progressDeadlineSeconds", () => {
    const spec = { ...env.spec, services: env.spec.services.map((s) => (s.name === 'cart' ? { ...s, progressDeadlineSeconds: 45 } : s)) };
    const out = render({ ...env, spec, revision }) as unknown as PodOwner[];
    expect(out.find((m) => m.kind === 'Deployment' && m.metadata.name === 'cart')!.spec.progressDeadlineSeconds).toBe(45);
    expect(out.find((m) => m.kind === 'Deployment' && m.metadata.name === 'web')!.spec.progressDeadlineSeconds).toBe(120);
  });

  it('accepts 5..3600 whole seconds and nothing else', () => {
    const base = { name: 'web', image: 'web:1' };
    expect(Service.safeParse({ ...base, progressDeadlineSeconds: 5 }).success).toBe(true);
    expect(Service.safeParse({ ...base, progressDeadlineSeconds: 3600 }).success).toBe(true);
    for (const bad of [4, 3601, 30.5, '60']) expect(Service.safeParse({ ...base, progressDeadlineSeconds: bad }).success).toBe(false);
  });

  it('leaves the revision id of a spec without it unchanged (the field is not in the canonical form)', () => {
    expect(JSON.stringify(env.spec)).not.toContain('progressDeadlineSeconds');
    const withDeadline = { ...env.spec, services: env.spec.services.map((s) => (s.name === 'cart' ? { ...s, progressDeadlineSeconds: 45 } : s)) };
    expect(revisionOf(withDeadline)).not.toBe(revision);
    expect(revisionOf({ ...env.spec, services: env.spec.services.map((s) => ({ ...s, progressDeadlineSeconds: undefined })) })).toBe(revision);
  });
});

describe('render: config and secret checksums on pod templates', () => {
  const versions = { STRIPE_KEY: 'v1', CACHE_URL: 'v7', ORDERS_DB_PASSWORD: 'v3' };
  const withVersions = render({ ...env, revision, secretVersions: versions });
  const annotations = podAnnotationsOf(withVersions);

  it('hashes the config values each pod reads: canonical JSON, keys sorted', () => {
    // Every shop service reads log-level and feature-flags, none reads public-url.
    const expected = sha256('{"feature-flags":"checkout-v2","log-level":"info"}');
    expect(annotations['Deployment/web']![CONFIG_CHECKSUM_ANNOTATION]).toBe(expected);
    expect(annotations['Deployment/payments']![CONFIG_CHECKSUM_ANNOTATION]).toBe(expected);
    expect(annotations['StatefulSet/orders-db']![CONFIG_CHECKSUM_ANNOTATION]).toBeUndefined();
  });

  it('hashes the versions of the secrets each pod reads, including database secrets', () => {
    expect(annotations['Deployment/payments']![SECRETS_CHECKSUM_ANNOTATION]).toBe(sha256('{"CACHE_URL":"v7","ORDERS_DB_PASSWORD":"v3","STRIPE_KEY":"v1"}'));
    expect(annotations['Deployment/cart']![SECRETS_CHECKSUM_ANNOTATION]).toBe(sha256('{"CACHE_URL":"v7","ORDERS_DB_PASSWORD":"v3"}'));
    expect(annotations['StatefulSet/orders-db']![SECRETS_CHECKSUM_ANNOTATION]).toBe(sha256('{"ORDERS_DB_PASSWORD":"v3"}'));
    // web depends only on api: no secret, no annotation.
    expect(annotations['Deployment/web']![SECRETS_CHECKSUM_ANNOTATION]).toBeUndefined();
  });

  it('renders no secrets checksum without secretVersions, and a referenced secret without a version as ""', () => {
    for (const a of Object.values(podAnnotationsOf(manifests))) expect(a?.[SECRETS_CHECKSUM_ANNOTATION]).toBeUndefined();
    const partial = podAnnotationsOf(render({ ...env, revision, secretVersions: { STRIPE_KEY: 'v1' } }));
    expect(partial['Deployment/payments']![SECRETS_CHECKSUM_ANNOTATION]).toBe(sha256('{"CACHE_URL":"","ORDERS_DB_PASSWORD":"","STRIPE_KEY":"v1"}'));
  });

  it('a config value change changes only the pod templates that read that key', () => {
    const spec = {
      ...env.spec,
      config: { ...env.spec.config, 'search-index': 'v1' },
      services: env.spec.services.map((s) => (s.name === 'search' ? { ...s, env: { ...s.env, INDEX: { config: 'search-index' } } } : s)),
    };
    const before = render({ ...env, spec, revision, secretVersions: versions });
    const after = render({ ...env, spec: { ...spec, config: { ...spec.config, 'search-index': 'v2' } }, revision, secretVersions: versions });
    expect(changed(podAnnotationsOf(before), podAnnotationsOf(after))).toEqual(['Deployment/search']);
    expect(podAnnotationsOf(after)['Deployment/search']![CONFIG_CHECKSUM_ANNOTATION]).toBe(
      sha256('{"feature-flags":"checkout-v2","log-level":"info","search-index":"v2"}'),
    );
    // A key every service reads restarts every service, and no database.
    const logLevel = podAnnotationsOf(render({ ...env, spec: { ...spec, config: { ...spec.config, 'log-level': 'debug' } }, revision, secretVersions: versions }));
    expect(changed(podAnnotationsOf(before), logLevel)).toEqual(spec.services.map((s) => `Deployment/${s.name}`).sort());
  });

  it('an environment override of a config value restarts the pods that read it', () => {
    const spec = { ...env.spec, services: env.spec.services.map((s) => (s.name === 'web' ? { ...s, env: { ...s.env, URL: { config: 'public-url' } } } : s)) };
    const staging = podAnnotationsOf(render({ ...env, spec, revision }));
    const other = podAnnotationsOf(render({ ...env, spec, overrides: { ...env.overrides, config: { 'public-url': 'https://other.example' } }, revision }));
    expect(changed(staging, other)).toEqual(['Deployment/web']);
    expect(staging['Deployment/web']![CONFIG_CHECKSUM_ANNOTATION]).toBe(
      sha256('{"feature-flags":"checkout-v2","log-level":"info","public-url":"https://staging.shop.example"}'),
    );
  });

  it('a secret version change changes only the pods that reference that secret', () => {
    const stripe = podAnnotationsOf(render({ ...env, revision, secretVersions: { ...versions, STRIPE_KEY: 'v2' } }));
    expect(changed(annotations, stripe)).toEqual(['Deployment/payments']);
    const db = podAnnotationsOf(render({ ...env, revision, secretVersions: { ...versions, ORDERS_DB_PASSWORD: 'v4' } }));
    // Everything but web (which depends on api only) reads the database password, and so does the database.
    expect(changed(annotations, db)).toEqual([
      ...env.spec.services.filter((s) => s.name !== 'web').map((s) => `Deployment/${s.name}`),
      'StatefulSet/orders-db',
    ].sort());
    // A version of a secret nobody references restarts nothing.
    expect(changed(annotations, podAnnotationsOf(render({ ...env, revision, secretVersions: { ...versions, UNUSED: 'x' } })))).toEqual([]);
  });

  it('never puts a secret value anywhere but the materialized Secrets, nor a version in clear', () => {
    const values: Record<string, string> = { STRIPE_KEY: 'sk_live_SECRET_1', CACHE_URL: 'redis://SECRET_2', ORDERS_DB_PASSWORD: 'SECRET_3' };
    const opaque = { STRIPE_KEY: 'ver-stripe-41', CACHE_URL: 'ver-cache-42', ORDERS_DB_PASSWORD: 'ver-db-43' };
    const rendered = render({ ...env, revision, secretVersions: opaque });
    const text = JSON.stringify(rendered);
    for (const value of Object.values(values)) expect(text).not.toContain(value);
    for (const version of Object.values(opaque)) expect(text).not.toContain(version);
    const applied = materializeSecrets(rendered, (name) => values[name]);
    for (const m of applied.filter((x) => x.kind !== 'Secret')) {
      for (const value of Object.values(values)) expect(JSON.stringify(m)).not.toContain(value);
    }
  });

  it('is byte-identical whatever the key order of spec, overrides and secretVersions (property)', () => {
    const expected = JSON.stringify(withVersions);
    fc.assert(fc.property(fc.integer(), (seed) => {
      let s = seed;
      const random = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const input = {
        ...env,
        spec: shuffleKeys(env.spec, random) as AppSpec,
        overrides: shuffleKeys(env.overrides, random) as Overrides,
        secretVersions: shuffleKeys(versions, random) as Record<string, string>,
      };
      return JSON.stringify(render({ ...input, revision })) === expected;
    }), { numRuns: 50 });
  });
});
