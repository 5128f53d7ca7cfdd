// An API on a free port over a real SQLite catalog, for API and CLI tests. Operations go to
// the given starter (a real Temporal one in integration tests, or RecordingStarter when a
// test is about routing and validation). Every log line is captured for secret checks.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app.js';
import type { Role } from '../../api/authz.js';
import type { AppDeps, CodecServerOptions } from '../../api/deps.js';
import { createLogger } from '../../api/http/logger.js';
import { OperationAlreadyRunningError, OperationNotFoundError, type OperationDescription, type OperationStarter, type StartedOperation } from '../../api/starter.js';
import type { Tier } from '../../domain/environment.js';
import { type Catalog, openCatalog } from '../../store/catalog.js';
import { PayloadKeyRing } from '../../temporal/key-ring.js';
import { AesGcmPayloadCodec } from '../../temporal/payload-codec.js';
import { keptCatalogFolder, recordingResponses, recordOutput, registerSecret } from './leak-registry.js';

/** Our own OperationStarter that records starts instead of reaching Temporal. */
export class RecordingStarter implements OperationStarter {
  readonly calls: { workflowType: string; args: unknown[]; workflowId: string }[] = [];
  readonly status = new Map<string, string>();

  async start(workflowType: string, args: unknown[], workflowId: string): Promise<StartedOperation> {
    if (this.status.get(workflowId) === 'RUNNING') throw new OperationAlreadyRunningError(workflowId);
    this.calls.push({ workflowType, args, workflowId });
    this.status.set(workflowId, 'RUNNING');
    return { workflowId, runId: randomUUID() };
  }

  async cancel(workflowId: string): Promise<void> {
    if (this.status.get(workflowId) !== 'RUNNING') throw new OperationNotFoundError(workflowId);
    this.status.set(workflowId, 'CANCELLED');
  }

  async describe(workflowId: string): Promise<OperationDescription | undefined> {
    const status = this.status.get(workflowId);
    const call = this.calls.find((c) => c.workflowId === workflowId);
    return status && call ? { workflowId, runId: 'recorded', type: call.workflowType, status } : undefined;
  }
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface TestApi {
  base: string;
  catalog: Catalog;
  operations: OperationStarter;
  /** What /v1/codec serves (a fresh key ring per API unless given). */
  codec: CodecServerOptions;
  /** An unscoped admin token. */
  admin: string;
  /** Every log line the API wrote. */
  logs: string[];
  token(role: Role, tiers?: Tier[], name?: string): Promise<string>;
  request<T = unknown>(method: string, path: string, options?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export async function startTestApi(options: Partial<Pick<AppDeps, 'operations' | 'schedules' | 'rateLimit' | 'now' | 'cloud' | 'codec'>> & { host?: string } = {}): Promise<TestApi> {
  // In memory, but in a file in the integration tier, which the leak scan reads when the tests are done.
  const kept = keptCatalogFolder('test-api');
  const masterKey = randomBytes(32).toString('base64');
  registerSecret('master key of a test API', masterKey);
  const catalog = await openCatalog({ url: kept ? `sqlite://${join(kept, 'catalog.db')}` : 'sqlite::memory:', masterKey });
  const logs: string[] = [];
  const logName = `test-api-${process.pid}`;
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void (logs.push(line), recordOutput(logName, line)) } });
  const operations = options.operations ?? new RecordingStarter();
  const codec = options.codec ?? { codec: new AesGcmPayloadCodec(PayloadKeyRing.generate()) };
  const app = createApp({ catalog, operations, ...(options.schedules ? { schedules: options.schedules } : {}), logger, rateLimit: options.rateLimit ?? { max: 0, windowMs: 60_000 }, now: options.now, cloud: options.cloud, codec, webRoot: '/nonexistent' });
  const server: Server = createServer(recordingResponses('test-api', app)).listen(0, options.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = (await catalog.tokens.create({ name: 'test-admin', role: 'admin' })).token;
  let n = 0;

  return {
    base, catalog, operations, codec, admin, logs,
    async token(role, tiers, name) {
      return (await catalog.tokens.create({ name: name ?? `${role}-${tiers?.join('-') ?? 'all'}-${++n}`, role, tiers })).token;
    },
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const token = o.token === undefined ? admin : o.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${base}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: keep the text.
      }
      return { status: res.status, body: parsed as never, headers: res.headers, text };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await catalog.close();
    },
  };
}

/** A Cluster registration body for the kubeconfig provider, with an inline kubeconfig. */
export function kubeconfigCluster(name: string, labels: Record<string, string> = {}, kubeconfig = testKubeconfig(name)) {
  return { name, labels, connection: { provider: 'kubeconfig' }, kubeconfig };
}

/** A self-contained kubeconfig whose token is unique (so tests can search logs for it). */
export function testKubeconfig(name: string, token = `kc-secret-${randomUUID()}`): string {
  return [
    'apiVersion: v1', 'kind: Config', `current-context: ${name}`,
    'clusters:', `- name: ${name}`, '  cluster:', '    server: https://127.0.0.1:6443', `    certificate-authority-data: ${Buffer.from('test-ca').toString('base64')}`,
    'users:', `- name: ${name}`, '  user:', `    token: ${token}`,
    'contexts:', `- name: ${name}`, '  context:', `    cluster: ${name}`, `    user: ${name}`, '',
  ].join('\n');
}
