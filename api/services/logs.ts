// An environment's logs (GET /v1/environments/{name}/logs): every container of the service's
// pods (every service's, without `service`), read through each cluster's API server as
// Flotilla's agent; with scope=application also the other environments of the same application
// and tier, which run on other clusters. Lines come back merged and each names its cluster and
// pod. Without follow, each container's last `tail` lines are read, merged by time and the newest
// that fit in `limitBytes` sent; with follow, lines are sent as they arrive until `timeout`, the
// byte limit, every stream closing, or the client leaving. A cluster or container that cannot be
// read (unreachable, not onboarded, no logs) is an `error` event, never a failed answer: the
// others go on. The last event, `end`, says why the answer ended.
import { LABEL, MANAGED_BY } from '../../domain/labels.js';
import type { Tier } from '../../domain/environment.js';
import { UnknownClusterError, type ClusterDirectory } from '../../providers/cluster-directory.js';
import { AgentClients } from '../../providers/kubernetes/agent-clients.js';
import type { KubeClient } from '../../providers/kubernetes/client.js';
import { classifyError, httpStatusOf } from '../../providers/kubernetes/errors.js';
import { splitTimestamp, streamPodLog } from '../../providers/kubernetes/logs.js';
import { listObjects } from '../../providers/kubernetes/read.js';
import type { EnvironmentBinding } from '../../domain/environment.js';
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import type { ReplyStream } from '../route.js';
import { LOG_LIMITS, type LogsQuery } from './log-query.js';
import { type EndReason, type LogEvent, type LogLineEvent, lineBytes, mergeByTime, newestWithin } from '../../domain/log-events.js';
import { type LogFormat, logEncoder, SSE_KEEPALIVE } from './log-format.js';

export interface LogPlan {
  environments: EnvironmentBinding[];
  query: LogsQuery;
}

/** One container of one pod of one environment. */
interface Target {
  environment: string;
  cluster: string;
  namespace: string;
  pod: string;
  container: string;
  client: KubeClient;
}

/** Reading a container's backlog, this many at once (following reads them all at once). */
const READ_CONCURRENCY = 8;
const KEEPALIVE_MS = 15_000;

/**
 * Which environments the answer reads, each authorised (`authorize` throws 403): unknown
 * environment → 404, a service the environment does not run → 400 naming query.service.
 */
export async function planLogs(deps: ApiDeps, name: string, query: LogsQuery, authorize: (tiers: Tier[]) => void): Promise<LogPlan> {
  const env = await deps.catalog.environments.require(name);
  authorize([env.binding.tier]);
  if (query.service) {
    const revision = env.deployed?.revision ?? env.currentRevision;
    const spec = revision ? (await deps.catalog.revisions.require(revision)).spec : undefined;
    const names = spec ? [...spec.services.map((s) => s.name), ...spec.databases.map((d) => d.name)] : [];
    if (spec && !names.includes(query.service)) {
      throw badRequest([{ path: 'query.service', message: `environment "${name}" has no service "${query.service}" (it has: ${names.join(', ') || 'none'})` }]);
    }
  }
  let environments = [env.binding];
  if (query.scope === 'application') {
    const siblings = await deps.catalog.environments.list({ application: env.binding.application, tier: env.binding.tier });
    environments = [env.binding, ...siblings.map((s) => s.binding).filter((b) => b.name !== name)];
  }
  for (const e of environments) authorize([e.tier]);
  return { environments, query };
}

/** Agent clients (and their tokens) per cluster directory: one cache per API process. */
const agentCaches = new WeakMap<ClusterDirectory, AgentClients>();
function agentsOf(clusters: ClusterDirectory): AgentClients {
  let agents = agentCaches.get(clusters);
  if (!agents) agentCaches.set(clusters, (agents = new AgentClients(clusters)));
  return agents;
}

/** What the parts of one answer share: its bounds, where events go, and what was sent. */
interface Session {
  query: LogsQuery;
  /** Aborted by the client leaving, the timeout, or the byte limit while following. */
  signal: AbortSignal;
  /** Ends every stream (the byte limit was reached while following). */
  stop: AbortController;
  emit(event: LogEvent): Promise<unknown>;
  /** An error event for a part (unless the answer is over anyway). */
  failed(where: { environment: string; cluster: string; pod?: string; container?: string }, error: unknown): Promise<unknown>;
  sent: { lines: number; bytes: number; dropped: number; byteLimited: boolean };
}

