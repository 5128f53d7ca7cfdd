// moto's standalone server: a real implementation of the EKS API (and STS) on 127.0.0.1, for
// tests that drive @aws-sdk/client-eks end to end; a front that makes its clusters reachable
// (motoWithEndpoints) and the identity its STS gives an access key (motoCallerIdentity).
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../local/ports.js';
import { OutputTail, stopProcess } from '../../local/process.js';
import { captureOutput, registerSecret } from './leak-registry.js';

export interface MotoServer {
  /** Base URL for the SDK's `endpoint` option. */
  endpoint: string;
  /** Dummy credentials: moto accepts any, and never checks signatures by default. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Clears every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(executable: string, timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout.on('data', (d: Buffer) => output.push(d));
  child.stderr.on('data', (d: Buffer) => output.push(d));
  captureOutput('moto', child);
  let exited = false;
  child.once('exit', () => { exited = true; });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`moto_server exited during start-up:\n${output}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`moto_server not ready on ${endpoint} after ${timeoutMs / 1000}s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const credentials = { accessKeyId: 'AKIAMOTOTESTING00000', secretAccessKey: 'moto-test-secret' };
  registerSecret('moto AWS secret access key', credentials.secretAccessKey);
  return {
    endpoint,
    credentials,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    stop: () => stopProcess(child, 5_000),
  };
}

/** Where a cluster's API server is (a local front for it) and its CA, in place of moto's made-up ones. */
export interface MotoClusterEndpoint {
  endpoint: string;
  caData: string;
}

export interface MotoEndpointProxy {
  /** The SDK's `endpoint` to use instead of moto's own. */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * moto in front of which DescribeCluster (GET /clusters/NAME) reports the endpoint and CA given
 * here for a cluster name (moto invents unreachable ones): so an EKS cluster moto knows can be
 * reached, as EKS reports it, at a local API server. Everything else passes through unchanged.
 */
export async function motoWithEndpoints(moto: MotoServer, endpoints: Map<string, MotoClusterEndpoint>): Promise<MotoEndpointProxy> {
  const upstream = new URL(moto.endpoint);
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers['accept-encoding'];
    const name = /^\/clusters\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    const target = req.method === 'GET' && name ? endpoints.get(decodeURIComponent(name)) : undefined;
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      if (!target || answer.statusCode !== 200) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { cluster: { endpoint?: string; certificateAuthority?: { data?: string } } };
        body.cluster.endpoint = target.endpoint;
        body.cluster.certificateAuthority = { data: target.caData };
        const text = JSON.stringify(body);
        const out = { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) };
        delete out['transfer-encoding'];
        res.writeHead(200, out);
        res.end(text);
      });
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Who moto's STS says holds an access key (GetCallerIdentity as that key): `arn:aws:sts::ACCOUNT:
 * assumed-role/ROLE/SESSION` for credentials of an AssumeRole. moto checks no signature, so this
 * is what an EKS API server's authenticator learns when it replays a token's presigned request.
 */
export async function motoCallerIdentity(moto: MotoServer, accessKeyId: string, region: string): Promise<string | undefined> {
  const response = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/${region}/sts/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  });
  if (!response.ok) return undefined;
  return /<Arn>([^<]+)<\/Arn>/.exec(await response.text())?.[1];
}
