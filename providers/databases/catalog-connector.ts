// The DatabaseConnector of the worker (connector.ts): finds a database in the catalog (the
// environment's deployed revision, else its current one) and opens a route to it.
//   - external: the connection string in the environment's catalog secret `connectionSecret`.
//   - container: a port-forward through the cluster's API server to the database's pod
//     (providers/kubernetes/port-forward.ts), as Flotilla's agent, then PostgreSQL as user
//     `postgres` with the password in the catalog secret `<DB>_PASSWORD` (domain/render.ts).
// Only PostgreSQL carries data: other engines are refused with a typed error.
//
// Each route is checked with a real login (SELECT 1) before it is handed out (`verify`), so a
// wrong password, a missing database or an unreachable pod fails here, named, and not in the
// middle of a copy. A container route's sessions carry an application_name of their own, and
// closing the route ends those still open on the server (see endSessions). Errors and `describe` name environment, database, cluster and namespace,
// never the URL, the password or a token.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../domain/environment.js';
import { LABEL } from '../../domain/labels.js';
import { databasePasswordSecret } from '../../domain/render.js';
import { shortRevision } from '../../domain/revision.js';
import type { Catalog } from '../../store/catalog.js';
import { environmentScope } from '../../store/secrets.js';
import type { KubeClient } from '../kubernetes/client.js';
import { KubeLayerError } from '../kubernetes/errors.js';
import { openPortForward, type PortForwardHandle } from '../kubernetes/port-forward.js';
import type { DatabaseConnector, DatabaseEndpoint } from './connector.js';

/** A container database's port (the postgres image's). */
export const POSTGRES_PORT = 5432;
/** The superuser of the postgres image: the user the rendered StatefulSet's password is for. */
export const POSTGRES_USER = 'postgres';

export interface CatalogDatabaseConnectorDeps {
  catalog: Catalog;
  /**
   * A client of a cluster as Flotilla's agent, which the connector closes with the endpoint:
   * `clusterClients(deps).agentClient` (activities/cluster-client.ts), so port-forwards go with
   * the agent's short-lived token, as every other request after onboarding.
   */
  agentClient(cluster: string): Promise<KubeClient>;
  /** Log in (SELECT 1) before handing out a route; default true. */
  verify?: boolean;
  /** How long the verifying login may take (default 20 s). */
  connectTimeoutMs?: number;
}

export type DatabaseConnectReason =
  | 'EnvironmentNotFound' | 'NoRevision' | 'DatabaseNotFound' | 'SecretMissing' | 'InvalidConnectionSecret'
  | 'DatabaseLoginFailed' | 'DatabaseUnreachable';

/** A route could not be opened; `reason` is the ApplicationFailure type activities use (toFailure). */
export class DatabaseConnectError extends KubeLayerError {
  constructor(readonly reason: DatabaseConnectReason, message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'DatabaseConnectError';
  }
}

/** Data copies speak PostgreSQL only: a mysql or redis database is refused before anything opens. */
export class UnsupportedDatabaseEngineError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'UnsupportedDatabaseEngine';

  constructor(readonly environment: string, readonly database: string, readonly engine: string) {
    super(`database "${database}" of environment "${environment}" is ${engine}: data copy supports PostgreSQL only`);
    this.name = 'UnsupportedDatabaseEngineError';
  }
}

export class CatalogDatabaseConnector implements DatabaseConnector {
  constructor(private readonly deps: CatalogDatabaseConnectorDeps) {}

  async open(environment: string, database: string): Promise<DatabaseEndpoint> {
    const { binding, db } = await this.find(environment, database);
    const name = `${db.mode} database "${db.name}" of environment "${environment}"`;
    if (db.mode === 'external') {
      const url = await this.secret(environment, db.connectionSecret, name);
      const host = parsePostgresUrl(url, environment, db.connectionSecret);
      const endpoint: DatabaseEndpoint = { url, describe: `external ${db.name} of environment ${environment} (${host})`, close: () => Promise.resolve() };
      await this.verify(endpoint, name);
      return endpoint;
    }

    const password = await this.secret(environment, databasePasswordSecret(db.name), name);
    const client = await this.deps.agentClient(binding.cluster);
    let forward: PortForwardHandle | undefined;
    try {
      forward = await openPortForward(client, {
        namespace: binding.namespace,
        // The rendered StatefulSet's pods (domain/render.ts: selector), `<db>-0` first.
        selector: { [LABEL.name]: db.name, [LABEL.environment]: binding.name },
        port: POSTGRES_PORT,
      });
      const opened = forward;
      // Names this route's sessions on the server, so that close can end the ones left open.
      const session = `flotilla-${randomBytes(6).toString('hex')}`;
      const endpoint: DatabaseEndpoint = {
        url: `postgres://${POSTGRES_USER}:${encodeURIComponent(password)}@${opened.host}:${opened.port}/${db.name.replace(/-/g, '_')}?application_name=${session}`,
        describe: `container ${db.name} of environment ${environment} in cluster ${binding.cluster}, namespace ${binding.namespace} (pod ${opened.pod}, via port-forward)`,
        close: async () => {
          try {
            if (opened.connections > 0) await endSessions(endpoint.url, session);
          } finally {
            await opened.close();
            client.close();
          }
        },
      };
      await this.verify(endpoint, name, forward);
      return endpoint;
    } catch (error) {
      await forward?.close();
      client.close();
      throw error;
    }
  }

