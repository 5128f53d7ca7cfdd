// A local cluster as a cloud serves it: an HTTPS front (its own CA) for a KWOK API server that
// takes the cloud's bearer tokens, as EKS, GKE and AKS API servers do. A token the cloud's
// authenticator accepts goes on as the cluster's admin (the kubeconfig's client certificate);
// any other request goes on with its own Authorization header, so the API server itself judges
// service-account tokens (Flotilla's agent) and refuses the rest. Requests and answers are
// streamed (watches work). No token is logged or kept; `accepted` records who was let in.
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { makeTestCertificates } from './fakes/tls.js';

export interface ClusterFront {
  /** `https://127.0.0.1:PORT` */
  server: string;
  /** `127.0.0.1:PORT`, as GKE reports an endpoint. */
  hostPort: string;
  /** base64 PEM of the front's CA, as clouds report a cluster's CA. */
  caData: string;
  /** The identities the authenticator let in, one per request it accepted (deduplicated). */
  accepted: string[];
  stop(): Promise<void>;
}

/** Returns who the token stands for, or undefined when the cloud does not know it. */
export type Authenticate = (token: string) => Promise<string | undefined>;

interface Upstream { server: URL; ca: Buffer; cert: Buffer; key: Buffer }

function upstreamOf(kubeconfig: string): Upstream {
  const doc = parse(kubeconfig) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const cluster = doc.clusters[0]!.cluster;
  const user = doc.users[0]!.user;
  const b64 = (v: string) => Buffer.from(v, 'base64');
  return { server: new URL(cluster.server), ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) };
}

export async function startClusterFront(kubeconfig: string, authenticate: Authenticate): Promise<ClusterFront> {
  const upstream = upstreamOf(kubeconfig);
  const tls = makeTestCertificates();
  const accepted: string[] = [];
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    void (async () => {
      const headers = { ...req.headers };
      delete headers.host;
      const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
      const who = bearer ? await authenticate(bearer).catch(() => undefined) : undefined;
      if (who !== undefined) {
        delete headers.authorization;
        if (!accepted.includes(who)) accepted.push(who);
      }
      const forward = httpsRequest({
        host: upstream.server.hostname, port: upstream.server.port, method: req.method, path: req.url, headers,
        ca: upstream.ca, ...(who !== undefined ? { cert: upstream.cert, key: upstream.key } : {}),
      }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(forward);
    })();
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const port = (server.address() as AddressInfo).port;
  return {
    server: `https://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    caData: Buffer.from(tls.caPem).toString('base64'),
    accepted,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
