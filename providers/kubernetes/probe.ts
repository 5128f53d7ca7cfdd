// Whether a cluster's API server answers now: GET /version with a hard deadline. Unlike a
// request through KubeClient, the deadline aborts the connection itself, so probing a server
// that accepts connections but never answers (stopped, partitioned) leaves nothing behind.
import https from 'node:https';
import type { Agent } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ProbeResult {
  ok: boolean;
  /** Why it did not answer (no credentials or bodies in it). */
  message?: string;
  /** The server's gitVersion when it answered. */
  version?: string;
  ms: number;
}

export async function probeApiServer(kc: KubeConfig, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  const server = kc.getCurrentCluster()?.server;
  if (!server) return { ok: false, message: 'kubeconfig has no cluster', ms: 0 };
  let init: { agent?: unknown; headers?: unknown };
  try {
    init = (await kc.applyToFetchOptions({})) as { agent?: unknown; headers?: unknown };
  } catch (error) {
    return { ok: false, message: `credentials: ${error instanceof Error ? error.message : String(error)}`, ms: Date.now() - started };
  }
  const url = new URL('/version', server);
  return new Promise<ProbeResult>((resolve) => {
    const done = (result: Omit<ProbeResult, 'ms'>) => resolve({ ...result, ms: Date.now() - started });
    const request = https.get(url, { agent: init.agent as Agent | undefined, headers: plainHeaders(init.headers), timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        // Any answer means the server is up; 401/403 still prove it answers.
        if (status >= 500) return done({ ok: false, message: `HTTP ${status}` });
        let version: string | undefined;
        try {
          version = (JSON.parse(body) as { gitVersion?: string }).gitVersion;
        } catch {
          // not JSON: up all the same
        }
        done({ ok: true, ...(version ? { version } : {}) });
      });
      response.on('error', (error) => done({ ok: false, message: error.message }));
    });
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => done({ ok: false, message: error.message }));
    request.on('close', () => clearTimeout(deadline));
  });
}

function plainHeaders(headers: unknown): Record<string, string> {
  if (!headers) return {};
  const out: Record<string, string> = {};
  if (typeof (headers as { forEach?: unknown }).forEach === 'function') {
    (headers as { forEach(fn: (value: string, name: string) => void): void }).forEach((value, name) => (out[name] = value));
    return out;
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) if (typeof value === 'string') out[name] = value;
  return out;
}