  private async find(environment: string, database: string) {
    const { catalog } = this.deps;
    const record = await catalog.environments.get(environment);
    if (!record) throw new DatabaseConnectError('EnvironmentNotFound', `environment "${environment}" is not in the catalog`, false);
    // The database that exists is the deployed revision's; before any deploy, the current one's.
    const revision = record.deployed?.revision ?? record.currentRevision;
    if (!revision) throw new DatabaseConnectError('NoRevision', `environment "${environment}" has no revision, so no databases`, false);
    const { spec } = await catalog.revisions.require(revision);
    const db = spec.databases.find((d) => d.name === database);
    if (!db) {
      const known = spec.databases.map((d) => d.name).join(', ') || 'none';
      throw new DatabaseConnectError('DatabaseNotFound', `environment "${environment}" has no database "${database}" (revision ${shortRevision(revision)} has: ${known})`, false);
    }
    if (db.engine !== 'postgres') throw new UnsupportedDatabaseEngineError(environment, database, db.engine);
    return { binding: record.binding, db: db as Database & { engine: 'postgres' } };
  }

  private async secret(environment: string, secret: string, what: string): Promise<string> {
    const value = await this.deps.catalog.secrets.get(environmentScope(environment), secret);
    if (value === undefined || value === '') {
      throw new DatabaseConnectError('SecretMissing', `${what}: the environment has no secret ${secret}${secret.endsWith('_PASSWORD') ? ' (is it deployed?)' : ''}`, false);
    }
    return value;
  }

  /** Logs in and runs SELECT 1; the error says what failed, never with the URL. */
  private async verify(endpoint: DatabaseEndpoint, what: string, forward?: PortForwardHandle): Promise<void> {
    if (this.deps.verify === false) return;
    const client = new pg.Client({ connectionString: endpoint.url, connectionTimeoutMillis: this.deps.connectTimeoutMs ?? 20_000 });
    // A connection that breaks after connect() reports here; without a listener it would crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const detail = oneLine(error instanceof Error ? error.message : String(error));
      const via = forward?.lastError ? ` (${forward.lastError.message})` : '';
      // 28xxx: authentication; 3D000: no such database; 42501: no right to connect.
      if (typeof code === 'string' && /^(28|3D|42501)/.test(code)) {
        throw new DatabaseConnectError('DatabaseLoginFailed', `${what}: login refused (${code}): ${detail}`, false);
      }
      throw new DatabaseConnectError('DatabaseUnreachable', `${what}: not reachable through ${endpoint.describe}: ${detail}${via}`, true);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/**
 * Ends the route's sessions still open on the server (a client that never said goodbye, e.g. a
 * copy abandoned by an error): closing a port-forward stream does not always reach the server
 * (KWOK's forward, for one, keeps the server's side open until its idle timeout), and such a
 * session could hold locks a retry waits on. Best effort: the route is closed either way.
 */
async function endSessions(url: string, session: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [session]);
  } catch {
    // Unreachable or refused: nothing more to do from here.
  } finally {
    await client.end().catch(() => {});
  }
}

/** host:port/database of a postgres:// connection string (no credentials), or a typed error naming the secret only. */
function parsePostgresUrl(value: string, environment: string, secret: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DatabaseConnectError('InvalidConnectionSecret', `secret ${secret} of environment "${environment}" is not a URL (postgres://user:password@host:port/database)`, false);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new DatabaseConnectError('InvalidConnectionSecret', `secret ${secret} of environment "${environment}" is a ${url.protocol.replace(/:$/, '')} URL, not postgres://`, false);
  }
  return `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
}

function oneLine(text: string): string {
  return text.trim().split('\n')[0]!.slice(0, 300);
}
