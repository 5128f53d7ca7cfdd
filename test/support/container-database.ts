// A container database of a Flotilla environment on the local fleet, played by the real test
// PostgreSQL. KWOK simulates the StatefulSet's pod `<db>-0`; a ClusterPortForward
// (local/fleet.ts forwardPod) makes a port-forward to its port 5432, through the real API
// server, reach the test server, where the database `<db with - as _>` is owned by `postgres`:
// what Flotilla's connector (providers/databases/catalog-connector.ts) logs in as.
//
//   const db = await containerDatabase({ catalog, environment, database: 'orders-db', serverUrl, kubectl, kubeconfigPath });
//   …deploy the environment (deployEnvironment): the password secret is already set, so the
//   deploy uses it instead of generating one…
//   const endpoint = await connector.open(environment, 'orders-db');   // through the API server
//   await db.drop();
//
// Call it before the deploy: it sets the environment's `<DB>_PASSWORD` catalog secret, and the
// forward is cluster-scoped, so it needs neither the namespace nor the pod yet. The test server
// trusts local connections: the password is set on the role for realism, but not checked.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databasePasswordSecret } from '../../domain/render.js';
import { forwardPod, unforwardPod } from '../../local/fleet.js';
import type { Catalog } from '../../store/catalog.js';
import { environmentScope } from '../../store/secrets.js';

export interface ContainerDatabaseOptions {
  catalog: Catalog;
  environment: string;
  /** The database's name in the spec. */
  database: string;
  /** The test server (startTestPostgres().url): a user that may create roles and databases. */
  serverUrl: string;
  kubectl: string;
  /** An admin kubeconfig of the environment's cluster. */
  kubeconfigPath: string;
  /** The environment's namespace; its name by default. */
  namespace?: string;
  /** The password to use; a random one by default. */
  password?: string;
}

export interface ContainerDatabase {
  /** The database's name on the server (and in the container: POSTGRES_DB). */
  name: string;
  /** What the environment's `<DB>_PASSWORD` secret holds. */
  password: string;
  /** The same database, straight to the server, as `postgres`: for a test's own checks. */
  directUrl: string;
  /** The pod the forward serves. */
  pod: string;
  /** Removes the forward and drops the database. */
  drop(): Promise<void>;
}

export async function containerDatabase(options: ContainerDatabaseOptions): Promise<ContainerDatabase> {
  const { catalog, environment, database, serverUrl, kubectl, kubeconfigPath } = options;
  const namespace = options.namespace ?? environment;
  const name = database.replace(/-/g, '_');
  const password = options.password ?? `pg-${randomBytes(12).toString('base64url')}`;
  await catalog.secrets.put(environmentScope(environment), databasePasswordSecret(database), password);

  await asAdmin(serverUrl, async (client) => {
    const literal = client.escapeLiteral(password);
    // One `postgres` role per server, whoever made it first: the last password set wins.
    await client.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') THEN CREATE ROLE postgres LOGIN SUPERUSER PASSWORD ${literal};
      ELSE ALTER ROLE postgres LOGIN PASSWORD ${literal}; END IF; END $$`);
    await client.query(`CREATE DATABASE "${name}" OWNER postgres`);
  });

  const server = new URL(serverUrl);
  const pod = `${database}-0`;
  await forwardPod(kubectl, kubeconfigPath, { namespace, pod, ports: [5432], target: { address: server.hostname, port: Number(server.port || 5432) } });

  const direct = new URL(serverUrl);
  direct.username = 'postgres';
  direct.password = password;
  direct.pathname = `/${name}`;
  return {
    name,
    password,
    directUrl: direct.toString(),
    pod,
    drop: async () => {
      await unforwardPod(kubectl, kubeconfigPath, { namespace, pod });
      await asAdmin(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function asAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
