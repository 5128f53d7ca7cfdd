// The last lines of every container of the pods matching a selector, through the API server's
// pods/log subresource (which asks the node's kubelet). One container that has no logs, or a
// pod that went away meanwhile, is reported on its entry and does not fail the others.
// streamPodLog reads one container's log as a stream, line by line as the server sends them
// (with follow, until the server or the caller ends it).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { classifyError, KubeApiError, parseStatus } from './errors.js';
import type { LabelSet } from './labels.js';
import { listObjects } from './read.js';

export interface PodLogOptions {
  namespace: string;
  labelSelector: string | LabelSet;
  /** Lines from the end of each container's log (default 100). */
  tailLines?: number;
  /** Only this container of each pod; every container otherwise. */
  container?: string;
  /** The previous (crashed) instance of each container. */
  previous?: boolean;
  sinceSeconds?: number;
  timestamps?: boolean;
  signal?: AbortSignal;
}

export interface PodLog {
  pod: string;
  container: string;
  lines: string[];
  /** Why this container's log could not be read. */
  error?: { reason: string; status?: number; message: string };
}

interface PodShape {
  spec?: { containers?: { name: string }[] };
}

/** Reads the logs of matching pods, sorted by pod and container name. */
export async function podLogs(client: KubeClient, options: PodLogOptions): Promise<PodLog[]> {
  const pods = await listObjects(client, { apiVersion: 'v1', kind: 'Pod', namespace: options.namespace, labelSelector: options.labelSelector, signal: options.signal });
  const core = client.api(CoreV1Api);
  const targets = pods.items
    .flatMap((pod) => ((pod as PodShape).spec?.containers ?? []).map((c) => ({ pod: pod.metadata.name, container: c.name })))
    .filter((t) => options.container === undefined || t.container === options.container)
    .sort((a, b) => a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container));
  return Promise.all(
    targets.map(async ({ pod, container }): Promise<PodLog> => {
      options.signal?.throwIfAborted();
      try {
        const text = await core.readNamespacedPodLog({
          name: pod,
          namespace: options.namespace,
          container,
          tailLines: options.tailLines ?? 100,
          previous: options.previous,
          sinceSeconds: options.sinceSeconds,
          timestamps: options.timestamps,
        });
        return { pod, container, lines: splitLines(text) };
      } catch (error) {
        const { reason, status, message } = classifyError(error);
        return { pod, container, lines: [], error: { reason, status, message } };
      }
    }),
  );
}

export function splitLines(text: string | undefined): string[] {
  if (!text) return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export interface PodLogStreamOptions {
  namespace: string;
  pod: string;
  container: string;
  /** Keep the stream open and send lines as they are written. */
  follow?: boolean;
  /** Lines from the end to start with; 0 starts with nothing (only new lines, when following). */
  tailLines?: number;
  sinceSeconds?: number;
  /** Prefix each line with its RFC 3339 time, as the kubelet recorded it (splitTimestamp). */
  timestamps?: boolean;
  /** The server stops after this many bytes of log. */
  limitBytes?: number;
  /** Ends the stream (the iteration returns; it does not throw). */
  signal?: AbortSignal;
}

const ERROR_BODY_BYTES = 64 * 1024;

/**
 * One container's log, line by line (without the newline) as the API server sends it. A refusal
 * (e.g. 400 "no logs found", 403, 404 pod gone) throws a KubeApiError carrying the server's
 * Status; a network failure throws the socket's error (classifyError reads both).
 *
 * Not client-node's Log class: it drops tailLines 0 (falsy, so the whole log comes back instead of
 * none), replaces every network error with a bare "500 Error occurred in log request" and never
 * reads a refusal's Status, so the reason ("no logs found for container …") would be lost. This
 * is the same request (the kubeconfig's agent and headers, via applyToFetchOptions, so a
 * per-request token such as the agent's applies) with the body read as a stream.
 */
export async function* streamPodLog(client: KubeClient, options: PodLogStreamOptions): AsyncGenerator<string, void, undefined> {
  const { signal } = options;
  if (signal?.aborted) return;
  // One token of the cluster's rate limit and no in-flight slot: a followed log stays open for minutes.
  await client.limiter.throttle(signal);
  const server = client.kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no cluster for its current context');
  const path = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods/${encodeURIComponent(options.pod)}/log`;
  const url = new URL(server.replace(/\/$/, '') + path);
  const query: Record<string, string | number | boolean | undefined> = {
    container: options.container,
    follow: options.follow || undefined,
    tailLines: options.tailLines,
    sinceSeconds: options.sinceSeconds,
    timestamps: options.timestamps || undefined,
    limitBytes: options.limitBytes,
  };
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));

  const init = await client.kc.applyToFetchOptions({});
  const headers: Record<string, string> = {};
  // node-fetch's Headers (client-node's), or a plain record.
  const given = init.headers as { forEach?: (fn: (value: string, name: string) => void) => void } | Record<string, string> | undefined;
  if (given && typeof given.forEach === 'function') given.forEach((value: string, name: string) => void (headers[name] = value));
  else Object.assign(headers, given);

  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, agent: init.agent as never, signal }, resolve);
    req.on('error', reject);
    req.end();
  }).catch((error: unknown) => {
    if (signal?.aborted) return undefined;
    throw error;
  });
  if (!response) return;

  if (response.statusCode !== 200) {
    const body = await readBounded(response, ERROR_BODY_BYTES).catch(() => '');
    const status = parseStatus(body);
    throw new KubeApiError(response.statusCode ?? 0, status, body, flatHeaders(response), 'GET', `${path}?container=${options.container}`);
  }
  const lines = createInterface({ input: response, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  } finally {
    lines.close();
    response.destroy();
  }
  // A followed stream that the server ended early (e.g. the pod went away) ends here too.
}

/** `2026-12-06T21:00:00.123456789Z text` (a `timestamps` line) → its time and text. */
export function splitTimestamp(line: string): { time?: string; text: string } {
  const space = line.indexOf(' ');
  const head = space < 0 ? line : line.slice(0, space);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(head)) return { text: line };
  return { time: head, text: space < 0 ? '' : line.slice(space + 1) };
}

function readBounded(stream: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      if (size < max) chunks.push(chunk.subarray(0, max - size));
      size += chunk.length;
    });
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
