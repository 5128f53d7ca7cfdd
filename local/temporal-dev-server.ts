// The embedded Temporal: the `temporal` CLI's dev server persisting to a SQLite file, or an
// existing server when TEMPORAL_ADDRESS is set.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from './ports.js';
import { spawnServer, stopProcess } from './process.js';

export interface TemporalDevServerOptions {
  /** Path of the `temporal` CLI binary. */
  executable: string;
  /** SQLite file the server persists to; survives restarts. */
  dbFile: string;
  namespace?: string;
  port?: number;
  /** Serve the web UI on this port; headless when omitted. */
  uiPort?: number;
  /** Also gets everything the server prints (the integration tier's leak scan keeps it). */
  onOutput?: (chunk: Buffer) => void;
}

export interface TemporalServerHandle {
  address: string;
  namespace: string;
  uiUrl?: string;
  /** True when this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalServerHandle> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  mkdirSync(dirname(options.dbFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--db-filename', options.dbFile,
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=normal',
    '--namespace', namespace,
    '--log-level', 'warn',
    ...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']),
  ];
  const { child, output, exited } = spawnServer(options.executable, args, { onOutput: options.onOutput });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited()) throw new Error(`temporal dev server exited during start-up:\n${output}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.describeNamespace({ namespace });
      await connection.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stopProcess(child);
        throw new Error(`temporal dev server not ready on ${address} after 60s: ${String(error)}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    namespace,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    owned: true,
    stop: () => stopProcess(child),
  };
}

/** Attaches to TEMPORAL_ADDRESS when set, else starts the embedded dev server. */
export async function temporalFromEnvOrStart(options: TemporalDevServerOptions): Promise<TemporalServerHandle> {
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) {
    return {
      address: external,
      namespace: process.env.TEMPORAL_NAMESPACE ?? options.namespace ?? 'default',
      owned: false,
      stop: async () => {},
    };
  }
  return startTemporalDevServer(options);
}