/** Writes the whole answer to `out`; never throws (failures are events). */
export async function streamLogs(deps: ApiDeps, plan: LogPlan, format: LogFormat, out: ReplyStream): Promise<void> {
  const { query } = plan;
  const deadline = AbortSignal.timeout(query.timeout * 1000);
  const stop = new AbortController();
  const signal = AbortSignal.any([out.signal, deadline, stop.signal]);
  const agents = agentsOf(deps.clusters);
  const clients = new Map<string, Promise<KubeClient>>();
  const multiContainerPods = new Set<string>();
  const encode = logEncoder(format, { timestamps: query.timestamps, multiContainerPods });

  // One writer at a time, in order; a producer that awaits its write is held back by a slow client.
  let chain: Promise<unknown> = Promise.resolve();
  const write = (chunk: string) => (chain = chain.then(() => out.write(chunk)));
  const keepalive = format === 'sse' ? setInterval(() => void write(SSE_KEEPALIVE), KEEPALIVE_MS) : undefined;
  const session: Session = {
    query, signal, stop,
    emit: (event) => write(encode(event)),
    failed(where, error) {
      if (signal.aborted) return Promise.resolve();
      if (httpStatusOf(error) === 401) agents.forget(where.cluster);
      // Named field by field: a Target also holds its client (and so a credential).
      const { environment, cluster, pod, container } = where;
      return session.emit({ type: 'error', environment, cluster, ...(pod ? { pod } : {}), ...(container ? { container } : {}), ...describe(error) });
    },
    sent: { lines: 0, bytes: 0, dropped: 0, byteLimited: false },
  };
  const client = (cluster: string) => {
    let c = clients.get(cluster);
    if (!c) clients.set(cluster, (c = agents.client(cluster)));
    return c;
  };

  let timedOut = false;
  try {
    const targets = await findTargets(session, plan.environments, client);
    for (const t of targets) if (targets.some((o) => o !== t && o.cluster === t.cluster && o.pod === t.pod)) multiContainerPods.add(`${t.cluster}/${t.pod}`);
    const read = targets.slice(0, LOG_LIMITS.containers);
    if (targets.length > read.length) {
      await session.emit({
        type: 'error', environment: plan.environments[0]!.name, cluster: plan.environments[0]!.cluster, reason: 'TooManyContainers',
        message: `${targets.length} containers: reading the first ${read.length} only; choose one service with service=`,
      });
    }
    if (query.follow) {
      await follow(session, read);
      timedOut = deadline.aborted;
    } else {
      const backlogs = await pool(read, READ_CONCURRENCY, (t) => backlog(session, t));
      timedOut = deadline.aborted;
      await sendNewest(session, backlogs, out.signal);
    }
  } catch (error) {
    // Not expected (each part reports its own failures): say so in the answer rather than cut it.
    deps.logger.error({ err: error }, 'reading logs failed');
    await session.emit({ type: 'error', environment: plan.environments[0]!.name, cluster: plan.environments[0]!.cluster, reason: 'Internal', message: 'reading logs failed' });
  } finally {
    if (keepalive) clearInterval(keepalive);
    for (const c of clients.values()) void c.then((kc) => kc.close(), () => {});
  }
  if (out.signal.aborted) return; // the client left: nobody to tell
  const { lines, bytes, dropped, byteLimited } = session.sent;
  const reason: EndReason = byteLimited ? 'byte-limit' : timedOut ? 'timeout' : 'complete';
  await session.emit({ type: 'end', reason, message: endMessage(reason, query), lines, bytes, ...(dropped ? { dropped } : {}) });
  await chain;
}

/** Every container to read, environment by environment; an environment that cannot be listed, or has no pods, is an error event. */
async function findTargets(session: Session, environments: EnvironmentBinding[], client: (cluster: string) => Promise<KubeClient>): Promise<Target[]> {
  const { query, signal } = session;
  const perEnvironment = await Promise.all(environments.map(async (env) => {
    let found: Target[];
    try {
      found = await targetsOf(env, query.service, await client(env.cluster), signal);
    } catch (error) {
      await session.failed({ environment: env.name, cluster: env.cluster }, error);
      return [];
    }
    if (found.length === 0 && !signal.aborted) {
      await session.emit({
        type: 'error', environment: env.name, cluster: env.cluster, reason: 'NoPods',
        message: `no pods of ${query.service ? `service "${query.service}"` : 'its services'} in namespace "${env.namespace}"`,
      });
    }
    return found;
  }));
  return perEnvironment.flat();
}

