// A local TCP port that reaches a pod's port through the cluster's API server, as
// `kubectl port-forward` does: a listener on 127.0.0.1 (a free port), and per accepted
// connection one port-forward stream (client-node's PortForward: a WebSocket to
// /api/v1/namespaces/NS/pods/POD/portforward, authenticated as the given client is — for
// activities Flotilla's agent, with its short-lived token, asked anew per stream).
//
// Before listening it checks what would otherwise surface only as a dropped connection: the pod
// exists and runs, and the client may port-forward there (SelfSubjectAccessReview).
// A stream that fails later (the pod went away, the target refused) closes its connection and is
// kept in `lastError`, classified like the rest of this layer (errors.ts).
//
// Back-pressure both ways, so a bulk copy through it holds flat memory: the WebSocket is paused
// while the local socket cannot take more, and the local socket is paused while more than
// HIGH_WATER bytes wait to go out on the WebSocket.
import { createServer, type Server, type Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { httpStatusOf, isNotFound, KubeLayerError, statusOf } from './errors.js';

export interface PortForwardTarget {
  namespace: string;
  /** The pod; or `selector` finds one. */
  pod?: string;
  /** Labels of the pods that may serve: the first Running one by name (a StatefulSet's `<name>-0` first). */
  selector?: Record<string, string>;
  /** The pod's port. */
  port: number;
}

export interface PortForwardOptions {
  /** Closes the forward when aborted. */
  signal?: AbortSignal;
  /** Called for each stream that fails (its connection is closed): for logs; messages hold no credentials. */
  onStreamError?: (error: PortForwardStreamError) => void;
  /** How long the API server may take to upgrade a stream (default 30 s). */
  handshakeTimeoutMs?: number;
}

export interface PortForwardHandle {
  /** Always 127.0.0.1: only this process's machine reaches it. */
  readonly host: string;
  readonly port: number;
  readonly namespace: string;
  readonly pod: string;
  /** Connections open now. */
  readonly connections: number;
  /** Connections accepted since open. */
  readonly accepted: number;
  /** The last stream failure, if any. */
  readonly lastError: PortForwardStreamError | undefined;
  /** Stops listening and closes every connection and stream. Idempotent. */
  close(): Promise<void>;
}

/** No pod to forward to. */
export class PodNotFoundError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'PodNotFound';
  override readonly httpStatus = 404;

  constructor(readonly cluster: string, readonly namespace: string, readonly what: string) {
    super(`cluster "${cluster}": no ${what} in namespace "${namespace}" to port-forward to`);
    this.name = 'PodNotFoundError';
  }
}

/** The pod exists but does not run (yet): retrying can help. */
export class PodNotRunningError extends KubeLayerError {
  readonly retryable = true;
  readonly reason = 'PodNotRunning';

  constructor(readonly cluster: string, readonly namespace: string, readonly pod: string, readonly phase: string) {
    super(`cluster "${cluster}": pod ${namespace}/${pod} is ${phase}, not Running: cannot port-forward to it`);
    this.name = 'PodNotRunningError';
  }
}

/** RBAC refuses the port-forward (or reading the pod) to the client's identity. */
export class PortForwardForbiddenError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'PortForwardForbidden';
  override readonly httpStatus = 403;

  constructor(readonly cluster: string, readonly namespace: string, detail: string) {
    super(`cluster "${cluster}": port-forward refused in namespace "${namespace}": ${detail}`);
    this.name = 'PortForwardForbiddenError';
  }
}

/** One stream failed: the API server refused the upgrade, or the node could not reach the pod's port. */
export class PortForwardStreamError extends KubeLayerError {
  readonly reason = 'PortForwardFailed';

  constructor(message: string, readonly retryable: boolean, override readonly httpStatus?: number) {
    super(message);
    this.name = 'PortForwardStreamError';
  }
}

/** Resolves the pod, checks the right to forward, and listens on 127.0.0.1 (a free port). */
export async function openPortForward(client: KubeClient, target: PortForwardTarget, options: PortForwardOptions = {}): Promise<PortForwardHandle> {
  const pod = await runningPod(client, target, options.signal);
  await checkAccess(client, target.namespace, pod, options.signal);
  const forward = new Forward(client, target.namespace, pod, target.port, options);
  await forward.listen();
  return forward;
}

