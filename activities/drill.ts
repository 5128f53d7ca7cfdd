// DR drill activities: validating a ready clone (each check says what it found, none throws for
// a failed check) and keeping the drill's report.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { drillMarkdown, type CheckResult, type HttpCheck } from '../domain/drill.js';
import { LABEL } from '../domain/labels.js';
import type { Manifest } from '../domain/manifest.js';
import type { DatabaseConnector } from '../providers/databases/connector.js';
import type { KubeClient } from '../providers/kubernetes/client.js';
import { readObject } from '../providers/kubernetes/read.js';
import { RolloutFailedError, RolloutTimeoutError, waitForRollouts, type WorkloadKind } from '../providers/kubernetes/rollout.js';
import type { Catalog } from '../store/catalog.js';
import { renderEnvironment } from '../store/chart-renders.js';
import { type HelmDeps, helmRenderer } from './charts.js';
import { NotFoundError } from '../store/errors.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import type { DrillActivities } from './drill-types.js';

export interface DrillActivityDeps extends KubernetesActivityDeps {
  helm?: HelmDeps;
  catalog: Catalog;
  databases: DatabaseConnector;
}

/** Schemas a copy never writes user rows into. */
const SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'flotilla_clone', 'pg_toast')";

export function createDrillActivities(deps: DrillActivityDeps): DrillActivities {
  const { catalog, databases } = deps;
  const { withClient } = clusterClients(deps);

  async function load(cloneId: string) {
    try {
      const clone = await catalog.clones.require(cloneId);
      const env = await catalog.environments.require(clone.name);
      const revision = env.deployed?.revision ?? clone.sourceRevision;
      const { spec } = await catalog.revisions.require(revision);
      return { env, revision, spec, manifests: await renderEnvironment(catalog, { binding: env.binding, spec, overrides: env.overrides, revision }, helmRenderer(deps.helm, catalog)) };
    } catch (error) {
      if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFound');
      throw error;
    }
  }

  return {
    async validateClone({ cloneId, copied, http }) {
      const { env, revision, manifests } = await load(cloneId);
      const beat = (check: string) => Context.current().heartbeat({ check });
      const results = await withClient(env.binding.cluster, async (client) => {
        beat('workloads ready');
        const ready = await workloadsReady(client, manifests);
        beat('live objects');
        const live = await liveMatches(client, manifests, revision);
        beat('http');
        return [ready, live, ...await Promise.all(http.map((check) => httpCheck(client, env.binding.namespace, check)))];
      });
      for (const { database, rows } of copied) {
        beat(`rows of ${database}`);
        results.push(await rowsMatch(databases, env.binding.name, database, rows, beat));
      }
      return results;
    },

    async saveDrillReport({ report }) {
      await catalog.drills.save(report, drillMarkdown(report));
    },
  };
}

async function workloadsReady(client: KubeClient, manifests: Manifest[]): Promise<CheckResult> {
  const workloads = manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
    .map((m) => ({ kind: m.kind as WorkloadKind, namespace: m.metadata.namespace!, name: m.metadata.name }));
  try {
    await waitForRollouts(client, workloads, { timeoutMs: 0, pollMs: 0 });
    return { name: 'workloads ready', ok: true, detail: `${workloads.length} workloads` };
  } catch (error) {
    if (error instanceof RolloutTimeoutError || error instanceof RolloutFailedError) return { name: 'workloads ready', ok: false, detail: error.message };
    throw error;
  }
}

/** Every object the clone's revision renders exists, labelled with that revision; Deployments with its replicas and images, ConfigMaps with its data. */
async function liveMatches(client: KubeClient, manifests: Manifest[], revision: string): Promise<CheckResult> {
  const name = `live objects match revision ${revision.replace(/^sha256:/, '').slice(0, 12)}`;
  const problems: string[] = [];
  for (const m of manifests) {
    const live = await readObject(client, { apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name });
    const ref = `${m.kind}/${m.metadata.name}`;
    if (!live) {
      problems.push(`${ref} missing`);
      continue;
    }
    const wantedRevision = m.metadata.labels?.[LABEL.revision];
    if (wantedRevision !== undefined && live.metadata.labels?.[LABEL.revision] !== wantedRevision) problems.push(`${ref} at another revision`);
    const spec = (o: unknown) => (o as { spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } } }).spec;
    if (m.kind === 'Deployment' || m.kind === 'StatefulSet') {
      if (spec(m)?.replicas !== undefined && spec(live)?.replicas !== spec(m)?.replicas) problems.push(`${ref} runs ${spec(live)?.replicas} replicas, not ${spec(m)?.replicas}`);
      const images = (o: unknown) => JSON.stringify(spec(o)?.template?.spec?.containers?.map((c) => c.image));
      if (images(live) !== images(m)) problems.push(`${ref} runs other images`);
    }
    if (m.kind === 'ConfigMap' && JSON.stringify((live as { data?: unknown }).data ?? {}) !== JSON.stringify((m as { data?: unknown }).data ?? {})) problems.push(`${ref} holds other data`);
  }
  return problems.length === 0 ? { name, ok: true, detail: `${manifests.length} objects` } : { name, ok: false, detail: problems.slice(0, 10).join('; ') };
}

/** The clone's database holds as many rows as its copy moved (tables of every user schema). */
async function rowsMatch(databases: DatabaseConnector, environment: string, database: string, expected: number, beat: (check: string) => void): Promise<CheckResult> {
  const name = `rows of ${database}`;
  const endpoint = await databases.open(environment, database);
  const client = new pg.Client({ connectionString: endpoint.url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows: tables } = await client.query<{ schema: string; table: string }>(
      `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ${SYSTEM_SCHEMAS}`);
    let count = 0;
    for (const t of tables) {
      beat(`rows of ${database}: ${t.schema}.${t.table}`);
      const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.table)}`);
      count += Number(rows[0]!.n);
    }
    return { name, ok: count === expected, detail: `${count} rows in ${tables.length} tables; the copy moved ${expected}` };
  } finally {
    await client.end().catch(() => undefined);
    await endpoint.close();
  }
}

/** GET through the API server's service proxy, in the clone's namespace. */
async function httpCheck(client: KubeClient, namespace: string, check: HttpCheck): Promise<CheckResult> {
  const name = `GET ${check.service}${check.port ? `:${check.port}` : ''}${check.path}`;
  const service = check.port ? `${check.service}:${check.port}` : check.service;
  try {
    await client.request('GET', `/api/v1/namespaces/${namespace}/services/${service}/proxy${check.path}`, { accept: '*/*' }).catch((error: unknown) => {
      // A 2xx whose body is not JSON: answered all the same.
      if (error instanceof SyntaxError) return undefined;
      throw error;
    });
    const ok = check.expectStatus === undefined || (check.expectStatus >= 200 && check.expectStatus < 300);
    return { name, ok, detail: ok ? 'answered 2xx' : `answered 2xx, expected ${check.expectStatus}` };
  } catch (error) {
    const status = (error as { statusCode?: number; code?: number }).statusCode ?? (error as { code?: number }).code;
    if (typeof status === 'number' && check.expectStatus === status) return { name, ok: true, detail: `answered ${status}` };
    return { name, ok: false, detail: typeof status === 'number' ? `answered ${status}` : (error as Error).message };
  }
}
