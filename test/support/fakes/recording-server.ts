// A tiny HTTP(S) server for cloud API fakes: routes by method and path pattern, and records
// every request (method, path, query, headers, body) so tests can assert what the SDK sent.
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  /** Matched against the decoded path without the query; capture groups become `params`. */
  path: RegExp;
  handle(request: RecordedRequest, params: string[]): FakeResponse | Promise<FakeResponse>;
}

export interface RecordingServerOptions {
  routes: Route[];
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Checked before routing; a response here short-circuits the route (e.g. a 401). */
  guard?: (request: RecordedRequest) => FakeResponse | undefined;
  /** The answer when no route matches. */
  notFound?: (request: RecordedRequest) => FakeResponse;
}

export interface RecordingServer {
  port: number;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Answers the next request that passes the guard with `response` instead of its route. */
  failNext(response: FakeResponse): void;
  stop(): Promise<void>;
}

export async function startRecordingServer(options: RecordingServerOptions): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const failures: FakeResponse[] = [];

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        requests.push(recorded);
        let response: FakeResponse;
        try {
          response = options.guard?.(recorded) ?? failures.shift() ?? (await route(options, recorded));
        } catch (error) {
          response = { status: 500, body: { error: { message: `fake failed: ${(error as Error).message}` } } };
        }
        const body = response.body === undefined ? '' : JSON.stringify(response.body);
        res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
        res.end(body);
      })();
    });
  };

  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    requests,
    failNext: (response) => { failures.push(response); },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function route(options: RecordingServerOptions, request: RecordedRequest): FakeResponse | Promise<FakeResponse> {
  for (const r of options.routes) {
    if (r.method !== request.method) continue;
    const match = r.path.exec(request.path);
    if (match) return r.handle(request, match.slice(1));
  }
  return options.notFound?.(request) ?? { status: 404, body: { error: { message: `no route for ${request.method} ${request.path}` } } };
}
