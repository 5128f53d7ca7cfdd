// One cluster's API client for the Kubernetes layer: every request — the typed APIs of
// client-node and the untyped object requests below — goes through the cluster's rate
// limiter, by wrapping the Configuration's HTTP library (the one place all of them send).
//
// Objects are sent and received as plain JSON, not through client-node's ObjectSerializer:
// the serializer silently drops fields its models do not know, so a misspelt field would be
// "applied" without the server ever seeing (and rejecting) it.
import { Agent as HttpsAgent } from 'node:https';
import {
  createConfiguration,
  HttpMethod,
  Observable,
  ServerConfiguration,
  type Configuration,
  type HttpLibrary,
  type KubeConfig,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { KubeApiError, KubeLayerError, parseStatus } from './errors.js';
import { builtinKind, groupOf, type KindInfo, type TypedRef } from './kinds.js';
import { ClusterLimiter } from './rate-limit.js';

export interface KubeClientOptions {
  /** Name of the cluster, for messages. */
  cluster?: string;
  /** The cluster's shared limiter; a private one with the default limits otherwise. */
  limiter?: ClusterLimiter;
  /**
   * Reuse TLS connections (default true). client-node builds a new https.Agent, and so a new
   * TLS handshake, for every request; a keep-alive agent per client avoids that.
   */
  keepAlive?: boolean;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  /** Accept header; JSON by default. */
  accept?: string;
  /** Aborts waiting for the limiter (an in-flight request runs to its end). */
  signal?: AbortSignal;
}

export class UnknownKindError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'NoKindMatch';

  constructor(readonly apiVersion: string, readonly kind: string) {
    super(`no kind "${kind}" is served in ${apiVersion}`);
    this.name = 'UnknownKindError';
  }
}

export class KubeClient {
  readonly cluster: string;
  readonly limiter: ClusterLimiter;
  /** For client-node's typed APIs: `new CoreV1Api(client.configuration)`, or `client.api(CoreV1Api)`. */
  readonly configuration: Configuration;
  private readonly inner: HttpLibrary;
  private readonly baseServer: ServerConfiguration<Record<string, string>>;
  private readonly discovery = new Map<string, Promise<KindInfo[]>>();
  private agent: HttpsAgent | undefined;

  constructor(
    readonly kc: KubeConfig,
    private readonly options: KubeClientOptions = {},
  ) {
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no cluster for its current context');
    this.cluster = options.cluster ?? kc.getCurrentCluster()!.name;
    this.limiter = options.limiter ?? new ClusterLimiter();
    this.baseServer = new ServerConfiguration(server, {});
    const authMethods = { default: kc };
    this.inner = createConfiguration({ baseServer: this.baseServer, authMethods }).httpApi;
    const httpApi: HttpLibrary = { send: (ctx) => new Observable(this.send(ctx)) };
    this.configuration = createConfiguration({ baseServer: this.baseServer, authMethods, httpApi });
  }

  /** A typed client-node API over this client's limited configuration. */
  api<T>(apiClass: new (configuration: Configuration) => T): T {
    return new apiClass(this.configuration);
  }

  /** Closes pooled connections; the client stays usable (new requests open new ones). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /** Sends a JSON request and parses the JSON answer; non-2xx answers throw KubeApiError. */
  async request<T = unknown>(method: keyof typeof HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const ctx = this.baseServer.makeRequestContext(path, HttpMethod[method]);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) ctx.setQueryParam(key, String(value));
    }
    ctx.setHeaderParam('Accept', options.accept ?? 'application/json');
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      ctx.setBody(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    }
    await this.kc.applySecurityAuthentication(ctx);
    const response = await this.send(ctx, options.signal);
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new KubeApiError(response.httpStatusCode, parseStatus(text), text, response.headers, method, path);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * REST facts of a kind: the built-in table first, then (cached) discovery. A kind missing from
   * a cached answer is looked up afresh once: a long-lived client outlives CRDs created since.
   */
  async kindInfo(apiVersion: string, kind: string): Promise<KindInfo> {
    const builtin = builtinKind(apiVersion, kind);
    if (builtin) return builtin;
    const cached = this.discovery.get(apiVersion);
    const found = cached && (await cached.catch(() => [])).find((r) => r.kind === kind);
    if (found) return found;
    if (cached) this.discovery.delete(apiVersion);
    const resources = this.discover(apiVersion);
    this.discovery.set(apiVersion, resources);
    resources.catch(() => this.discovery.delete(apiVersion));
    const info = (await resources).find((r) => r.kind === kind);
    if (!info) throw new UnknownKindError(apiVersion, kind);
    return info;
  }

  /**
   * The URL path of an object (with `name`) or of a collection (without). Namespaced kinds
   * without a namespace land in "default", as with kubectl.
   */
  async path(ref: Omit<TypedRef, 'name'> & { name?: string }, subresource?: string): Promise<string> {
    const info = await this.kindInfo(ref.apiVersion, ref.kind);
    const root = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const parts = [root];
    if (info.namespaced && ref.namespace !== '*') parts.push('namespaces', encodeURIComponent(ref.namespace || 'default'));
    parts.push(info.plural);
    if (ref.name !== undefined) parts.push(encodeURIComponent(ref.name));
    if (subresource) parts.push(subresource);
    return parts.join('/');
  }

  private async discover(apiVersion: string): Promise<KindInfo[]> {
    const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await this.request<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>('GET', root).catch(
      (error: unknown) => {
        if ((error as { code?: unknown }).code === 404) throw new UnknownKindError(apiVersion, '*');
        throw error;
      },
    );
    return (list.resources ?? [])
      .filter((r) => !r.name.includes('/')) // subresources such as deployments/scale
      .map((r) => ({ group: groupOf(apiVersion), kind: r.kind, plural: r.name, namespaced: r.namespaced }));
  }

  private send(ctx: RequestContext, signal?: AbortSignal): Promise<ResponseContext> {
    return this.limiter.run(() => {
      this.reuseConnections(ctx);
      return this.inner.send(ctx).toPromise();
    }, signal);
  }

  private reuseConnections(ctx: RequestContext): void {
    if (this.options.keepAlive === false) return;
    const agent = ctx.getAgent();
    // Only plain https agents: proxy agents carry their own connection logic.
    if (!(agent instanceof HttpsAgent) || agent.constructor !== HttpsAgent) return;
    this.agent ??= new HttpsAgent({ ...agent.options, keepAlive: true, maxSockets: this.limiter.options.maxInFlight });
    ctx.setAgent(this.agent);
  }
}

/** Accepts a bare KubeConfig where a client is expected: it gets a private default limiter. */
export function toClient(target: KubeClient | KubeConfig): KubeClient {
  return target instanceof KubeClient ? target : new KubeClient(target);
}

/** A client for one cluster, sharing the cluster's limiter when one is given. */
export function kubeClient(kc: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  return new KubeClient(kc, options);
}
