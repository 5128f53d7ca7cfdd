// Real logs for simulated pods. KWOK serves a pod's logs (the pods/log subresource, through the
// real API server, so `kubectl logs` and Flotilla read them as on any cluster) from a file that a
// ClusterLogs resource names; the file must be in the CRI log format a kubelet's runtime writes
// (`<RFC3339Nano> stdout F <line>`): plain text is refused.
//
// One file per service: rendered Deployments name their single container after the service
// (domain/render.ts), so one ClusterLogs per (namespace, service) that selects the namespace's pods
// and that container name gives every pod of the service, present and future, the same file.
// Several of them in one namespace coexist: KWOK v0.8 takes the first ClusterLogs whose selector
// matches the pod *and* that lists the container. It reads the file on each request (tailLines,
// sinceSeconds, limitBytes, timestamps) and, when the request follows, watches it for appended
// lines; the resource's own `follow` field is not read by v0.8, so it is left out.
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ServiceLogTarget {
  namespace: string;
  /** The service, which is also its container's name. */
  service: string;
}

/** The ClusterLogs of one service: `<service>.<namespace>` (cluster-scoped, so it may precede the namespace). */
export function serviceLogsName(target: ServiceLogTarget): string {
  return `${target.service}.${target.namespace}`;
}

/** Where the file of a service lives: beside the cluster's kubeconfig (kwokctl's folder for it). */
export function serviceLogPath(kubeconfigPath: string, target: ServiceLogTarget): string {
  return join(dirname(kubeconfigPath), 'pod-logs', target.namespace, `${target.service}.log`);
}

/**
 * Makes (empty) the log file of a service and the ClusterLogs that serves it, unless there; returns
 * the file's path, for appendLogLines. `kubectl apply` with the cluster's (admin) kubeconfig.
 */
export async function serviceLogFile(kubectl: string, kubeconfigPath: string, target: ServiceLogTarget): Promise<string> {
  const file = serviceLogPath(kubeconfigPath, target);
  mkdirSync(dirname(file), { recursive: true });
  if (!existsSync(file)) writeFileSync(file, '');
  const resource = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: serviceLogsName(target) },
    spec: {
      selector: { matchNamespaces: [target.namespace] },
      logs: [{ containers: [target.service], logsFile: file }],
    },
  };
  await kubectlWithInput(kubectl, ['--kubeconfig', kubeconfigPath, 'apply', '-f', '-'], JSON.stringify(resource), `apply ClusterLogs ${resource.metadata.name}`);
  return file;
}

/** Removes the ClusterLogs of a service (the file stays, for a post-mortem). */
export async function removeServiceLog(kubectl: string, kubeconfigPath: string, target: ServiceLogTarget): Promise<void> {
  await kubectlWithInput(kubectl, ['--kubeconfig', kubeconfigPath, 'delete', 'clusterlogs', serviceLogsName(target), '--ignore-not-found'], '', `delete ClusterLogs ${serviceLogsName(target)}`);
}

export interface LogLineOptions {
  stream?: 'stdout' | 'stderr';
  /** When the lines were "written"; now by default. */
  at?: Date;
}

/** Appends lines (each `\n` starts another) to a log file in the CRI format. */
export function appendLogLines(file: string, lines: string | readonly string[], options: LogLineOptions = {}): void {
  const stream = options.stream ?? 'stdout';
  const text = (typeof lines === 'string' ? [lines] : lines)
    .flatMap((l) => l.split('\n'))
    .map((line) => `${criTimestamp(options.at)} ${stream} F ${line}\n`)
    .join('');
  appendFileSync(file, text);
}

let lastMs = 0;
let sequence = 0;

/**
 * RFC 3339 with nanoseconds, as the runtime writes it. A Date holds milliseconds only, so lines of
 * the same millisecond get increasing nanoseconds: their order survives a merge by time.
 */
export function criTimestamp(at: Date = new Date()): string {
  const ms = at.getTime();
  sequence = ms === lastMs ? sequence + 1 : 0;
  lastMs = ms;
  const nanos = String((ms % 1000) * 1_000_000 + Math.min(sequence, 999_999)).padStart(9, '0');
  return `${at.toISOString().slice(0, 19)}.${nanos}Z`;
}

/** Runs kubectl with `input` on stdin; fails with its stderr. */
export function kubectlWithInput(kubectl: string, args: string[], input: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = execFile(kubectl, args, { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`kubectl ${what} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
    child.stdin?.end(input);
  });
}
