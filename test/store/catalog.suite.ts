// One catalog suite, run against every database the catalog supports (see
// test/integration/catalog-*.test.ts). Tests share one catalog per database and keep apart by
// unique names, which keeps the suite fast on two cores.
import { LeaseLostError } from '../../store/observations.js';
import { createHash, randomBytes } from 'node:crypto';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { AppSpecInput, EnvironmentBinding } from '../../domain/environment.js';
import { revisionOf } from '../../domain/revision.js';
import { AppSpec } from '../../domain/environment.js';
import { type Catalog, openCatalog } from '../../store/catalog.js';
import { changeSpec, createEnvironment, recordDeployment, recordUndeploy } from '../../store/changes.js';
import { LocalMasterKey } from '../../store/crypto/local-master-key.js';
import { openCatalogDatabase } from '../../store/database.js';
import { ConflictError, InvalidInputError, NotFoundError, SecretDecryptionError } from '../../store/errors.js';
import { EnvironmentBusyError } from '../../store/locks.js';
import * as initialMigration from '../../store/migrations/0001-initial.js';
import * as idempotencyMigration from '../../store/migrations/0002-idempotency.js';
import { migrateToLatest } from '../../store/migrations/index.js';
import { environmentScope, GLOBAL_SCOPE } from '../../store/secrets.js';

export interface CatalogTarget {
  /** A URL naming a fresh, empty catalog database. */
  newUrl(): Promise<string>;
  /** Everything the database holds of the secrets table, as text, bypassing the store. */
  rawSecrets(url: string, catalog: Catalog): Promise<string>;
  teardown(): Promise<void>;
}

