// The Temporal server itself (go.temporal.io/server, built by scripts/toolchain.sh) on
// PostgreSQL: the at-scale mode, as production runs it, unlike the dev server inside the CLI.
// It runs docker-compose.yml's own configuration (scripts/compose/temporal-server.yaml, a
// template the server renders from its environment), with free ports on 127.0.0.1. The first
// start creates its two databases (scripts/compose/temporal-schema.sh, Compose's set-up step) and
// registers the namespace; a later start with the same `dir` (a restart) reuses all of it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { freePort, freePortIn } from './ports.js';
import { spawnServer, stopProcess, type OutputTail } from './process.js';
import type { TemporalServerHandle } from './temporal-dev-server.js';
import { projectRoot } from './toolchain.js';

const run = promisify(execFile);
const CONFIG = join(projectRoot, 'scripts', 'compose', 'temporal-server.yaml');
const DYNAMIC_CONFIG = join(projectRoot, 'scripts', 'compose', 'temporal-dynamic-config.yaml');
const SCHEMA_SCRIPT = join(projectRoot, 'scripts', 'compose', 'temporal-schema.sh');

export interface TemporalServerOptions {
  /** The temporal-server and temporal-sql-tool binaries (requireTemporalServer). */
  server: string;
  sqlTool: string;
  /** A postgres:// URL whose user may create databases. */
  postgresUrl: string;
  /** Where the chosen ports are kept; a restart passes the same one. */
  dir: string;
  /** The persistence database; visibility goes to `${database}_visibility` (default temporal). */
  database?: string;
  namespace?: string;
  onOutput?: (chunk: Buffer) => void;
}

const PORTS = ['FRONTEND_GRPC_PORT', 'FRONTEND_HTTP_PORT', 'FRONTEND_MEMBERSHIP_PORT', 'HISTORY_GRPC_PORT', 'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT', 'MATCHING_MEMBERSHIP_PORT', 'WORKER_GRPC_PORT', 'WORKER_MEMBERSHIP_PORT'] as const;
type Ports = Record<(typeof PORTS)[number], string>;

export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServerHandle> {
  const namespace = options.namespace ?? 'default';
  const portsFile = join(options.dir, 'ports.json');
  const first = !existsSync(portsFile);
  if (first) {
    mkdirSync(options.dir, { recursive: true });
    await createSchemas(options);
    const ports: Partial<Ports> = {};
    // Membership ports go into a smallint column: below the kernel's ephemeral range.
    for (const name of PORTS) ports[name] = String(name.endsWith('_MEMBERSHIP_PORT') ? await freePortIn(20_000, 32_000) : await freePort());
    writeFileSync(portsFile, JSON.stringify(ports));
  }
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as Ports;
  const address = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
  const { child, output, exited } = spawnServer(options.server, ['--config-file', CONFIG, '--allow-no-auth', 'start'], {
    env: { ...process.env, ...ports, ...databaseEnv(options), BIND_ON_IP: '127.0.0.1', TEMPORAL_DYNAMIC_CONFIG_FILE: DYNAMIC_CONFIG },
    onOutput: options.onOutput, lines: 60,
  });
  try {
    const connection = await frontendReady(address, exited, output);
    try {
      if (first) await registerNamespace(connection, namespace);
      await namespaceServing(connection, namespace);
    } finally {
      await connection.close();
    }
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { address, namespace, owned: true, stop: () => stopProcess(child) };
}

/** Both databases and their schemas: docker-compose.yml's set-up step, the same script. */
async function createSchemas(options: TemporalServerOptions): Promise<void> {
  const db = databaseEnv(options);
  const env = {
    ...process.env, ...db, TEMPORAL_SQL_TOOL: options.sqlTool,
    SQL_HOST: db.TEMPORAL_DB_HOST, SQL_PORT: db.TEMPORAL_DB_PORT, SQL_USER: db.TEMPORAL_DB_USER, SQL_PASSWORD: db.TEMPORAL_DB_PASSWORD,
  };
  await run('sh', [SCHEMA_SCRIPT], { env, timeout: 180_000 }).catch((error: unknown) => {
    const detail = error && typeof error === 'object' && 'stderr' in error ? `${String((error as { stdout?: unknown }).stdout)}${String(error.stderr)}` : String(error);
    throw new Error(`${SCHEMA_SCRIPT} failed:\n${detail}`);
  });
}

/** The template's database settings for a postgres:// URL. */
function databaseEnv(options: TemporalServerOptions): Record<string, string> {
  const url = new URL(options.postgresUrl);
  const database = options.database ?? 'temporal';
  return {
    TEMPORAL_DB_HOST: url.hostname, TEMPORAL_DB_PORT: url.port || '5432',
    TEMPORAL_DB_USER: decodeURIComponent(url.username), TEMPORAL_DB_PASSWORD: decodeURIComponent(url.password),
    TEMPORAL_DB: database, TEMPORAL_VISIBILITY_DB: `${database}_visibility`,
  };
}

async function frontendReady(address: string, exited: () => boolean, output: OutputTail): Promise<Connection> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited()) throw new Error(`the Temporal server exited during start-up:\n${output}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return connection;
      } catch (error) {
        await connection.close();
        throw error;
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address} within 90 s: ${String(error)}\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function registerNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') });
  } catch (error) {
    if (!/already exists|AlreadyExists/i.test(String(error))) throw error;
  }
}

/**
 * Until a workflow can start: a new namespace reaches the history and matching services'
 * caches some seconds after it is registered, and a restarted server takes a moment to own its shards.
 */
async function namespaceServing(connection: Connection, namespace: string): Promise<void> {
  const client = new Client({ connection, namespace });
  const deadline = Date.now() + 60_000;
  for (let i = 0; ; i++) {
    try {
      const handle = await client.workflow.start('readinessProbe', { taskQueue: 'flotilla-readiness-probe', workflowId: `readiness-probe-${Date.now()}-${i}` });
      await handle.terminate('readiness probe');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`namespace ${namespace} does not serve workflows within 60 s: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