interface PodObject {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

const runs = (p: PodObject) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp;

async function runningPod(client: KubeClient, target: PortForwardTarget, signal?: AbortSignal): Promise<string> {
  const ns = encodeURIComponent(target.namespace);
  const refused = (error: unknown): never => {
    if (httpStatusOf(error) === 403) throw new PortForwardForbiddenError(client.cluster, target.namespace, statusOf(error)?.message ?? 'forbidden');
    throw error;
  };
  if (target.pod) {
    const pod = await client.request<PodObject>('GET', `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(target.pod)}`, { signal }).catch((error: unknown) => {
      if (isNotFound(error)) throw new PodNotFoundError(client.cluster, target.namespace, `pod "${target.pod}"`);
      return refused(error);
    });
    if (!runs(pod)) throw new PodNotRunningError(client.cluster, target.namespace, target.pod, podState(pod));
    return target.pod;
  }
  const selector = Object.entries(target.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  if (!selector) throw new Error('a port-forward target needs a pod or a selector');
  const list = await client.request<{ items: PodObject[] }>('GET', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: selector }, signal }).catch(refused);
  const pods = list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
  const running = pods.find(runs);
  if (running) return running.metadata.name;
  if (pods.length === 0) throw new PodNotFoundError(client.cluster, target.namespace, `pod with labels ${selector}`);
  throw new PodNotRunningError(client.cluster, target.namespace, pods[0]!.metadata.name, podState(pods[0]!));
}

function podState(pod: PodObject): string {
  return pod.metadata.deletionTimestamp ? 'being deleted' : (pod.status?.phase ?? 'Unknown');
}

/**
 * SelfSubjectAccessReview: may the client's identity port-forward to this pod? A WebSocket
 * upgrade is a GET, authorised as `get` on pods/portforward; newer API servers ask `create` too.
 */
async function checkAccess(client: KubeClient, namespace: string, pod: string, signal?: AbortSignal): Promise<void> {
  for (const verb of ['get', 'create']) {
    const review = await client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace, verb, group: '', resource: 'pods', subresource: 'portforward', name: pod } },
      },
      signal,
    });
    if (!review.status?.allowed) {
      throw new PortForwardForbiddenError(client.cluster, namespace, `the client's identity may not ${verb} pods/portforward (pod "${pod}")`);
    }
  }
}

/** The parts of ws's WebSocket that this file uses (client-node returns one; its types are not installed). */
interface StreamSocket {
  readonly readyState: number;
  send(data: Buffer, callback: (error?: Error) => void): void;
  pause(): void;
  resume(): void;
  close(): void;
  terminate(): void;
  on(event: 'close', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

const OPEN = 1;
/** Bytes from the local socket waiting to go out on the WebSocket before the socket is paused. */
const HIGH_WATER = 1024 * 1024;
/** The most a gathered frame carries. */
const MAX_FRAME = 256 * 1024;

class Forward implements PortForwardHandle {
  readonly host = '127.0.0.1';
  port = 0;
  accepted = 0;
  lastError: PortForwardStreamError | undefined;
  private readonly server: Server;
  private readonly open = new Set<{ socket: Socket; ws?: StreamSocket }>();
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => void this.close();

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
    readonly pod: string,
    private readonly targetPort: number,
    private readonly options: PortForwardOptions,
  ) {
    this.server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => void this.accept(socket));
  }

