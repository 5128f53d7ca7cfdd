// Toxiproxy (github.com/Shopify/toxiproxy/v2, built by scripts/toolchain.sh): a TCP proxy whose
// faults (latency, timeouts, resets, bandwidth limits, a proxy switched off) are set at run time
// over an HTTP API. Here: start a toxiproxy-server on a free loopback port, and a small client of
// its API (https://github.com/Shopify/toxiproxy#http-api) over fetch.
import { spawn } from 'node:child_process';
import { freePort } from './ports.js';
import { OutputTail, stopProcess } from './process.js';
import { onShutdown } from './shutdown.js';

/** Which way a toxic acts: `upstream` is client → server, `downstream` server → client. */
export type Stream = 'upstream' | 'downstream';

/** The toxics toxiproxy ships, with their attributes (times in milliseconds). */
export interface ToxicAttributes {
  /** Delays each chunk of data by `latency` ± `jitter`. */
  latency: { latency: number; jitter?: number };
  /** Passes no data; closes the connection after `timeout` (0: holds it open until removed). */
  timeout: { timeout: number };
  /** Resets the connection (TCP RST) after `timeout` (0: at once, on the first data). */
  reset_peer: { timeout: number };
  /** Limits the rate to `rate` KB/s. */
  bandwidth: { rate: number };
  /** Delays the close of the connection by `delay`. */
  slow_close: { delay: number };
  /** Slices data into chunks of `average_size` ± `size_variation` bytes, `delay` µs apart. */
  slicer: { average_size: number; size_variation?: number; delay?: number };
  /** Closes the connection once `bytes` bytes have passed. */
  limit_data: { bytes: number };
}
export type ToxicType = keyof ToxicAttributes;

export interface Toxic<T extends ToxicType = ToxicType> {
  name: string;
  type: T;
  stream: Stream;
  /** Probability (0–1) that a connection gets the toxic. */
  toxicity: number;
  attributes: ToxicAttributes[T];
}

export interface ProxyInfo {
  name: string;
  /** host:port the proxy listens on (the port the OS chose when created with port 0). */
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

export class ToxiproxyError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ToxiproxyError';
  }
}

/** A client of one toxiproxy-server's HTTP API. */
export class ToxiproxyClient {
  constructor(readonly url: string) {}

