// The workload of bench/promote.ts: a realistic 20-service application, per-target overrides,
// the exact manifests Flotilla applies for a target (for the kubectl baselines), the bash
// scripts of those baselines, and what the Temporal histories say about where time went.
import { readFileSync } from 'node:fs';
import type { AppSpecInput, OverridesInput } from '../../domain/environment.js';
import type { Manifest } from '../../domain/manifest.js';
import { materializeSecrets, render } from '../../domain/render.js';
import type { Catalog } from '../../store/catalog.js';
import { environmentScope } from '../../store/secrets.js';
import { stringify } from 'yaml';

export const SERVICES = [
  'gateway', 'web', 'api', 'auth', 'cart', 'checkout', 'catalog', 'search', 'payments', 'shipping',
  'email', 'recommend', 'admin', 'inventory', 'pricing', 'reviews', 'notify', 'orders', 'media', 'ledger',
] as const;

const GRPC = new Set(['api', 'auth', 'catalog', 'payments', 'inventory', 'pricing', 'orders', 'ledger']);
const HEAVY = new Set(['api', 'search', 'recommend', 'media']);

/** 20 services: HTTP (and some gRPC) ports, requests and limits, probes, config and secrets. */
export function benchSpec(tag: string): AppSpecInput {
  return {
    services: SERVICES.map((name) => ({
      name,
      image: `ghcr.io/acme/${name}:${tag}`,
      ports: [{ name: 'http', port: 8080 }, ...(GRPC.has(name) ? [{ name: 'grpc', port: 9090 }] : [])],
      replicas: name === 'gateway' || name === 'web' ? 2 : 1,
      env: {
        SERVICE_NAME: name,
        LOG_LEVEL: { config: 'log-level' },
        FEATURE_FLAGS: { config: 'feature-flags' },
        PUBLIC_URL: { config: 'public-url' },
        ...(name === 'payments' || name === 'ledger' ? { STRIPE_KEY: { secret: 'STRIPE_KEY' } } : {}),
        ...(name === 'auth' || name === 'web' || name === 'gateway' ? { SESSION_SECRET: { secret: 'SESSION_SECRET' } } : {}),
      },
      resources: HEAVY.has(name)
        ? { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } }
        : { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      probes: { readiness: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 }, liveness: { tcpSocket: { port: 8080 } } },
      dependsOn: name === 'gateway' ? ['web', 'api'] : name === 'web' ? ['api'] : [],
    })),
    config: { 'log-level': 'info', 'feature-flags': 'checkout-v2,search-v3', 'public-url': 'https://staging.shop.example' },
    environmentConfig: ['public-url'],
    secrets: ['STRIPE_KEY', 'SESSION_SECRET'],
  };
}

/** Target k (1-based): its own replica counts, public URL and hostname. */
export function targetOverrides(k: number): OverridesInput {
  return {
    replicas: { gateway: 2 + (k % 2), web: 2 + (k % 3 === 0 ? 1 : 0), api: 2, checkout: 1 + (k % 2) },
    resources: k % 2 === 0 ? { search: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '1Gi' } } } : {},
    hostnames: { web: `shop-${k}.example.com` },
    config: { 'public-url': `https://shop-${k}.example.com` },
  };
}

/** Per-environment secret values, stored in the catalog the way `flotilla secrets set` does. */
export async function putSecrets(catalog: Catalog, environment: string): Promise<void> {
  const scope = environmentScope(environment);
  await catalog.secrets.put(scope, 'STRIPE_KEY', `sk_test_${environment}`);
  await catalog.secrets.put(scope, 'SESSION_SECRET', `session-${environment}-0123456789abcdef`);
}

/**
 * The manifests Flotilla's applyRevision sends for `environment` at `revision` (render, then
 * the secret values from the catalog), but bound to another environment name and namespace:
 * the baselines change the same objects beside Flotilla's, not on top of them.
 */
export async function baselineManifests(catalog: Catalog, environment: string, revision: string, as: string): Promise<Manifest[]> {
  const record = await catalog.environments.require(environment);
  const { spec } = await catalog.revisions.require(revision);
  const scope = environmentScope(environment);
  const values = new Map<string, string>();
  // The secrets' versions too: Flotilla's pod templates carry a checksum of them (a changed secret rolls the pods).
  const secretVersions: Record<string, string> = {};
  for (const { name, updatedAt } of await catalog.secrets.list(scope)) {
    values.set(name, await catalog.secrets.require(scope, name));
    secretVersions[name] = updatedAt;
  }
  const manifests = render({ binding: { ...record.binding, name: as, namespace: as }, spec, overrides: record.overrides, revision, secretVersions });
  return materializeSecrets(manifests, (name) => values.get(name));
}