export function catalogSuite(dialect: 'sqlite' | 'postgres', setup: () => Promise<CatalogTarget>): void {
  const masterKey = LocalMasterKey.generate();
  let target: CatalogTarget;
  let url: string;
  let catalog: Catalog;
  let n = 0;
  /** A fresh DNS-label name per call: tests share one database. */
  const unique = (prefix: string) => `${prefix}-${++n}-${randomBytes(3).toString('hex')}`;

  let unavailable: unknown;

  beforeAll(async () => {
    try {
      target = await setup();
      url = await target.newUrl();
      catalog = await openCatalog({ url, masterKey });
    } catch (error) {
      unavailable = error;
    }
  });

  // A database that cannot be had fails every test (a failed beforeAll would only skip them).
  beforeEach(() => {
    if (unavailable) throw unavailable;
    expect(catalog.dialect).toBe(dialect);
  });

  afterAll(async () => {
    await catalog?.close();
    await target?.teardown();
  });

  const kubeconfig = (secret: string) => ({ provider: 'kubeconfig' as const, kubeconfigSecret: secret });

  async function cluster(labels: Record<string, string> = {}): Promise<string> {
    const name = unique('c');
    await catalog.clusters.create({ name, labels, connection: kubeconfig(`${name}-kc`) });
    return name;
  }

  const spec = (image = 'ghcr.io/acme/web:1.0'): AppSpecInput => ({
    services: [
      { name: 'web', image, ports: [{ port: 8080 }], env: { MODE: 'prod', DB: { secret: 'DB_PASSWORD' } }, dependsOn: ['api'] },
      { name: 'api', image: 'ghcr.io/acme/api:2.1', replicas: 2 },
    ],
    config: { greeting: 'hello', region: 'us' },
    environmentConfig: ['region'],
    secrets: ['DB_PASSWORD'],
  });

  const binding = (clusterName: string, name = unique('env')): EnvironmentBinding =>
    ({ name, application: 'shop', tier: 'staging', cluster: clusterName, namespace: name });

  async function environment(clusterName?: string): Promise<string> {
    const { environment: env } = await createEnvironment(catalog, {
      binding: binding(clusterName ?? (await cluster())), spec: spec(), author: 'alice',
    });
    return env.binding.name;
  }

  describe('migrations', () => {
    it('are applied on open and idempotent: a second open migrates nothing and keeps the data', async () => {
      const name = await cluster();
      const again = await openCatalogDatabase(url, { migrate: false });
      try {
        expect(await migrateToLatest(again.db)).toEqual([]);
      } finally {
        await again.close();
      }
      const reopened = await openCatalog({ url, masterKey });
      try {
        expect((await reopened.clusters.require(name)).name).toBe(name);
      } finally {
        await reopened.close();
      }
    });
  });

  describe('clusters', () => {
    it('creates, reads, lists by label and status, and removes', async () => {
      const geo = unique('geo');
      const a = await cluster({ tier: 'prod', geo });
      const b = await cluster({ tier: 'dev', geo });
      const created = await catalog.clusters.require(a);
      expect(created).toMatchObject({ name: a, provider: 'kubeconfig', status: 'onboarding', generation: 1, labels: { tier: 'prod', geo } });
      expect(created.connection).toEqual(kubeconfig(`${a}-kc`));
      expect(await catalog.clusters.get(unique('missing'))).toBeUndefined();

      expect((await catalog.clusters.list({ labels: { geo } })).map((c) => c.name)).toEqual([a, b].sort());
      expect((await catalog.clusters.list({ labels: { geo, tier: 'prod' } })).map((c) => c.name)).toEqual([a]);
      await catalog.clusters.updateStatus(b, { status: 'ready', version: 'v1.34.4', capacity: { nodes: 3, cpu: '12', memory: '48Gi', pods: 330 } });
      expect((await catalog.clusters.list({ labels: { geo }, status: 'ready' })).map((c) => c.name)).toEqual([b]);
      expect((await catalog.clusters.list({ labels: { geo }, status: ['ready', 'onboarding'] }))).toHaveLength(2);
      expect(await catalog.clusters.require(b)).toMatchObject({ version: 'v1.34.4', capacity: { nodes: 3, pods: 330 } });

      const relabelled = await catalog.clusters.setLabels(a, { tier: 'prod', geo, zone: 'z1' });
      expect(relabelled.labels.zone).toBe('z1');

      await catalog.clusters.remove(a);
      expect(await catalog.clusters.get(a)).toBeUndefined();
      await expect(catalog.clusters.remove(a)).rejects.toBeInstanceOf(NotFoundError);
      await expect(catalog.clusters.require(a)).rejects.toThrow(`cluster "${a}" not found`);
    });

    it('keeps what an admin allows on a cluster: tiers beyond its label, adoptable namespaces (never a system one)', async () => {
      const name = await cluster({ tier: 'prod' });
      expect(await catalog.clusters.require(name)).toMatchObject({ allowedTiers: [], adoptableNamespaces: [] });
      const set = await catalog.clusters.setPlacement(name, { allowedTiers: ['staging'], adoptableNamespaces: ['team-a'] });
      expect(set).toMatchObject({ allowedTiers: ['staging'], adoptableNamespaces: ['team-a'], generation: 2 });
      expect(await catalog.clusters.require(name)).toMatchObject({ allowedTiers: ['staging'], adoptableNamespaces: ['team-a'] });
      await expect(catalog.clusters.setPlacement(name, { allowedTiers: [], adoptableNamespaces: ['kube-system'] })).rejects.toBeInstanceOf(ZodError);
      const other = unique('c');
      await catalog.clusters.create({ name: other, connection: kubeconfig('kc'), allowedTiers: ['dev'], adoptableNamespaces: ['legacy'] });
      expect(await catalog.clusters.require(other)).toMatchObject({ allowedTiers: ['dev'], adoptableNamespaces: ['legacy'] });
    });

    it('refuses a duplicate name with a ConflictError that carries no SQL', async () => {
      const name = await cluster();
      const error = await catalog.clusters.create({ name, connection: kubeconfig('other') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toBe(`cluster "${name}" already exists`);
    });

    it('refuses a connection with fields beyond its schema (no credentials slip in)', async () => {
      const connection = { ...kubeconfig('kc'), token: 'bearer-abc' } as unknown as ReturnType<typeof kubeconfig>;
      await expect(catalog.clusters.create({ name: unique('c'), connection })).rejects.toBeInstanceOf(ZodError);
    });

    it('updates status optimistically: a stale generation or an unexpected status is a conflict', async () => {
      const name = await cluster();
      const first = await catalog.clusters.require(name);
      const ready = await catalog.clusters.updateStatus(name, { status: 'ready' }, { generation: first.generation, status: 'onboarding' });
      expect(ready).toMatchObject({ status: 'ready', generation: first.generation + 1 });
      expect(ready.statusMessage).toBeUndefined();

      await expect(catalog.clusters.updateStatus(name, { status: 'degraded' }, { generation: first.generation })).rejects.toBeInstanceOf(ConflictError);
      await expect(catalog.clusters.updateStatus(name, { status: 'ready' }, { status: 'onboarding' })).rejects.toThrow(/changed meanwhile/);
      const degraded = await catalog.clusters.updateStatus(name, { status: 'degraded', message: '2 of 3 nodes NotReady' }, { generation: ready.generation });
      expect(degraded).toMatchObject({ status: 'degraded', statusMessage: '2 of 3 nodes NotReady' });
      await expect(catalog.clusters.updateStatus(unique('missing'), { status: 'ready' })).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses to remove a cluster that environments are bound to', async () => {
      const name = await cluster();
      await environment(name);
      await expect(catalog.clusters.remove(name)).rejects.toThrow(new ConflictError(`cluster "${name}" still has environments; remove them first`));
    });
  });

  describe('environments', () => {
    it('creates with its first revision and history, reads, lists and changes overrides', async () => {
      const c = await cluster();
      const b = { ...binding(c), tier: 'prod' as const, residency: 'eu' };
      const { environment: env, revision } = await createEnvironment(catalog, {
        binding: b, spec: spec(), overrides: { replicas: { web: 3 } }, author: 'alice', operationId: 'op-1',
      });
      expect(env).toMatchObject({ binding: b, currentRevision: revision.id, generation: 1 });
      expect(env.overrides).toEqual({ replicas: { web: 3 }, resources: {}, hostnames: {}, config: {} });
      expect(env.deployed).toBeUndefined();
      expect(await catalog.environments.require(b.name)).toEqual(env);
      const history = await catalog.history.list(b.name);
      expect(history.items).toMatchObject([{ revision: revision.id, author: 'alice', kind: 'spec-change', operationId: 'op-1' }]);

      expect((await catalog.environments.list({ cluster: c })).map((e) => e.binding.name)).toEqual([b.name]);
      expect((await catalog.environments.list({ cluster: c, tier: 'dev' }))).toEqual([]);
      expect((await catalog.environments.list({ application: 'shop' })).length).toBeGreaterThan(0);

      const changed = await catalog.environments.setOverrides(b.name, { config: { region: 'eu' } }, { generation: 1 });
      expect(changed).toMatchObject({ generation: 2, overrides: { config: { region: 'eu' }, replicas: {} } });
      await expect(catalog.environments.setOverrides(b.name, {}, { generation: 1 })).rejects.toBeInstanceOf(ConflictError);
      await expect(catalog.environments.require(unique('missing'))).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses a duplicate name, a taken namespace and an unknown cluster', async () => {
      const c = await cluster();
      const name = await environment(c);
      await expect(catalog.environments.create({ binding: { ...binding(c), name } })).rejects.toBeInstanceOf(ConflictError);
      await expect(catalog.environments.create({ binding: { ...binding(c), namespace: name } })).rejects.toBeInstanceOf(ConflictError);
      const orphan = binding(unique('nowhere'));
      await expect(catalog.environments.create({ binding: orphan })).rejects.toThrow(/refers to cluster .* which does not exist/);
      await expect(catalog.environments.setCurrentRevision(name, 'sha256:0000')).rejects.toBeInstanceOf(ConflictError);
    });

    it('records deployments, changes specs only when they differ, and removes with history, status and secrets', async () => {
      const name = await environment();
      const before = await catalog.environments.require(name);

      const unchanged = await changeSpec(catalog, name, spec(), { author: 'bob' });
      expect(unchanged.changed).toBe(false);
      const changed = await changeSpec(catalog, name, spec('ghcr.io/acme/web:1.1'), { author: 'bob', expectedGeneration: before.generation });
      expect(changed.changed).toBe(true);
      expect(changed.environment.currentRevision).toBe(changed.revision.id);

      const deployed = await recordDeployment(catalog, name, { revision: changed.revision.id, by: 'worker', kind: 'deploy', operationId: 'deploy-1' });
      expect(deployed.deployed).toMatchObject({ revision: changed.revision.id, by: 'worker' });
      const history = await catalog.history.list(name);
      expect(history.items.map((h) => [h.kind, h.revision])).toEqual([
        ['deploy', changed.revision.id], ['spec-change', changed.revision.id], ['spec-change', before.currentRevision],
      ]);
      expect((await catalog.history.list(name, { kind: 'deploy' })).items).toHaveLength(1);

      await catalog.status.replace(name, [{ service: 'web', readyReplicas: 1, desiredReplicas: 1, health: 'healthy', drift: false }]);
      await catalog.secrets.put(environmentScope(name), 'DB_PASSWORD', 'pw');
      await catalog.environments.remove(name);
      expect(await catalog.environments.get(name)).toBeUndefined();
      expect((await catalog.history.list(name)).items).toEqual([]);
      expect(await catalog.status.forEnvironment(name)).toEqual([]);
      expect(await catalog.secrets.list(environmentScope(name))).toEqual([]);
      // Revisions are shared and immutable: they outlive the environment.
      expect(await catalog.revisions.get(changed.revision.id)).toBeDefined();
      await expect(catalog.environments.remove(name)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('applications and stopped environments', () => {
    it('an application points at its spec\'s revision; the same spec changes nothing, a new one bumps the generation', async () => {
      const name = unique('app');
      const first = await catalog.applications.put(name, spec(), { author: 'alice' });
      expect(first).toMatchObject({ changed: true, application: { name, generation: 1, updatedBy: 'alice', currentRevision: revisionOf(AppSpec.parse(spec())) } });
      expect((await catalog.applications.put(name, spec(), { author: 'bob' })).changed).toBe(false);
      const next = await catalog.applications.put(name, spec('ghcr.io/acme/web:2.0'), { author: 'bob' });
      expect(next).toMatchObject({ changed: true, application: { generation: 2, updatedBy: 'bob', currentRevision: revisionOf(AppSpec.parse(spec('ghcr.io/acme/web:2.0'))) } });
      expect((await catalog.applications.list()).map((a) => a.name)).toContain(name);
      await catalog.applications.remove(name);
      expect(await catalog.applications.get(name)).toBeUndefined();
      await expect(catalog.applications.remove(name)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('an environment keeps how it takes changes, and what a stop recorded until it is cleared', async () => {
      const { environment } = await createEnvironment(catalog, { binding: binding(await cluster()), spec: spec(), updates: 'track', author: 'alice' });
      const env = environment.binding.name;
      expect(environment.updates).toBe('track');
      expect((await catalog.environments.setUpdates(env, 'promotion')).updates).toBe('promotion');
      const stopped = { at: '2026-12-07T20:00:00.000Z', by: 'alice', operationId: 'stop-1', replicas: { 'Deployment/web': 3, 'StatefulSet/db': 1 } };
      expect((await catalog.environments.setStopped(env, stopped)).stopped).toEqual(stopped);
      expect((await catalog.environments.require(env)).stopped).toEqual(stopped);
      expect((await catalog.environments.setStopped(env, undefined)).stopped).toBeUndefined();
    });
  });

  describe('chart renders and uploads (migration 0010)', () => {
    it('keeps a render by its key, the first one stored; reads back what was stored', async () => {
      const key = unique('render').padEnd(64, '0');
      const objects = [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'webapp' }, spec: { replicas: 2 } }];
      expect(await catalog.chartRenders.get(key)).toBeUndefined();
      await catalog.chartRenders.put({ key, chart: 'webapp', source: `oci://registry.example/charts/webapp@sha256:${'a'.repeat(64)}` }, objects);
      await catalog.chartRenders.put({ key, chart: 'webapp', source: 'other' }, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } }]);
      expect(await catalog.chartRenders.get(key)).toEqual(objects);
      const row = await catalog.db.selectFrom('chart_renders').select(['chart', 'source']).where('key', '=', key).executeTakeFirstOrThrow();
      expect(row).toEqual({ chart: 'webapp', source: `oci://registry.example/charts/webapp@sha256:${'a'.repeat(64)}` });
    });

    it('stores an uploaded chart archive by the sha256 of its bytes and a bundle by that of its canonical JSON', async () => {
      const archive = Buffer.from([0x1f, 0x8b, 8, 0, ...Buffer.from(unique('tgz'))]);
      const chart = await catalog.uploads.putChart(archive, 'alice');
      expect(chart).toMatchObject({ digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`, kind: 'chart', size: archive.length, createdBy: 'alice' });
      expect(await catalog.uploads.chart(chart.digest)).toEqual(archive);
      // The same bytes again: the same upload, still alice's.
      expect(await catalog.uploads.putChart(archive, 'bob')).toEqual(chart);
      const name = unique('cm');
      const bundle = await catalog.uploads.putBundle([{ metadata: { name }, kind: 'ConfigMap', apiVersion: 'v1' }], 'bob');
      expect(bundle.digest).toBe(`sha256:${createHash('sha256').update(`[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"}}]`).digest('hex')}`);
      expect(await catalog.uploads.bundle(bundle.digest)).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }]);
      // A digest names one kind of upload only.
      expect(await catalog.uploads.chart(bundle.digest)).toBeUndefined();
      expect(await catalog.uploads.bundle(chart.digest)).toBeUndefined();
    });
  });

  describe('overrides versions', () => {
    it('start at version 1; a change bumps the version and keeps every earlier one readable', async () => {
      const c = await cluster();
      const b = binding(c);
      const { environment: env } = await createEnvironment(catalog, { binding: b, spec: spec(), overrides: { replicas: { web: 3 } }, author: 'alice' });
      expect(env.overridesVersion).toBe(1);
      expect(await catalog.environments.overridesAt(b.name, 1)).toEqual({ replicas: { web: 3 }, resources: {}, hostnames: {}, config: {} });

      const v2 = await catalog.environments.setOverrides(b.name, { replicas: { web: 5 }, config: { region: 'eu' } }, { author: 'bob' });
      expect(v2).toMatchObject({ overridesVersion: 2, generation: 2, overrides: { replicas: { web: 5 }, config: { region: 'eu' } } });
      const v3 = await catalog.environments.setOverrides(b.name, {}, { generation: 2, author: 'carol' });
      expect(v3).toMatchObject({ overridesVersion: 3, generation: 3, overrides: { replicas: {}, config: {} } });
      // What each version held, whatever came after.
      expect(await catalog.environments.overridesAt(b.name, 1)).toEqual({ replicas: { web: 3 }, resources: {}, hostnames: {}, config: {} });
      expect(await catalog.environments.overridesAt(b.name, 2)).toEqual({ replicas: { web: 5 }, resources: {}, hostnames: {}, config: { region: 'eu' } });
      expect(await catalog.environments.overridesAt(b.name, 3)).toEqual({ replicas: {}, resources: {}, hostnames: {}, config: {} });
      await expect(catalog.environments.overridesAt(b.name, 4)).rejects.toBeInstanceOf(NotFoundError);
      // Who wrote each version, straight from the table.
      const rows = await catalog.db.selectFrom('overrides_versions').select(['version', 'author']).where('environment', '=', b.name).orderBy('version').execute();
      expect(rows).toEqual([{ version: 1, author: 'alice' }, { version: 2, author: 'bob' }, { version: 3, author: 'carol' }]);
    });

    it('identical overrides do not bump the version; a stale generation bumps nothing', async () => {
      const name = await environment();
      const v2 = await catalog.environments.setOverrides(name, { replicas: { web: 2, api: 3 }, config: { region: 'eu' } });
      expect(v2.overridesVersion).toBe(2);
      const same = await catalog.environments.setOverrides(name, { replicas: { web: 2, api: 3 }, config: { region: 'eu' } });
      expect(same).toMatchObject({ overridesVersion: 2, generation: v2.generation });
      await expect(catalog.environments.setOverrides(name, { replicas: { web: 9 } }, { generation: v2.generation - 1 })).rejects.toBeInstanceOf(ConflictError);
      expect(await catalog.environments.require(name)).toMatchObject({ overridesVersion: 2, generation: v2.generation });
      await expect(catalog.environments.overridesAt(name, 3)).rejects.toBeInstanceOf(NotFoundError);
      expect(await catalog.db.selectFrom('overrides_versions').select('version').where('environment', '=', name).execute()).toHaveLength(2);
    });
  });

  describe('deployments and desired revisions', () => {
    it('a deploy records its overrides version; with `desired` it moves currentRevision too, without it leaves it', async () => {
      const name = await environment();
      const first = (await catalog.environments.require(name)).currentRevision!;
      const second = (await changeSpec(catalog, name, spec('ghcr.io/acme/web:2.0'), { author: 'bob' })).revision.id;

      // A plain deploy of the old revision: deployed moves, desired stays on the latest spec.
      const plain = await recordDeployment(catalog, name, { revision: first, overridesVersion: 1, by: 'worker', kind: 'deploy', operationId: 'd-1' });
      expect(plain).toMatchObject({ currentRevision: second, deployed: { revision: first, overridesVersion: 1, by: 'worker' } });
      // A promotion (or rollback) says what is desired: both agree afterwards.
      const promoted = await recordDeployment(catalog, name, { revision: first, overridesVersion: 1, by: 'worker', kind: 'promotion', operationId: 'p-1', desired: first });
      expect(promoted).toMatchObject({ currentRevision: first, deployed: { revision: first, overridesVersion: 1 } });
      expect(await catalog.environments.require(name)).toMatchObject({ currentRevision: first, deployed: { revision: first } });
      const history = (await catalog.history.list(name)).items;
      expect(history.slice(0, 2).map((h) => [h.kind, h.revision, h.operationId, h.overridesVersion])).toEqual([
        ['promotion', first, 'p-1', 1], ['deploy', first, 'd-1', 1],
      ]);

      // markDeployed on its own, too.
      const marked = await catalog.environments.markDeployed(name, { revision: second, overridesVersion: 1, by: 'x', desired: second });
      expect(marked).toMatchObject({ currentRevision: second, deployed: { revision: second, overridesVersion: 1, by: 'x' } });
      const noVersion = await catalog.environments.markDeployed(name, { revision: first, by: 'y' });
      expect(noVersion.currentRevision).toBe(second);
      expect(noVersion.deployed).toEqual({ revision: first, at: noVersion.deployed!.at, by: 'y' });
    });

    it('recordUndeploy clears what is deployed, records an undeploy, and sets desired as given', async () => {
      const name = await environment();
      const before = (await catalog.environments.require(name)).currentRevision!;
      const next = (await catalog.revisions.put(spec('ghcr.io/acme/web:9.9'), { author: 'bob' })).revision.id;
      await recordDeployment(catalog, name, { revision: next, overridesVersion: 1, by: 'worker', kind: 'promotion', operationId: 'p-2', desired: next });
      expect(await catalog.environments.require(name)).toMatchObject({ currentRevision: next, deployed: { revision: next } });

      const undone = await recordUndeploy(catalog, name, { revision: next, by: 'alice', operationId: 'p-2', desired: before });
      expect(undone.deployed).toBeUndefined();
      expect(undone.currentRevision).toBe(before);
      expect(await catalog.environments.require(name)).toEqual(undone);
      const [last] = (await catalog.history.list(name)).items;
      expect(last).toMatchObject({ kind: 'undeploy', revision: next, author: 'alice', operationId: 'p-2' });
      expect((await catalog.history.list(name, { kind: 'undeploy' })).items).toHaveLength(1);

      // Without `desired`, the desired revision is left as it is.
      await recordDeployment(catalog, name, { revision: next, by: 'worker', kind: 'deploy' });
      const kept = await recordUndeploy(catalog, name, { revision: next, by: 'alice' });
      expect(kept).toMatchObject({ currentRevision: before, deployed: undefined });
      await expect(recordUndeploy(catalog, unique('missing'), { revision: next, by: 'alice' })).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('environment locks', () => {
    it('acquire all or none, re-entrant for the holder, busy naming the holder, released by the holder only', async () => {
      const [a, b, c] = [await environment(), await environment(), await environment()];
      const [one, two] = [unique('op'), unique('op')];
      await catalog.locks.acquire([a, b], one);
      await catalog.locks.acquire([b, a, a], one); // re-entrant, duplicates fine
      expect((await catalog.locks.heldBy([a, b, c])).map((l) => [l.environment, l.operationId])).toEqual(
        [[a, one], [b, one]].sort((x, y) => x[0]!.localeCompare(y[0]!)),
      );

      const busy = await catalog.locks.acquire([c, b], two).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(EnvironmentBusyError);
      expect((busy as EnvironmentBusyError).held.map((l) => [l.environment, l.operationId])).toEqual([[b, one]]);
      expect((busy as Error).message).toBe(`environment "${b}" is being changed by operation "${one}"`);
      // All or none: the free one was not taken either.
      expect(await catalog.locks.heldBy([c])).toEqual([]);
      expect(await catalog.locks.heldBy([a, b], one)).toEqual([]);

      expect(await catalog.locks.release(two)).toBe(0);
      expect((await catalog.locks.heldBy([a, b])).map((l) => l.operationId)).toEqual([one, one]);
      expect(await catalog.locks.release(one)).toBe(2);
      expect(await catalog.locks.release(one)).toBe(0);
      expect(await catalog.locks.heldBy([a, b, c])).toEqual([]);
      await catalog.locks.acquire([b, c], two);
      expect((await catalog.locks.heldBy([a, b, c])).map((l) => [l.environment, l.operationId]).sort()).toEqual([[b, two], [c, two]].sort());
      await catalog.locks.release(two);
    });

    it('lets exactly one of many concurrent acquirers win; every loser is told who holds it and holds nothing', async () => {
      const [x, y, z] = [await environment(), await environment(), await environment()];
      // Overlapping sets: each wants y and one more.
      const holders = Array.from({ length: 6 }, () => unique('race'));
      const wants = holders.map((_, i) => (i % 2 === 0 ? [x, y] : [y, z]));
      const results = await Promise.allSettled(holders.map((h, i) => catalog.locks.acquire(wants[i]!, h)));
      const winners = holders.filter((_, i) => results[i]!.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      for (const [i, r] of results.entries()) {
        if (r.status === 'fulfilled') continue;
        expect(r.reason).toBeInstanceOf(EnvironmentBusyError);
        expect((r.reason as EnvironmentBusyError).held.map((l) => l.operationId)).toContain(winner);
        expect(await catalog.locks.heldBy([x, y, z], winner), holders[i]).toEqual([]);
      }
      const held = await catalog.locks.heldBy([x, y, z]);
      expect(held.every((l) => l.operationId === winner)).toBe(true);
      expect(held.map((l) => l.environment).sort()).toEqual(wants[holders.indexOf(winner)]!.slice().sort());
      await catalog.locks.release(winner);
    });

    it('go with the environment', async () => {
      const name = await environment();
      await catalog.locks.acquire([name], unique('op'));
      await catalog.environments.remove(name);
      expect(await catalog.locks.heldBy([name])).toEqual([]);
    });
  });

  describe('clones and drill reports', () => {
    it('a clone record moves through its life and stays listed after teardown; locks release by environment', async () => {
      const source = await environment();
      const id = unique('clone');
      const created = await catalog.clones.create({
        id, name: `${id}-env`, source, sourceRevision: 'sha256:abc', cluster: 'c1', purpose: 'preview',
        data: [{ database: 'db', engine: 'postgres', location: 'external', mode: 'scrubbed' }], ttlSeconds: 3600, expiresAt: '2030-01-01T00:00:00Z', createdBy: 'sam',
      });
      expect(created).toMatchObject({ id, state: 'creating', ttlSeconds: 3600, expiresAt: '2030-01-01T00:00:00.000Z' });
      await expect(catalog.clones.create({ ...created, data: created.data })).rejects.toThrow(/already exists/);
      await catalog.clones.update(id, { state: 'ready', dataResult: [{ database: 'db', mode: 'scrubbed', tables: 2, rows: 10, bytes: 99, durationMs: 5 }] });
      expect(await catalog.clones.activeFor(`${id}-env`)).toMatchObject({ id, state: 'ready', dataResult: [{ rows: 10 }] });
      await catalog.clones.update(id, { state: 'torn-down', message: 'TTL expired', expiresAt: null });
      expect(await catalog.clones.activeFor(`${id}-env`)).toBeUndefined();
      expect((await catalog.clones.list({ source, active: true })).map((c) => c.id)).toEqual([]);
      expect((await catalog.clones.list({ source }))).toEqual([expect.objectContaining({ id, state: 'torn-down', message: 'TTL expired' })]);
      expect((await catalog.clones.require(id)).expiresAt).toBeUndefined();

      const [a, b] = [await environment(), await environment()];
      const holder = unique('op');
      await catalog.locks.acquire([a, b], holder);
      expect(await catalog.locks.release(holder, [b])).toBe(1);
      expect((await catalog.locks.heldBy([a, b])).map((l) => l.environment)).toEqual([a]);
      expect(await catalog.locks.release(holder, [])).toBe(0);
      expect(await catalog.locks.release(holder)).toBe(1);
    });

    it('drill reports: saved (a retry replaces), newest first per source', async () => {
      const source = unique('src');
      const report = (id: string, startedAt: string, rto: number) => ({
        id, source, clone: `${source}-drill`, cluster: 'dr-1', requestedBy: 'sre', startedAt, finishedAt: startedAt, outcome: 'passed' as const,
        phases: [], checks: [], rtoSeconds: rto, objectives: {}, objectivesMet: {}, data: [], kept: false, tornDown: true,
      });
      await catalog.drills.save(report(`${source}-1`, '2026-01-01T00:00:00.000Z', 120), '# one');
      await catalog.drills.save(report(`${source}-1`, '2026-01-01T00:00:00.000Z', 90), '# one, again');
      await catalog.drills.save(report(`${source}-2`, '2026-02-01T00:00:00.000Z', 60), '# two');
      expect((await catalog.drills.list({ source })).map((d) => [d.id, d.rtoSeconds])).toEqual([[`${source}-2`, 60], [`${source}-1`, 90]]);
      expect(await catalog.drills.require(`${source}-1`)).toMatchObject({ markdown: '# one, again', report: { rtoSeconds: 90 } });
    });
  });

  describe('migration 0003 (change control)', () => {
    it('on a catalog with environments: each gets overrides version 1 (stored), and what is deployed was deployed with it', async () => {
      const oldUrl = await target.newUrl();
      const old = await openCatalogDatabase(oldUrl, { migrate: false });
      try {
        // The catalog as 0002 left it.
        const before = new Migrator({
          db: old.db,
          provider: { getMigrations: () => Promise.resolve({ '0001-initial': initialMigration, '0002-idempotency': idempotencyMigration }) },
          migrationTableName: 'flotilla_migration',
          migrationLockTableName: 'flotilla_migration_lock',
        });
        const applied = await before.migrateToLatest();
        expect(applied.error).toBeUndefined();
        expect(applied.results?.map((r) => r.migrationName)).toEqual(['0001-initial', '0002-idempotency']);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema as it was, not today's
        const db = old.db as any;
        const at = '2026-01-01T00:00:00.000Z';
        await db.insertInto('clusters').values({
          name: 'old-c', provider: 'kubeconfig', region: null, labels: '{}', connection: JSON.stringify(kubeconfig('old-kc')),
          status: 'ready', status_message: null, version: null, capacity: null, generation: 1, created_at: at, updated_at: at,
        }).execute();
        const rev = revisionOf(AppSpec.parse(spec()));
        await db.insertInto('revisions').values({ id: rev, spec: JSON.stringify(AppSpec.parse(spec())), author: 'alice', created_at: at }).execute();
        const overrides = { replicas: { web: 4 }, resources: {}, hostnames: {}, config: {} };
        for (const [name, deployed] of [['old-deployed', true], ['old-fresh', false]] as const) {
          await db.insertInto('environments').values({
            name, application: 'shop', tier: 'prod', residency: null, cluster: 'old-c', namespace: name, current_revision: rev,
            deployed_revision: deployed ? rev : null, deployed_at: deployed ? at : null, deployed_by: deployed ? 'worker' : null,
            overrides: JSON.stringify(overrides), generation: 1, created_at: at, updated_at: at,
          }).execute();
        }
        await db.insertInto('operations').values({ id: 'old-op', kind: 'deploy', state: 'completed', requested_by: 'alice', started_at: at, finished_at: at, updated_at: at }).execute();

        expect(await migrateToLatest(old.db)).toEqual(['0003-change-control', '0004-token-owners', '0005-cluster-placement', '0006-clones', '0007-drill-reports', '0008-observer', '0009-lifecycle', '0010-chart-renders']);
      } finally {
        await old.close();
      }

      const migrated = await openCatalog({ url: oldUrl, masterKey });
      try {
        const deployed = await migrated.environments.require('old-deployed');
        // 0008: environments made before drift policies only report drift.
        expect(deployed.driftPolicy).toBe('report');
        // 0009: environments made before Applications carry their own spec (inline), and run.
        expect(deployed.updates).toBe('inline');
        expect(deployed.stopped).toBeUndefined();
        expect(await migrated.applications.list()).toEqual([]);
        expect(deployed).toMatchObject({ overridesVersion: 1, overrides: { replicas: { web: 4 } }, deployed: { overridesVersion: 1, by: 'worker' } });
        const fresh = await migrated.environments.require('old-fresh');
        expect(fresh.overridesVersion).toBe(1);
        expect(fresh.deployed).toBeUndefined();
        for (const name of ['old-deployed', 'old-fresh']) {
          expect(await migrated.environments.overridesAt(name, 1)).toEqual({ replicas: { web: 4 }, resources: {}, hostnames: {}, config: {} });
        }
        const rows = await migrated.db.selectFrom('overrides_versions').select(['environment', 'version', 'author']).orderBy('environment').execute();
        expect(rows).toEqual([
          { environment: 'old-deployed', version: 1, author: 'migration' },
          { environment: 'old-fresh', version: 1, author: 'migration' },
        ]);
        // The next change is version 2, and version 1 stays.
        expect((await migrated.environments.setOverrides('old-fresh', { replicas: { web: 1 } })).overridesVersion).toBe(2);
        expect((await migrated.environments.overridesAt('old-fresh', 1)).replicas).toEqual({ web: 4 });
        // Operations from before have no outcome; locks start empty and work.
        expect(await migrated.operations.require('old-op')).toMatchObject({ state: 'completed', requestedBy: 'alice' });
        expect((await migrated.operations.require('old-op')).outcome).toBeUndefined();
        expect(await migrated.locks.list()).toEqual([]);
        await migrated.locks.acquire(['old-deployed'], 'op-1');
        expect(await migrated.locks.list()).toMatchObject([{ environment: 'old-deployed', operationId: 'op-1' }]);
        // Opening again migrates nothing.
        expect(await migrateToLatest(migrated.db)).toEqual([]);
      } finally {
        await migrated.close();
      }
    });
  });

  describe('revisions', () => {
    it('are content-addressed: the same spec in another key or list order is the same row', async () => {
      const image = `ghcr.io/acme/web:${unique('v')}`;
      const first = await catalog.revisions.put(spec(image), { author: 'alice' });
      expect(first.created).toBe(true);
      expect(first.revision.id).toBe(revisionOf(AppSpec.parse(spec(image))));

      const reordered = JSON.parse(JSON.stringify(spec(image), (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v)) as AppSpecInput;
      reordered.services = [...reordered.services!].reverse();
      expect(Object.keys(reordered)).not.toEqual(Object.keys(spec(image)));
      const again = await catalog.revisions.put(reordered, { author: 'bob' });
      expect(again).toEqual({ revision: first.revision, created: false });

      const rows = await catalog.db.selectFrom('revisions').select('id').where('id', '=', first.revision.id).execute();
      expect(rows).toHaveLength(1);
      expect((await catalog.revisions.require(first.revision.id)).spec).toEqual(first.revision.spec);

      const other = await catalog.revisions.put(spec(`${image}-2`), { author: 'alice' });
      expect(other.revision.id).not.toBe(first.revision.id);
      await expect(catalog.revisions.require('sha256:nope')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('transactions', () => {
    it('roll back every table when any step fails', async () => {
      const c = await cluster();
      const image = `ghcr.io/acme/web:${unique('tx')}`;
      const id = revisionOf(AppSpec.parse(spec(image)));
      const b = binding(c);
      await expect(catalog.transaction(async (tx) => {
        const { revision } = await tx.revisions.put(spec(image), { author: 'alice' });
        await tx.environments.create({ binding: b, currentRevision: revision.id });
        await tx.history.record({ environment: b.name, revision: revision.id, author: 'alice', kind: 'spec-change' });
        await tx.audit.append({ actor: 'alice', action: 'environment.create', target: `environment/${b.name}`, result: 'ok' });
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect(await catalog.revisions.get(id)).toBeUndefined();
      expect(await catalog.environments.get(b.name)).toBeUndefined();
      expect((await catalog.audit.query({ target: `environment/${b.name}` })).items).toEqual([]);
      expect(await catalog.db.selectFrom('revision_history').select('id').where('environment', '=', b.name).execute()).toEqual([]);
    });

    it('roll back a helper whose last write is refused: no orphan revision stays behind', async () => {
      const c = await cluster();
      const taken = await environment(c);
      const image = `ghcr.io/acme/web:${unique('tx')}`;
      await expect(createEnvironment(catalog, { binding: { ...binding(c), namespace: taken }, spec: spec(image), author: 'alice' }))
        .rejects.toBeInstanceOf(ConflictError);
      expect(await catalog.revisions.get(revisionOf(AppSpec.parse(spec(image))))).toBeUndefined();
    });
  });

  describe('rules', () => {
    it('keep one current version, every earlier one, and refuse stale writers', async () => {
      // The only test that writes rules: the organisation has one document.
      expect(await catalog.rules.current()).toMatchObject({ version: 0, rules: { freezeWindows: [], approvals: {} } });
      const v1 = await catalog.rules.put({ forbidLatestTag: {} }, { by: 'alice', expectedVersion: 0 });
      expect(v1).toMatchObject({ version: 1, updatedBy: 'alice', rules: { forbidLatestTag: { enforcement: 'block' } } });
      const v2 = await catalog.rules.put({ minReplicas: { perTier: { prod: 2 } } }, { by: 'bob' });
      expect(v2.version).toBe(2);
      await expect(catalog.rules.put({}, { by: 'carol', expectedVersion: 1 })).rejects.toThrow(new ConflictError('rules are at version 2, not 1; reload and retry'));

      expect(await catalog.rules.current()).toEqual(v2);
      expect((await catalog.rules.history()).map((r) => [r.version, r.updatedBy])).toEqual([[2, 'bob'], [1, 'alice']]);
      expect(await catalog.rules.get(1)).toEqual(v1);
      await expect(catalog.rules.get(9)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('tokens', () => {
    it('store only a hash, verify live tokens, and stop verifying revoked ones', async () => {
      const name = unique('ci');
      const { token, record } = await catalog.tokens.create({ name, role: 'release-manager', tiers: ['staging', 'prod'], createdBy: 'admin' });
      expect(token).toMatch(/^flt_[A-Za-z0-9_-]{43}$/);
      expect(record).toMatchObject({ name, role: 'release-manager', tiers: ['staging', 'prod'], createdBy: 'admin' });
      expect(JSON.stringify(await catalog.db.selectFrom('tokens').selectAll().execute())).not.toContain(token.slice(4));

      // Without an owner of its own, a token stands for an owner of its name.
      expect(await catalog.tokens.verify(token)).toEqual({ tokenId: record.id, tokenName: name, name, role: 'release-manager', tiers: ['staging', 'prod'] });
      expect((await catalog.tokens.require(record.id)).lastUsedAt).toBeDefined();
      expect(await catalog.tokens.verify(`${token.slice(0, -1)}x`)).toBeUndefined();
      expect(await catalog.tokens.verify('not-a-token')).toBeUndefined();

      await expect(catalog.tokens.create({ name, role: 'viewer' })).rejects.toBeInstanceOf(ConflictError);
      const revoked = await catalog.tokens.revoke(record.id);
      expect(revoked.revokedAt).toBeDefined();
      expect(await catalog.tokens.verify(token)).toBeUndefined();
      expect((await catalog.tokens.list()).map((t) => t.id)).not.toContain(record.id);
      expect((await catalog.tokens.list({ includeRevoked: true })).map((t) => t.id)).toContain(record.id);

      // A revoked token's name is free again.
      const admin = await catalog.tokens.create({ name, role: 'admin' });
      expect(await catalog.tokens.verify(admin.token)).toEqual({ tokenId: admin.record.id, tokenName: name, name, role: 'admin' });
      // A token that stands for someone else: the principal is its owner.
      const owned = await catalog.tokens.create({ name: unique('laptop'), owner: 'ana', role: 'viewer' });
      expect(await catalog.tokens.verify(owned.token)).toMatchObject({ tokenName: owned.record.name, name: 'ana' });
      await expect(catalog.tokens.revoke(unique('missing'))).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('audit log', () => {
    it('filters by actor, target, action, result and time, newest first, in pages', async () => {
      const actor = unique('actor');
      const target = `environment/${unique('env')}`;
      const base = Date.parse('2030-01-01T00:00:00Z');
      const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
      const entries = [
        { at: at(0), action: 'environment.create', result: 'ok' as const },
        { at: at(1), action: 'environment.deploy', result: 'denied' as const, details: { violations: ['forbidLatestTag'] } },
        { at: at(2), action: 'environment.deploy', result: 'ok' as const, operationId: 'deploy-42' },
        { at: at(2), action: 'environment.deploy', result: 'error' as const },
        { at: at(3), action: 'token.create', result: 'ok' as const },
      ];
      for (const e of entries) await catalog.audit.append({ actor, target: e.action.startsWith('token') ? 'token/x' : target, ...e });
      await catalog.audit.append({ actor: unique('other'), action: 'environment.deploy', target, result: 'ok', at: at(2) });

      const mine = await catalog.audit.query({ actor });
      expect(mine.items.map((e) => e.at)).toEqual([at(3), at(2), at(2), at(1), at(0)]);
      // Same instant: the later append comes first.
      expect(mine.items[1]!.result).toBe('error');
      expect(mine.nextCursor).toBeUndefined();

      expect((await catalog.audit.query({ target })).items).toHaveLength(5);
      expect((await catalog.audit.query({ actor, target, action: 'environment.deploy' })).items).toHaveLength(3);
      expect((await catalog.audit.query({ actor, result: 'denied' })).items).toMatchObject([{ details: { violations: ['forbidLatestTag'] } }]);
      expect((await catalog.audit.query({ operationId: 'deploy-42', actor })).items).toHaveLength(1);
      expect((await catalog.audit.query({ actor, since: at(1), until: at(3) })).items.map((e) => e.action))
        .toEqual(['environment.deploy', 'environment.deploy', 'environment.deploy']);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await catalog.audit.query({ actor, limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(mine.items.map((e) => e.id));
      await expect(catalog.audit.query({ cursor: 'garbage' })).rejects.toBeInstanceOf(InvalidInputError);
    });
  });

  describe('operations', () => {
    it('index workflow runs idempotently and filter by kind, environment, cluster and state', async () => {
      const [env, c1, c2] = [unique('env'), unique('c'), unique('c')];
      const promotion = unique('promote');
      // Explicit start times: two records in one millisecond would otherwise tie.
      const first = await catalog.operations.record({ id: promotion, kind: 'promotion', environments: [env], clusters: [c1, c2], requestedBy: 'alice', startedAt: '2026-01-01T00:00:00.000Z' });
      expect(first).toMatchObject({ id: promotion, state: 'running', environments: [env], clusters: [c1, c2].sort() });
      // A retry of the same start records nothing new.
      expect(await catalog.operations.record({ id: promotion, kind: 'promotion', environments: [env], clusters: [c2] })).toEqual(first);
      const deploy = unique('deploy');
      await catalog.operations.record({ id: deploy, kind: 'deploy', environments: [env], clusters: [c1], startedAt: '2026-01-01T00:00:01.000Z' });

      expect((await catalog.operations.list({ environment: env })).items.map((o) => o.id)).toEqual([deploy, promotion]);
      expect((await catalog.operations.list({ cluster: c2 })).items.map((o) => o.id)).toEqual([promotion]);
      expect((await catalog.operations.list({ cluster: c1, kind: 'deploy' })).items.map((o) => o.id)).toEqual([deploy]);

      const done = await catalog.operations.setState(deploy, 'completed');
      expect(done.finishedAt).toBeDefined();
      expect((await catalog.operations.list({ environment: env, state: 'running' })).items.map((o) => o.id)).toEqual([promotion]);
      const page = await catalog.operations.list({ environment: env, limit: 1 });
      expect(page.items.map((o) => o.id)).toEqual([deploy]);
      expect((await catalog.operations.list({ environment: env, limit: 1, cursor: page.nextCursor })).items.map((o) => o.id)).toEqual([promotion]);
      await expect(catalog.operations.setState(unique('missing'), 'failed')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('operation reports', () => {
    it('record an operation nobody recorded, carry the outcome, and never reopen a finished one', async () => {
      const [id, env, c] = [unique('promote'), unique('env'), unique('c')];
      expect(await catalog.operations.get(id)).toBeUndefined();
      const running = await catalog.operations.report({ id, kind: 'promotion', state: 'running', environments: [env], clusters: [c], requestedBy: 'alice' });
      expect(running).toMatchObject({ id, kind: 'promotion', state: 'running', environments: [env], clusters: [c], requestedBy: 'alice' });
      expect(running.finishedAt).toBeUndefined();
      expect(running.outcome).toBeUndefined();
      // A later report moves the state; subjects are those of the first record.
      const waiting = await catalog.operations.report({ id, kind: 'promotion', state: 'waiting', environments: ['ignored'] });
      expect(waiting).toMatchObject({ state: 'waiting', environments: [env] });

      const done = await catalog.operations.report({ id, kind: 'promotion', state: 'completed', outcome: 'rolled-back', message: 'stage "eu" failed', at: '2030-01-01T00:00:00.000Z' });
      expect(done).toMatchObject({ state: 'completed', outcome: 'rolled-back', message: 'stage "eu" failed', finishedAt: '2030-01-01T00:00:00.000Z' });
      // A late (retried, reordered) report of a running state does not reopen it.
      expect(await catalog.operations.report({ id, kind: 'promotion', state: 'running' })).toEqual(done);
      expect(await catalog.operations.report({ id, kind: 'promotion', state: 'paused', message: 'late' })).toEqual(done);
      expect(await catalog.operations.require(id)).toEqual(done);

      // Filter by outcome.
      const other = unique('promote');
      await catalog.operations.report({ id: other, kind: 'promotion', state: 'completed', outcome: 'completed', environments: [env] });
      expect((await catalog.operations.list({ environment: env, outcome: 'rolled-back' })).items.map((o) => o.id)).toEqual([id]);
      expect((await catalog.operations.list({ environment: env, outcome: 'completed' })).items.map((o) => o.id)).toEqual([other]);
      expect((await catalog.operations.list({ environment: env, state: 'completed' })).items.map((o) => o.id).sort()).toEqual([id, other].sort());
    });

    it('the API\'s record after the workflow\'s first report adds the subjects the report did not know', async () => {
      const [id, env, c] = [unique('promote'), unique('env'), unique('c')];
      await catalog.operations.report({ id, kind: 'promotion', state: 'running', environments: [env] });
      const recorded = await catalog.operations.record({ id, kind: 'promotion', environments: [env], clusters: [c], requestedBy: 'alice' });
      expect(recorded).toMatchObject({ environments: [env], clusters: [c] });
      expect((await catalog.operations.list({ cluster: c })).items.map((o) => o.id)).toEqual([id]);
    });

    it('keep an operation the API recorded (its subjects and start), and a failure ends it as failed', async () => {
      const [id, env] = [unique('deploy'), unique('env')];
      const recorded = await catalog.operations.record({ id, kind: 'deploy', environments: [env], requestedBy: 'bob', startedAt: '2026-02-01T00:00:00.000Z' });
      await catalog.operations.report({ id, kind: 'deploy', state: 'running', environments: [unique('env')] });
      const failed = await catalog.operations.report({ id, kind: 'deploy', state: 'failed', outcome: 'failed', message: 'rollout failed: Deployment x/web: ProgressDeadlineExceeded' });
      expect(failed).toMatchObject({
        id, state: 'failed', outcome: 'failed', environments: [env], requestedBy: 'bob', startedAt: recorded.startedAt,
        message: 'rollout failed: Deployment x/web: ProgressDeadlineExceeded',
      });
      expect(failed.finishedAt).toBeDefined();
      expect(await catalog.operations.report({ id, kind: 'deploy', state: 'running' })).toEqual(failed);
    });
  });

  describe('status', () => {
    it('replaces an environment snapshot and lists drift', async () => {
      const env = await environment();
      await catalog.status.replace(env, [
        { service: 'web', readyReplicas: 2, desiredReplicas: 3, health: 'progressing', revision: 'sha256:a', drift: false },
        { service: 'api', readyReplicas: 2, desiredReplicas: 2, health: 'healthy', revision: 'sha256:a', drift: true },
      ]);
      expect((await catalog.status.forEnvironment(env)).map((s) => [s.service, s.health, s.drift])).toEqual([
        ['api', 'healthy', true], ['web', 'progressing', false],
      ]);
      expect((await catalog.status.list({ drift: true })).filter((s) => s.environment === env).map((s) => s.service)).toEqual(['api']);

      await catalog.status.replace(env, [{ service: 'web', readyReplicas: 3, desiredReplicas: 3, health: 'healthy', drift: false }]);
      expect(await catalog.status.forEnvironment(env)).toMatchObject([{ service: 'web', readyReplicas: 3, health: 'healthy', revision: undefined }]);
      await expect(catalog.status.replace(unique('missing'), [{ service: 'web', readyReplicas: 0, desiredReplicas: 1, health: 'unknown', drift: false }]))
        .rejects.toBeInstanceOf(ConflictError);
    });
  });

  describe('observations', () => {
    it('a lease keeps a cluster to one observer until it lapses; snapshots and reachability keep their since', async () => {
      const c = await cluster();
      const env = await environment(c);
      const obs = catalog.observations;
      const t = (s: number) => new Date(Date.parse('2026-06-01T00:00:00.000Z') + s * 1000).toISOString();
      expect(await obs.acquireLease(c, 'a', t(0), t(15))).toBe(true);
      expect(await obs.acquireLease(c, 'b', t(1), t(16))).toBe(false);
      await expect(obs.setReachability('b', c, { reachable: true, at: t(1) })).rejects.toBeInstanceOf(LeaseLostError);
      await obs.setReachability('a', c, { reachable: true, at: t(1) });
      await obs.setReachability('a', c, { reachable: true, at: t(3) });
      await obs.setReachability('a', c, { reachable: false, at: t(5), message: 'no answer' });
      expect((await obs.clusters()).find((x) => x.cluster === c)).toEqual({ cluster: c, reachable: false, since: t(5), lastSeenAt: t(3), message: 'no answer', observer: 'a' });
      const drift = [{ kind: 'Deployment', name: 'web', reason: 'deleted' as const, fields: [] }];
      const web = { service: 'web', desiredReplicas: 1, readyReplicas: 0, updatedReplicas: 0, restarts: 0, health: 'unavailable' as const, drift: true };
      await obs.writeEnvironment('a', { environment: env, cluster: c, health: 'unavailable', drift, services: [web], at: t(6) });
      await obs.writeEnvironment('a', { environment: env, cluster: c, health: 'unavailable', drift, services: [web], at: t(7) });
      expect(await obs.environment(env)).toMatchObject({ health: 'unavailable', drift, driftSince: t(6), observedAt: t(7), changedAt: t(6) });
      expect((await obs.environments({ drifted: true })).map((e) => e.environment)).toContain(env);
      // Lapsed at 15 s: b takes it over, and a may not write any more.
      expect(await obs.acquireLease(c, 'b', t(16), t(31))).toBe(true);
      await expect(obs.writeEnvironment('a', { environment: env, cluster: c, health: 'healthy', drift: [], services: [], at: t(17) })).rejects.toBeInstanceOf(LeaseLostError);
      await obs.writeEnvironment('b', { environment: env, cluster: c, health: 'healthy', drift: [], services: [], at: t(17) });
      expect(await obs.environment(env)).toMatchObject({ health: 'healthy', drift: [], driftSince: undefined });
      expect((await obs.environments({ drifted: true })).map((e) => e.environment)).not.toContain(env);
      await obs.releaseLeases('b');
      expect((await obs.leases()).filter((l) => l.cluster === c)).toEqual([]);
      // An environment's observations go with it.
      await catalog.environments.remove(env);
      expect(await obs.environment(env)).toBeUndefined();
    });
  });

  describe('secrets', () => {
    it('round-trip per scope, list names only, overwrite and remove', async () => {
      const env = unique('env');
      const scope = environmentScope(env);
      await catalog.secrets.put(scope, 'DB_PASSWORD', 'first');
      await catalog.secrets.put(scope, 'DB_PASSWORD', 'second');
      await catalog.secrets.put(scope, 'API_KEY', 'k€y with ünïcode');
      await catalog.secrets.put(GLOBAL_SCOPE, `${env}-kc`, 'apiVersion: v1\nkind: Config\n');
      expect(await catalog.secrets.get(scope, 'DB_PASSWORD')).toBe('second');
      expect(await catalog.secrets.require(scope, 'API_KEY')).toBe('k€y with ünïcode');
      expect((await catalog.secrets.list(scope)).map((s) => s.name)).toEqual(['API_KEY', 'DB_PASSWORD']);
      expect(await catalog.secrets.get(environmentScope(unique('other')), 'DB_PASSWORD')).toBeUndefined();
      expect(await catalog.secrets.remove(scope, 'API_KEY')).toBe(true);
      expect(await catalog.secrets.remove(scope, 'API_KEY')).toBe(false);
      await expect(catalog.secrets.require(scope, 'API_KEY')).rejects.toBeInstanceOf(NotFoundError);
      await expect(catalog.secrets.put('nonsense', 'x', 'y')).rejects.toBeInstanceOf(InvalidInputError);
    });

    it('never store a value in plain text', async () => {
      const value = `plaintext-${randomBytes(12).toString('hex')}`;
      const scope = environmentScope(unique('env'));
      await catalog.secrets.put(scope, 'DB_PASSWORD', value);
      await catalog.secrets.put(GLOBAL_SCOPE, unique('kc'), `token: ${value}`);
      expect(await catalog.secrets.get(scope, 'DB_PASSWORD')).toBe(value);
      const raw = await target.rawSecrets(url, catalog);
      expect(raw).toContain('DB_PASSWORD');
      expect(raw).not.toContain(value);
      expect(raw).not.toContain(value.slice('plaintext-'.length));
    });

    it('fail clearly with the wrong master key, and never show the value', async () => {
      const value = `wrong-key-${randomBytes(8).toString('hex')}`;
      const scope = environmentScope(unique('env'));
      await catalog.secrets.put(scope, 'TOKEN', value);
      const other = await openCatalog({ url, masterKey: LocalMasterKey.generate() });
      try {
        const error = await other.secrets.get(scope, 'TOKEN').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SecretDecryptionError);
        expect((error as Error).message).toMatch(new RegExp(`cannot decrypt secret "TOKEN" in scope "${scope}": encrypted with master key local:[0-9a-f]{16}, but the configured master key is local:[0-9a-f]{16}`));
        expect((error as Error).message).not.toContain(value);
        expect((await other.secrets.list(scope)).map((s) => s.name)).toEqual(['TOKEN']);
      } finally {
        await other.close();
      }
    });

    it('detect tampering: altered ciphertext, altered wrapped key, a row moved to another name', async () => {
      const scope = environmentScope(unique('env'));
      const flip = (b64: string) => {
        const bytes = Buffer.from(b64, 'base64');
        bytes[0] = bytes[0]! ^ 0x01;
        return bytes.toString('base64');
      };
      const row = async (name: string) => catalog.db.selectFrom('secrets').selectAll().where('scope', '=', scope).where('name', '=', name).executeTakeFirstOrThrow();

      await catalog.secrets.put(scope, 'A', 'value-a');
      await catalog.db.updateTable('secrets').set({ ciphertext: flip((await row('A')).ciphertext) }).where('scope', '=', scope).where('name', '=', 'A').execute();
      await expect(catalog.secrets.get(scope, 'A')).rejects.toThrow(new SecretDecryptionError(
        `cannot decrypt secret "A" in scope "${scope}": the value failed its integrity check (the stored row was altered)`));

      await catalog.secrets.put(scope, 'B', 'value-b');
      await catalog.db.updateTable('secrets').set({ wrapped_key: flip((await row('B')).wrapped_key) }).where('scope', '=', scope).where('name', '=', 'B').execute();
      await expect(catalog.secrets.get(scope, 'B')).rejects.toThrow(/data key failed its integrity check/);

      // Copy C's sealed columns over D: D must not open as C's value.
      await catalog.secrets.put(scope, 'C', 'value-c');
      await catalog.secrets.put(scope, 'D', 'value-d');
      const { ciphertext, iv, tag, wrapped_key } = await row('C');
      await catalog.db.updateTable('secrets').set({ ciphertext, iv, tag, wrapped_key }).where('scope', '=', scope).where('name', '=', 'D').execute();
      await expect(catalog.secrets.get(scope, 'D')).rejects.toBeInstanceOf(SecretDecryptionError);
      expect(await catalog.secrets.get(scope, 'C')).toBe('value-c');
    });
  });
}