  get connections(): number {
    return this.open.size;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as { port: number }).port;
    this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.options.signal?.removeEventListener('abort', this.onAbort);
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const c of this.open) {
        c.ws?.terminate();
        c.socket.destroy();
      }
      this.open.clear();
      await stopped;
    })();
    return this.closing;
  }

  private fail(error: PortForwardStreamError): void {
    this.lastError = error;
    this.options.onStreamError?.(error);
  }

  private async accept(socket: Socket): Promise<void> {
    this.accepted++;
    const conn: { socket: Socket; ws?: StreamSocket } = { socket };
    this.open.add(conn);
    // A local client that resets while the stream opens must not take the process down.
    socket.on('error', () => {});
    let ws: StreamSocket | undefined;
    let streamError = '';
    let paused = false;
    // Pod → local: the socket's back-pressure pauses the WebSocket (its TCP reads).
    const output = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (chunk.length === 0 || socket.destroyed || socket.writableEnded) return callback();
        if (!socket.write(chunk) && ws && !paused) {
          paused = true;
          ws.pause();
          socket.once('drain', () => {
            paused = false;
            ws?.resume();
          });
        }
        callback();
      },
    });
    // The error channel: the node writes why it could not forward, then closes the stream.
    const errors = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        streamError += chunk.toString('utf8');
        callback();
      },
    });
    // client-node reads "stdin" only to send it; local → pod is sent below, with back-pressure.
    const input = new Readable({ read() {} });
    const done = () => {
      this.open.delete(conn);
      input.destroy();
      if (streamError.trim()) {
        this.fail(new PortForwardStreamError(
          `cluster "${this.client.cluster}": port-forward to ${this.namespace}/${this.pod}:${this.targetPort} failed: ${oneLine(streamError)}`, true,
        ));
      }
    };
    try {
      const forwarder = new PortForward(new StreamKubeConfig(this.client.kc, this.options.handshakeTimeoutMs ?? 30_000));
      const opened = await forwarder.portForward(this.namespace, this.pod, [this.targetPort], output, errors, input);
      ws = (typeof opened === 'function' ? opened() : opened) as unknown as StreamSocket;
    } catch (error) {
      this.fail(upgradeError(this.client.cluster, this.namespace, this.pod, this.targetPort, error));
      this.open.delete(conn);
      input.destroy();
      socket.destroy();
      return;
    }
    if (this.closing || socket.destroyed) {
      ws.terminate();
      done();
      return;
    }
    conn.ws = ws;
    const stream = ws;
    // Local → pod. While a frame is on its way, what arrives is gathered into the next one:
    // fewer, larger frames when the route is busy (each costs the API server and the node a
    // message), no delay when it is idle. `pending` bytes not yet written pause the socket.
    let pending = 0;
    let inFlight = 0;
    let gathered: Buffer[] = [];
    let gatheredBytes = 0;
    const flush = () => {
      if (gatheredBytes === 0 || stream.readyState !== OPEN) return;
      // Channel 0 is the port's data; its frames start with the channel's number.
      const frame = Buffer.allocUnsafe(gatheredBytes + 1);
      frame[0] = 0;
      let offset = 1;
      for (const chunk of gathered) offset += chunk.copy(frame, offset);
      const bytes = gatheredBytes;
      gathered = [];
      gatheredBytes = 0;
      inFlight++;
      stream.send(frame, () => {
        inFlight--;
        pending -= bytes;
        if (pending < HIGH_WATER / 2 && socket.isPaused() && !socket.destroyed) socket.resume();
        if (inFlight === 0) flush();
      });
    };
    socket.on('data', (data: Buffer) => {
      if (stream.readyState !== OPEN) return;
      gathered.push(data);
      gatheredBytes += data.length;
      pending += data.length;
      if (inFlight === 0 || gatheredBytes >= MAX_FRAME) flush();
      if (pending >= HIGH_WATER) socket.pause();
    });
    // No half-close in the port-forward protocol: the local end closing ends the stream.
    socket.on('end', () => {
      flush();
      stream.close();
    });
    socket.on('error', () => stream.terminate());
    socket.on('close', () => {
      // A paused WebSocket would not read the server's close frame: drop it instead.
      if (paused) stream.terminate();
      else if (stream.readyState === OPEN) stream.close();
      done();
    });
    stream.on('error', (error: Error) => {
      this.fail(new PortForwardStreamError(`cluster "${this.client.cluster}": port-forward stream to ${this.namespace}/${this.pod} broke: ${oneLine(error.message)}`, true));
      socket.destroy();
    });
    stream.on('close', () => {
      // What the pod sent is flushed before the local end closes; a failed stream resets it.
      if (streamError.trim()) socket.destroy();
      else socket.end();
    });
    socket.resume();
  }
}

/**
 * The client's kubeconfig for a WebSocket: client-node's WebSocketHandler authenticates with
 * applyToHTTPSOptions only, which a kubeconfig that authenticates per request (the agent's
 * ServiceAccountKubeConfig, through applyToFetchOptions) does not carry. This one asks the
 * source for its Authorization header each time a stream opens, so an expiring token is renewed.
 */
class StreamKubeConfig extends KubeConfig {
  constructor(private readonly source: KubeConfig, private readonly handshakeTimeoutMs: number) {
    super();
    this.loadFromOptions({
      clusters: source.clusters,
      users: source.users,
      contexts: source.contexts,
      currentContext: source.getCurrentContext(),
    });
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    const init = await this.source.applyToFetchOptions({});
    // node-fetch's Headers (client-node's), or a plain record.
    const headers = init.headers as { get?: (name: string) => string | null } & Record<string, unknown> | undefined;
    const authorization = typeof headers?.get === 'function' ? headers.get('Authorization') : headers?.Authorization;
    if (typeof authorization === 'string' && authorization) opts.headers = { ...opts.headers, Authorization: authorization };
    // ws reads it from the same options: an API server that never answers the upgrade fails the stream.
    (opts as { handshakeTimeout?: number }).handshakeTimeout = this.handshakeTimeoutMs;
  }
}

/** client-node rejects with ws's error event ("Unexpected server response: 403"): name what it means. */
function upgradeError(cluster: string, namespace: string, pod: string, port: number, error: unknown): PortForwardStreamError {
  const message = (error as { message?: unknown } | undefined)?.message;
  const text = typeof message === 'string' ? message : String(error);
  const status = Number(/Unexpected server response: (\d+)/.exec(text)?.[1] ?? NaN);
  const where = `cluster "${cluster}": port-forward to ${namespace}/${pod}:${port}`;
  if (status === 403) return new PortForwardStreamError(`${where} refused (403 Forbidden): the identity may not port-forward there (get and create pods/portforward)`, false, 403);
  if (status === 401) return new PortForwardStreamError(`${where} refused (401 Unauthorized): the token was not accepted`, true, 401);
  if (status === 404) return new PortForwardStreamError(`${where} failed (404): the pod is gone`, false, 404);
  if (Number.isFinite(status)) return new PortForwardStreamError(`${where} failed (HTTP ${status})`, status >= 500 || status === 429, status);
  return new PortForwardStreamError(`${where} failed: ${oneLine(text)}`, true);
}

function oneLine(text: string): string {
  return text.trim().split('\n')[0]!.slice(0, 500);
}