export function toYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => stringify(m)).join('---\n');
}

export interface BaselineTarget {
  kubeconfig: string;
  file: string;
  namespace: string;
}

/** A word for bash, single-quoted. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const q = shellQuote;

/**
 * The scripting approach, as a bash script: per cluster `kubectl apply -f`, then `kubectl
 * rollout status` for every Deployment. Sequential: one cluster after another; parallel: one
 * background subshell per cluster, then `wait`. Prints "<i> applied|done <EPOCHREALTIME>" so the
 * time can be split into apply and wait afterwards.
 */
export function baselineScript(kubectl: string, targets: readonly BaselineTarget[], deployments: readonly string[], parallel: boolean): string {
  const body = [
    `  "$K" --kubeconfig "\${KCS[$i]}" apply -f "\${FILES[$i]}" >/dev/null`,
    '  echo "$i applied $EPOCHREALTIME"',
    '  for d in $DEPLOYMENTS; do',
    '    "$K" --kubeconfig "${KCS[$i]}" rollout status "deployment/$d" -n "${NSS[$i]}" --timeout=120s >/dev/null',
    '  done',
    '  echo "$i done $EPOCHREALTIME"',
  ];
  return [
    'set -euo pipefail',
    `K=${q(kubectl)}`,
    `DEPLOYMENTS=${q(deployments.join(' '))}`,
    `KCS=(${targets.map((t) => q(t.kubeconfig)).join(' ')})`,
    `FILES=(${targets.map((t) => q(t.file)).join(' ')})`,
    `NSS=(${targets.map((t) => q(t.namespace)).join(' ')})`,
    ...(parallel
      ? [
        'pids=()',
        'for i in "${!KCS[@]}"; do',
        '  (',
        ...body.map((l) => `  ${l}`),
        '  ) &',
        '  pids+=($!)',
        'done',
        'rc=0',
        'for p in "${pids[@]}"; do wait "$p" || rc=1; done',
        'exit $rc',
      ]
      : ['for i in "${!KCS[@]}"; do', ...body, 'done']),
  ].join('\n');
}

/**
 * Per target, the milliseconds of its `kubectl apply` and of its rollout waits, from a baseline
 * script's output and the epoch ms it was started at. Sequential: a target's apply starts when
 * the previous target is done; parallel: all start together.
 */
export function baselineSplit(output: string, startedMs: number, parallel: boolean): { apply: number[]; wait: number[] } {
  const events = new Map<number, { applied?: number; done?: number }>();
  for (const line of output.split('\n')) {
    const m = /^(\d+) (applied|done) (\d+[.,]\d+)$/.exec(line.trim());
    if (!m) continue;
    const e = events.get(Number(m[1])) ?? {};
    e[m[2] as 'applied' | 'done'] = Number(m[3]!.replace(',', '.')) * 1000;
    events.set(Number(m[1]), e);
  }
  const ordered = [...events.entries()].sort(([a], [b]) => a - b).map(([, e]) => e);
  const apply: number[] = [];
  const wait: number[] = [];
  ordered.forEach((e, i) => {
    if (e.applied === undefined || e.done === undefined) return;
    const from = parallel || i === 0 ? startedMs : ordered[i - 1]!.done ?? startedMs;
    apply.push(e.applied - from);
    wait.push(e.done - e.applied);
  });
  return { apply, wait };
}

// ---- Temporal histories ----

interface Timestamp { seconds?: { toNumber(): number } | number | null; nanos?: number | null }
export interface HistoryEvent {
  eventId?: { toNumber(): number } | number | null;
  eventTime?: Timestamp | null;
  workflowExecutionStartedEventAttributes?: unknown;
  workflowExecutionCompletedEventAttributes?: unknown;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: { toNumber(): number } | number | null } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: { toNumber(): number } | number | null } | null;
  workflowTaskScheduledEventAttributes?: unknown;
  workflowTaskStartedEventAttributes?: { scheduledEventId?: { toNumber(): number } | number | null } | null;
  workflowTaskCompletedEventAttributes?: { scheduledEventId?: { toNumber(): number } | number | null } | null;
  startChildWorkflowExecutionInitiatedEventAttributes?: unknown;
  childWorkflowExecutionStartedEventAttributes?: unknown;
  childWorkflowExecutionCompletedEventAttributes?: unknown;
  markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null;
}