function streamOptions(session: Session, t: Target) {
  return {
    namespace: t.namespace, pod: t.pod, container: t.container, timestamps: true,
    tailLines: session.query.tail, sinceSeconds: session.query.since, signal: session.signal,
  };
}

function lineOf(t: Target, raw: string): LogLineEvent {
  const { time, text } = splitTimestamp(raw);
  return { type: 'line', environment: t.environment, cluster: t.cluster, pod: t.pod, container: t.container, ...(time ? { time } : {}), line: text };
}

/** Every container at once, each line sent as it arrives, until the streams close or a bound ends them all. */
async function follow(session: Session, targets: readonly Target[]): Promise<void> {
  const { sent, query } = session;
  await Promise.all(targets.map(async (t) => {
    try {
      for await (const raw of streamPodLog(t.client, { ...streamOptions(session, t), follow: true })) {
        const event = lineOf(t, raw);
        const size = lineBytes(event);
        if (sent.bytes + size > query.limitBytes) {
          sent.byteLimited = true;
          session.stop.abort();
          return;
        }
        sent.bytes += size;
        sent.lines++;
        await session.emit(event);
        if (session.signal.aborted) return;
      }
    } catch (error) {
      await session.failed(t, error);
    }
  }));
}

/** One container's last lines, the newest within the byte limit (a container alone cannot need more). */
async function backlog(session: Session, t: Target): Promise<LogLineEvent[]> {
  const kept: LogLineEvent[] = [];
  let size = 0;
  try {
    for await (const raw of streamPodLog(t.client, streamOptions(session, t))) {
      const event = lineOf(t, raw);
      kept.push(event);
      size += lineBytes(event);
      while (size > session.query.limitBytes && kept.length > 0) {
        size -= lineBytes(kept.shift()!);
        session.sent.dropped++;
      }
    }
  } catch (error) {
    await session.failed(t, error);
  }
  return kept;
}

/** The backlogs merged by time; the newest lines within the byte limit are sent. */
async function sendNewest(session: Session, backlogs: LogLineEvent[][], gone: AbortSignal): Promise<void> {
  const { sent } = session;
  const merged = mergeByTime(backlogs);
  const within = newestWithin(merged, session.query.limitBytes);
  sent.dropped += merged.length - within.kept.length;
  sent.byteLimited = sent.dropped > 0;
  for (const event of within.kept) {
    if (gone.aborted) return;
    sent.bytes += lineBytes(event);
    sent.lines++;
    await session.emit(event);
  }
}

function endMessage(reason: EndReason, query: LogsQuery): string {
  switch (reason) {
    case 'byte-limit': return `byte limit of ${query.limitBytes} reached`;
    case 'timeout': return `timeout of ${query.timeout}s reached`;
    case 'complete': return query.follow ? 'every log stream was closed' : 'all logs read';
  }
}

/** Every container of the environment's service pods (pods of `service` only, when given), by pod and container name. */
async function targetsOf(env: EnvironmentBinding, service: string | undefined, client: KubeClient, signal: AbortSignal): Promise<Target[]> {
  const selector = {
    [LABEL.environment]: env.name,
    [LABEL.managedBy]: MANAGED_BY,
    ...(service ? { [LABEL.name]: service } : { [LABEL.component]: 'service' }),
  };
  const pods = await listObjects(client, { apiVersion: 'v1', kind: 'Pod', namespace: env.namespace, labelSelector: selector, signal });
  return pods.items
    .flatMap((pod) => ((pod as { spec?: { containers?: { name: string }[] } }).spec?.containers ?? []).map((c) => ({
      environment: env.name, cluster: env.cluster, namespace: env.namespace, pod: pod.metadata.name, container: c.name, client,
    })))
    .sort((a, b) => a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container));
}

/** A reason word and one line for an error event. */
export function describe(error: unknown): { reason: string; message: string } {
  if (error instanceof UnknownClusterError) return { reason: 'UnknownCluster', message: error.message };
  const c = classifyError(error);
  return { reason: c.reason, message: c.message };
}

/** Runs `work` over `items`, at most `limit` at once; results in the items' order. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  }));
  return results;
}
