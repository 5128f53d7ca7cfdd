// DR drills as the API starts and shows them. A drill is a clone (planned, checked and written
// as api/services/clones.ts does, purpose drill) run by the drDrill workflow, which makes it as
// a child, validates it, always tears it down unless kept, and stores the report.
//
// Workflow ids (the operation ids):
//   drill-<source>-<n>      n counts drills of that source (1, 2, …)
//   clone-<name>-<n>        the drill's clone (its child), which holds the source and the clone
import type { DrillObjectives, HttpCheck } from '../../domain/drill.js';
import type { DrillSummary } from '../../store/drills.js';
import { drillStateQuery } from '../../workflows/messages.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { OperationAlreadyRunningError, type OperationReservation } from '../starter.js';
import { cloneId, type PlannedClone, unwriteClone, writeClone } from './clones.js';
import { lockEnvironments, unlockEnvironments } from './locks.js';
import { queryIfRunning, startOperation } from './operations.js';

export interface DrillOptions {
  objectives?: DrillObjectives;
  http?: HttpCheck[];
  keep?: boolean;
}

async function drillId(deps: ApiDeps, source: string): Promise<string> {
  return `drill-${source}-${(await deps.catalog.operations.list({ kind: 'drill', environment: source, limit: 500 })).items.length + 1}`;
}

/**
 * Writes the drill's clone (environment, secrets, record), takes the source and the clone for
 * the clone's workflow (its child takes them again, re-entrantly), and starts drDrill.
 */
export async function startDrill(deps: ApiDeps, planned: PlannedClone, options: DrillOptions, by: string, reservation?: OperationReservation): Promise<string> {
  const id = reservation?.earlier ?? await drillId(deps, planned.source.binding.name);
  const clone = await cloneId(deps, planned.binding.name);
  await writeClone(deps, planned, clone, by);
  const environments = [planned.binding.name, planned.source.binding.name];
  try {
    await lockEnvironments(deps, environments, clone);
    const { operationId } = await startOperation(deps, {
      id, kind: 'drill', workflowType: 'drDrill',
      input: { cloneId: clone, requestedBy: by, ...(options.objectives ? { objectives: options.objectives } : {}), ...(options.http?.length ? { http: options.http } : {}), ...(options.keep ? { keep: true } : {}) },
      environments, clusters: [planned.binding.cluster], requestedBy: by,
    }, reservation);
    return operationId;
  } catch (error) {
    if (!(error instanceof OperationAlreadyRunningError)) {
      await unlockEnvironments(deps, clone);
      await unwriteClone(deps, clone, planned.binding.name);
    }
    throw error;
  }
}

/** Every drill of a source (or all), newest first, and each source's RTO trend (oldest first). */
export async function drillList(deps: ApiDeps, source?: string): Promise<{ items: DrillSummary[]; trend: Record<string, { at: string; rtoSeconds?: number; outcome: string }[]> }> {
  const items = await deps.catalog.drills.list({ ...(source ? { source } : {}), limit: 500 });
  const trend: Record<string, { at: string; rtoSeconds?: number; outcome: string }[]> = {};
  for (const d of [...items].reverse()) {
    (trend[d.source] ??= []).push({ at: d.startedAt, ...(d.rtoSeconds !== undefined ? { rtoSeconds: d.rtoSeconds } : {}), outcome: d.outcome });
  }
  return { items, trend };
}

/** A finished drill's report (with its Markdown), or a running one's phase. */
export async function drillView(deps: ApiDeps, id: string): Promise<Record<string, unknown>> {
  const stored = await deps.catalog.drills.get(id);
  if (stored) return { ...stored.report, state: 'finished', markdown: stored.markdown };
  const op = await deps.catalog.operations.get(id);
  if (!op || op.kind !== 'drill') throw new ApiError(404, 'not_found', `drill "${id}" not found`);
  const live = await queryIfRunning(deps, id, drillStateQuery);
  return { id, state: op.state === 'running' ? 'running' : op.state, ...(live ? { phase: live.phase, cloneId: live.cloneId, startedAt: live.startedAt } : {}) };
}