const num = (v: { toNumber(): number } | number | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());
export const eventMs = (e: HistoryEvent): number => num(e.eventTime?.seconds) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

export interface ActivityTiming {
  name: string;
  /** A local activity: only its completion is known. */
  local?: boolean;
  scheduled: number;
  started?: number;
  completed?: number;
}

/** Every activity of a history: when it was scheduled, started and completed (epoch ms). */
export function activityTimings(events: readonly HistoryEvent[]): ActivityTiming[] {
  return taskTimings(events, (e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) return { scheduled: scheduled.activityType?.name ?? '?' };
    const started = e.activityTaskStartedEventAttributes ?? undefined;
    if (started) return { started: started.scheduledEventId };
    const completed = e.activityTaskCompletedEventAttributes ?? undefined;
    return completed ? { completed: completed.scheduledEventId } : undefined;
  });
}

/**
 * Every local activity of a history (the catalog steps since LOCAL_CATALOG_PATCH): the worker
 * records each as a marker whose data says when it completed (the worker's clock). Its start is
 * not recorded (the marker's original_schedule_time is workflow time, not when it ran): it ran
 * inside the workflow task that asked for it, so only `completed` is known (`scheduled` = it).
 */
export function localActivityTimings(events: readonly HistoryEvent[]): ActivityTiming[] {
  const ms = (t?: { seconds?: number | string; nanos?: number }) => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (!data) return [];
    const d = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string; complete_time?: { seconds?: number; nanos?: number } };
    const completed = ms(d.complete_time);
    return [{ name: d.activity_type, local: true, scheduled: completed, completed }];
  });
}

/** Remote and local activities together, in the order they were scheduled. */
export function allActivityTimings(events: readonly HistoryEvent[]): ActivityTiming[] {
  return [...activityTimings(events), ...localActivityTimings(events)].sort((a, b) => a.scheduled - b.scheduled);
}

/** Every workflow task of a history, in order: scheduled, picked up by a worker, completed (epoch ms). */
export function workflowTaskTimings(events: readonly HistoryEvent[]): ActivityTiming[] {
  return taskTimings(events, (e) => {
    if (e.workflowTaskScheduledEventAttributes) return { scheduled: 'workflow task' };
    const started = e.workflowTaskStartedEventAttributes ?? undefined;
    if (started) return { started: started.scheduledEventId };
    const completed = e.workflowTaskCompletedEventAttributes ?? undefined;
    return completed ? { completed: completed.scheduledEventId } : undefined;
  });
}

type EventRef = Parameters<typeof num>[0];
type TaskStep = { scheduled: string } | { started: EventRef } | { completed: EventRef };

/** Scheduled → started → completed of one kind of task, matched by the scheduled event's id. */
function taskTimings(events: readonly HistoryEvent[], step: (e: HistoryEvent) => TaskStep | undefined): ActivityTiming[] {
  const byScheduled = new Map<number, ActivityTiming>();
  for (const e of events) {
    const s = step(e);
    if (!s) continue;
    if ('scheduled' in s) byScheduled.set(num(e.eventId), { name: s.scheduled, scheduled: eventMs(e) });
    else if ('started' in s) {
      const t = byScheduled.get(num(s.started));
      if (t) t.started = eventMs(e);
    } else {
      const t = byScheduled.get(num(s.completed));
      if (t) t.completed = eventMs(e);
    }
  }
  return [...byScheduled.values()];
}

export function firstEventMs(events: readonly HistoryEvent[], has: (e: HistoryEvent) => unknown): number | undefined {
  const e = events.find((x) => has(x));
  return e ? eventMs(e) : undefined;
}

// ---- statistics ----

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
export const min = (xs: readonly number[]) => (xs.length ? Math.min(...xs) : NaN);
export const max = (xs: readonly number[]) => (xs.length ? Math.max(...xs) : NaN);

// ---- machine load ----

/** The machine's CPU counters (all cores, jiffies) from /proc/stat; undefined elsewhere. */
export function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (first[3] ?? 0) + (first[4] ?? 0); // idle + iowait
    const total = first.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Share of all cores busy between two cpuTimes() readings (0–1), NaN when unknown. */
export function busyShare(before: ReturnType<typeof cpuTimes>, after: ReturnType<typeof cpuTimes>): number {
  if (!before || !after || after.total === before.total) return NaN;
  return (after.busy - before.busy) / (after.total - before.total);
}
