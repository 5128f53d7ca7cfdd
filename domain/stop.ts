// Stopping an environment: its workloads scaled to zero (CronJobs suspended) and, on start, back
// to what each ran. Both are the render of the deployed revision with only these fields changed,
// applied whole by Flotilla's own field manager, so a later deploy owns every field as before
// and drift compares against what a stopped environment should look like. Pure.
import type { Manifest } from './manifest.js';

/** Kinds a stop changes: replicas for these … */
export const SCALED_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet']);
/** … and suspends these. */
export const SUSPENDED_KINDS: ReadonlySet<string> = new Set(['CronJob']);

/** "Deployment/web": how a stop records each workload's replicas. */
export function workloadKey(m: Pick<Manifest, 'kind' | 'metadata'>): string {
  return `${m.kind}/${m.metadata.name}`;
}

/** The rendered workloads as a stopped environment runs them: no replicas, no scheduled runs. */
export function stoppedWorkloads(manifests: readonly Manifest[]): Manifest[] {
  return manifests.filter(isStoppable).map((m) => (SCALED_KINDS.has(m.kind) ? withSpec(m, { replicas: 0 }) : withSpec(m, { suspend: true })));
}

/** Every manifest, with the workloads as a stopped environment runs them (what drift compares with). */
export function asStopped(manifests: readonly Manifest[]): Manifest[] {
  return manifests.map((m) => (!isStoppable(m) ? m : SCALED_KINDS.has(m.kind) ? withSpec(m, { replicas: 0 }) : withSpec(m, { suspend: true })));
}

/**
 * The rendered workloads as a start brings them back: each to the replicas the stop recorded
 * (a workload the stop did not see runs as rendered), CronJobs as rendered.
 */
export function startedWorkloads(manifests: readonly Manifest[], recorded: Readonly<Record<string, number>>): Manifest[] {
  return manifests.filter(isStoppable).map((m) => {
    const replicas = Object.hasOwn(recorded, workloadKey(m)) ? recorded[workloadKey(m)] : undefined;
    return SCALED_KINDS.has(m.kind) && replicas !== undefined ? withSpec(m, { replicas }) : m;
  });
}

function isStoppable(m: Manifest): boolean {
  return SCALED_KINDS.has(m.kind) || SUSPENDED_KINDS.has(m.kind);
}

function withSpec(m: Manifest, change: Record<string, unknown>): Manifest {
  return { ...m, spec: { ...(m.spec as Record<string, unknown> | undefined), ...change } } as Manifest;
}