  async version(): Promise<string> {
    const response = await fetch(`${this.url}/version`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new ToxiproxyError(response.status, `GET /version: ${response.status}`);
    const text = (await response.text()).trim();
    // 2.x answers JSON ({"version": "..."}); older servers plain text.
    try {
      return (JSON.parse(text) as { version: string }).version;
    } catch {
      return text;
    }
  }

  /** Enables every proxy and removes every toxic, on this whole server. */
  async resetAll(): Promise<void> {
    await this.request('POST', '/reset');
  }

  async proxies(): Promise<Record<string, ProxyInfo>> {
    return this.request<Record<string, ProxyInfo>>('GET', '/proxies');
  }

  /** Creates a proxy; `listen` defaults to 127.0.0.1:0 (the answer carries the chosen port). */
  async createProxy(input: { name: string; upstream: string; listen?: string; enabled?: boolean }): Promise<ToxiproxyProxy> {
    const info = await this.request<ProxyInfo>('POST', '/proxies', {
      name: input.name,
      upstream: input.upstream,
      listen: input.listen ?? '127.0.0.1:0',
      enabled: input.enabled ?? true,
    });
    return new ToxiproxyProxy(this, info);
  }

  /** The handle of an existing proxy, or undefined when there is none of that name. */
  async proxy(name: string): Promise<ToxiproxyProxy | undefined> {
    try {
      return new ToxiproxyProxy(this, await this.request<ProxyInfo>('GET', `/proxies/${encodeURIComponent(name)}`));
    } catch (error) {
      if (error instanceof ToxiproxyError && error.status === 404) return undefined;
      throw error;
    }
  }

  async updateProxy(name: string, change: { enabled?: boolean; upstream?: string; listen?: string }): Promise<ProxyInfo> {
    return this.request<ProxyInfo>('POST', `/proxies/${encodeURIComponent(name)}`, change);
  }

  /** Deletes a proxy (closing its connections); a missing one is not an error. */
  async deleteProxy(name: string): Promise<void> {
    try {
      await this.request('DELETE', `/proxies/${encodeURIComponent(name)}`);
    } catch (error) {
      if (!(error instanceof ToxiproxyError && error.status === 404)) throw error;
    }
  }

  async toxics(proxy: string): Promise<Toxic[]> {
    return this.request<Toxic[]>('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`);
  }

  /** Adds a toxic, or updates the one of the same name; it acts on open connections too. */
  async setToxic<T extends ToxicType>(proxy: string, toxic: Omit<Toxic<T>, 'toxicity'> & { toxicity?: number }): Promise<Toxic<T>> {
    const body = { ...toxic, toxicity: toxic.toxicity ?? 1 };
    const base = `/proxies/${encodeURIComponent(proxy)}/toxics`;
    try {
      return await this.request<Toxic<T>>('POST', base, body);
    } catch (error) {
      if (!(error instanceof ToxiproxyError && error.status === 409)) throw error;
      return this.request<Toxic<T>>('POST', `${base}/${encodeURIComponent(toxic.name)}`, {
        toxicity: body.toxicity,
        attributes: body.attributes,
      });
    }
  }

  /** Removes a toxic; a missing one is not an error. */
  async removeToxic(proxy: string, name: string): Promise<void> {
    try {
      await this.request('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(name)}`);
    } catch (error) {
      if (!(error instanceof ToxiproxyError && error.status === 404)) throw error;
    }
  }

  private async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new ToxiproxyError(response.status, `toxiproxy ${method} ${path}: ${response.status} ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** Which stream(s) a fault acts on; `both` sets one toxic per direction. */
export type Direction = Stream | 'both';

/** One proxy, with the faults a test or benchmark wants, by name. */
export class ToxiproxyProxy {
  readonly name: string;
  readonly upstream: string;
  /** host:port to connect to instead of the upstream. */
  readonly listen: string;

  constructor(private readonly client: ToxiproxyClient, info: ProxyInfo) {
    this.name = info.name;
    this.upstream = info.upstream;
    this.listen = info.listen;
  }

  get host(): string {
    return this.listen.slice(0, this.listen.lastIndexOf(':'));
  }

  get port(): number {
    return Number(this.listen.slice(this.listen.lastIndexOf(':') + 1));
  }

  /**
   * One-way latency: `ms` (± `jitterMs`) on each direction, so a round trip costs about 2 × ms,
   * as between two hosts `ms` apart. 0 removes it.
   */
  async latency(ms: number, jitterMs = 0, direction: Direction = 'both'): Promise<void> {
    if (ms <= 0 && jitterMs <= 0) return this.clear('latency', direction);
    await this.set('latency', { latency: ms, jitter: jitterMs }, direction);
  }

  /**
   * Data stops flowing; after `ms` the connection is closed (0: held open, every request hangs
   * until the client gives up or the toxic is removed). Both directions by default: a black hole.
   */
  async timeout(ms: number, direction: Direction = 'both'): Promise<void> {
    await this.set('timeout', { timeout: ms }, direction);
  }

  /** Connections are reset (TCP RST) after `ms` (0: on their first data). */
  async resetPeer(ms = 0, direction: Direction = 'downstream'): Promise<void> {
    await this.set('reset_peer', { timeout: ms }, direction);
  }

  /** Limits the rate to `kbPerSecond` KB/s. */
  async bandwidth(kbPerSecond: number, direction: Direction = 'downstream'): Promise<void> {
    await this.set('bandwidth', { rate: kbPerSecond }, direction);
  }

  /** Delays closing connections by `ms`. */
  async slowClose(ms: number, direction: Direction = 'downstream'): Promise<void> {
    await this.set('slow_close', { delay: ms }, direction);
  }

  /** Removes the faults of one kind (every toxic of that type, whatever its name). */
  async clear(type: ToxicType, direction: Direction = 'both'): Promise<void> {
    const streams = direction === 'both' ? ['upstream', 'downstream'] : [direction];
    const toxics = await this.client.toxics(this.name);
    await Promise.all(toxics
      .filter((t) => t.type === type && streams.includes(t.stream))
      .map((t) => this.client.removeToxic(this.name, t.name)));
  }

  /** Unreachable: stops listening and closes every open connection (connection refused). */
  async down(): Promise<void> {
    await this.client.updateProxy(this.name, { enabled: false });
  }

  /** Reachable again, on the same port. */
  async up(): Promise<void> {
    await this.client.updateProxy(this.name, { enabled: true });
  }

  /** No faults: every toxic removed, the proxy enabled. */
  async reset(): Promise<void> {
    const toxics = await this.client.toxics(this.name);
    await Promise.all(toxics.map((t) => this.client.removeToxic(this.name, t.name)));
    await this.up();
  }

  async toxics(): Promise<Toxic[]> {
    return this.client.toxics(this.name);
  }

  /** Sets (adds or updates) a toxic named `<type>_<stream>` on each stream of `direction`. */
  async set<T extends ToxicType>(type: T, attributes: ToxicAttributes[T], direction: Direction = 'downstream', toxicity = 1): Promise<void> {
    const streams: Stream[] = direction === 'both' ? ['upstream', 'downstream'] : [direction];
    await Promise.all(streams.map((stream) => this.client.setToxic<T>(this.name, { name: `${type}_${stream}`, type, stream, toxicity, attributes })));
  }
}

export interface ToxiproxyServerOptions {
  /** Path of the toxiproxy-server binary (the toolchain's toxiproxyServer). */
  executable: string;
  /** API port on 127.0.0.1; a free one by default. */
  port?: number;
  /** Stop it on Ctrl-C/SIGTERM (default true). */
  stopOnSignal?: boolean;
}

export interface ToxiproxyServer {
  /** The HTTP API's base URL. */
  url: string;
  client: ToxiproxyClient;
  /** Milliseconds from spawn until the API answered. */
  startMs: number;
  stop(): Promise<void>;
}

/** Starts toxiproxy-server on 127.0.0.1 and waits until its API answers. */
export async function startToxiproxy(options: ToxiproxyServerOptions): Promise<ToxiproxyServer> {
  const started = Date.now();
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(options.executable, ['-host', '127.0.0.1', '-port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // It logs every accepted connection at info.
    env: { ...process.env, LOG_LEVEL: process.env.TOXIPROXY_LOG_LEVEL ?? 'warn' },
  });
  const output = new OutputTail();
  child.stdout.on('data', (d: Buffer) => output.push(d));
  child.stderr.on('data', (d: Buffer) => output.push(d));
  let exited = false;
  child.once('exit', () => { exited = true; });
  child.once('error', (error) => { exited = true; output.push(String(error)); });

  let unregister = (): void => {};
  const stop = async (): Promise<void> => {
    unregister();
    await stopProcess(child, 5_000);
  };
  if (options.stopOnSignal ?? true) unregister = onShutdown('toxiproxy', stop);

  const client = new ToxiproxyClient(url);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      unregister();
      throw new Error(`toxiproxy-server exited during start-up:\n${output}`);
    }
    try {
      await client.version();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`toxiproxy-server not ready on ${url} after 30s: ${String(error)}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, client, startMs: Date.now() - started, stop };
}
