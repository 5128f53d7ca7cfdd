// How a rollout wait's progress reads to a person: the deploy activity heartbeats the workloads
// not ready yet with their pods' problems; the API and the CLI show them as lines.

export interface WaitingWorkload {
  kind?: string;
  name?: string;
  problems?: { pod: string; reason: string; message?: string }[];
}

/** "Deployment web: pod web-1 ImagePullBackOff: …" for every problem in the pending activities' progress. */
export function podProblems(pending: readonly { progress?: unknown }[]): string[] {
  const out: string[] = [];
  for (const activity of pending) {
    if (!Array.isArray(activity.progress)) continue;
    for (const w of activity.progress as WaitingWorkload[]) {
      for (const p of w.problems ?? []) out.push(`${w.kind} ${w.name}: pod ${p.pod} ${p.reason}${p.message ? `: ${p.message}` : ''}`);
    }
  }
  return out;
}
