// Run-to-completion Jobs that an operation waits for (lifecycle jobs): clear a failed run of the
// same name so that it runs again, and read the tail of a failed run's log for its error.
import type { V1Job } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { isNotFound } from './errors.js';
import { podLogs } from './logs.js';
import { listObjects, readObject } from './read.js';
import { jobRollout } from './rollout.js';

export interface JobRef {
  namespace: string;
  name: string;
}

const JOB = { apiVersion: 'batch/v1', kind: 'Job' } as const;

/**
 * Deletes each of these Jobs that exists and has failed, and waits until it is gone, so that
 * applying it again starts a new run. A Job that succeeded or still runs is left alone (a
 * deploy of the same revision again finds it done). Returns the names deleted.
 */
export async function clearFailedJobs(client: KubeClient, jobs: readonly JobRef[], options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const cleared: string[] = [];
  for (const ref of jobs) {
    const live = await readObject(client, { ...JOB, ...ref }, options.signal);
    if (!live || !jobRollout(live as V1Job).failure) continue;
    try {
      await client.request('DELETE', await client.path({ ...JOB, ...ref }), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: live.metadata.uid } },
        signal: options.signal,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (await readObject(client, { ...JOB, ...ref }, options.signal)) {
      if (Date.now() > deadline) throw new Error(`Job ${ref.namespace}/${ref.name} (failed before) is still there after ${options.timeoutMs ?? 60_000} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    cleared.push(ref.name);
  }
  return cleared;
}

export interface JobLogTail {
  pod: string;
  container: string;
  lines: string[];
  /** Why no log could be read. */
  error?: string;
}

interface PodShape {
  metadata?: { name?: string; creationTimestamp?: string };
  status?: { phase?: string };
}

/**
 * The last `lines` lines of the Job's latest pod (the failed one, when one failed), through
 * pods/log. Undefined when the Job or its pods are gone.
 */
export async function jobLogTail(client: KubeClient, job: JobRef, options: { lines?: number; signal?: AbortSignal } = {}): Promise<JobLogTail | undefined> {
  const live = await readObject(client, { ...JOB, ...job }, options.signal);
  const uid = live?.metadata.uid;
  if (!uid) return undefined;
  // The controller labels its pods with the Job's uid (the older `controller-uid` label too).
  const { items } = await listObjects(client, { apiVersion: 'v1', kind: 'Pod', namespace: job.namespace, labelSelector: { 'batch.kubernetes.io/controller-uid': uid }, signal: options.signal });
  const pods = (items as PodShape[])
    .sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const pod = pods.filter((p) => p.status?.phase === 'Failed').at(-1) ?? pods.at(-1);
  const name = pod?.metadata?.name;
  if (!name) return undefined;
  const [log] = await podLogs(client, {
    namespace: job.namespace, labelSelector: { 'batch.kubernetes.io/controller-uid': uid }, tailLines: options.lines ?? 20, signal: options.signal,
  }).then((all) => all.filter((l) => l.pod === name));
  if (!log) return undefined;
  return { pod: log.pod, container: log.container, lines: log.lines, ...(log.error ? { error: log.error.message } : {}) };
}
