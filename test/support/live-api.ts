// The API on a free port over a given catalog (the one the in-process worker uses too), with
// the Temporal starter: what `api/main.ts` runs, for integration and end-to-end tests.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { type AppDeps, createApp } from '../../api/app.js';
import { createLogger } from '../../api/http/logger.js';
import { temporalStarter } from '../../api/temporal.js';
import { temporalSchedules } from '../../api/temporal-schedules.js';
import type { Catalog } from '../../store/catalog.js';
import { recordingResponses, recordOutput } from './leak-registry.js';
import { until } from './wait.js';

export interface LiveApi {
  base: string;
  /** An unscoped admin token (the bootstrap admin). */
  admin: string;
  logs: string[];
  request<T = unknown>(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<{ status: number; body: T; headers: Headers }>;
  close(): Promise<void>;
}

/** `options` overrides the app's dependencies (the browser tier serves the dashboard: `webRoot`, `dashboard`). */
export async function startLiveApi(catalog: Catalog, client: Client, taskQueue: string, options: Partial<AppDeps> = {}): Promise<LiveApi> {
  const logs: string[] = [];
  const logName = `live-api-${process.pid}`;
  // Debug: request lines too, so the leak scan reads them as it reads the rest.
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void (logs.push(line), recordOutput(logName, line)) } });
  // /v1/codec serves the client's own codec, as api/main.ts does.
  const [codec] = client.options.loadedDataConverter.payloadCodecs;
  const app = createApp({
    catalog, operations: temporalStarter(client, taskQueue), schedules: temporalSchedules(client, taskQueue), logger, rateLimit: { max: 0, windowMs: 60_000 }, webRoot: '/nonexistent',
    ...(codec ? { codec: { codec, namespace: client.options.namespace } } : {}),
    ...options,
  });
  const server: Server = createServer(recordingResponses('live-api', app)).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // One admin token per API (a test may run two over one catalog: token names are unique).
  const admin = (await catalog.tokens.create({ name: `bootstrap-admin-${randomUUID().slice(0, 8)}`, role: 'admin' })).token;
  return {
    base, admin, logs,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${o.token ?? admin}` };
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as never, headers: res.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export { until } from './wait.js';

export interface OperationView { id: string; state: string; outcome?: string; message?: string; temporal?: { pending?: { activity: string; progress?: unknown }[] } }

/** Polls GET /v1/operations/{id} until the operation has ended; its last view. */
export async function finishedOperation(api: Pick<LiveApi, 'request'>, id: string, timeoutMs = 240_000): Promise<OperationView> {
  let last: OperationView | undefined;
  await until(`operation ${id} to end`, async () => {
    last = (await api.request<OperationView>('GET', `/v1/operations/${id}`)).body;
    return ['completed', 'failed', 'cancelled', 'terminated', 'timed-out'].includes(last.state);
  }, timeoutMs);
  return last!;
}
