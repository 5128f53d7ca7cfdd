// The last lines of every container of the pods matching a selector, through the API server's
// pods/log subresource (which asks the node's kubelet). One container that has no logs, or a
// pod that went away meanwhile, is reported on its entry and does not fail the others.
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { classifyError } from './errors.js';
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
