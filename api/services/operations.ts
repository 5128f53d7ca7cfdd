// Starting an operation: a business-key workflow id, the start itself, and its record in the
// operations index. Answers 202 with the id and where to follow it.
//
// Workflow ids (the operation ids):
//   onboard-<cluster>                       one onboarding per cluster at a time
//   deploy-<env>-<short revision>-<n>       n counts deploys of that revision to that env (1, 2, …)
// A start whose id is still running is refused (409) by Temporal itself; a start that changes
// an environment another operation is changing is refused (409) by the environment's lock.
import type { QueryDefinition } from '@temporalio/common';
import type { Tier } from '../../domain/environment.js';
import type { OperationKind, OperationRecord } from '../../store/operations.js';
import type { Action } from '../authz.js';
import type { ApiDeps, StartDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import type { Reply } from '../route.js';
import { OperationAlreadyRunningError, OperationNotFoundError, type OperationReservation } from '../starter.js';
import { lockEnvironments, unlockEnvironments } from './locks.js';

export interface OperationRequest {
  id: string;
  kind: OperationKind;
  workflowType: string;
  /** The workflow's one argument: names and ids only, never a secret. */
  input: Record<string, unknown>;
  environments?: string[];
  clusters?: string[];
  requestedBy: string;
}

/**
 * Starts the workflow. `locks`: the environments it changes, taken for the operation first
 * (409 when another operation holds one) and released again if the start fails. With a
 * reservation (an Idempotency-Key), the id is noted before the start; a retry of an attempt
 * that died mid-way takes that id over: an operation Temporal already knows is only recorded
 * (not started twice), one it does not know is started under it.
 */
export async function startOperation(
  deps: StartDeps, request: OperationRequest & { locks?: string[] }, reservation?: OperationReservation,
): Promise<{ operationId: string; runId: string }> {
  const op = reservation?.earlier !== undefined ? { ...request, id: reservation.earlier } : request;
  if (reservation?.earlier !== undefined) {
    const known = await deps.operations.describe?.(op.id);
    if (known) {
      await record(deps, op, op.id);
      return { operationId: op.id, runId: known.runId };
    }
  } else {
    await reservation?.reserve(op.id);
  }
  if (op.locks) await lockEnvironments(deps, op.locks, op.id);
  let started;
  try {
    started = await deps.operations.start(op.workflowType, [op.input], op.id);
  } catch (error) {
    // Already running under this id: the locks are that run's (the same id took them), keep them.
    if (error instanceof OperationAlreadyRunningError) throw error;
    if (op.locks) await unlockEnvironments(deps, op.id);
    deps.logger.error({ err: error, operationId: op.id }, 'operation start failed');
    throw new ApiError(503, 'unavailable', 'the operation could not be started; try again later');
  }
  await record(deps, op, started.workflowId);
  return { operationId: started.workflowId, runId: started.runId };
}

async function record(deps: StartDeps, op: OperationRequest, id: string): Promise<void> {
  await deps.catalog.operations.record({ id, kind: op.kind, environments: op.environments, clusters: op.clusters, requestedBy: op.requestedBy });
}

export function accepted(operationId: string): Reply {
  return { status: 202, body: { operationId }, headers: { Location: `/v1/operations/${encodeURIComponent(operationId)}` } };
}

/** How long the API waits for a workflow to answer a query (a worker must be running). */
export const QUERY_TIMEOUT_MS = 15_000;

/** A running workflow's query, or undefined when it has ended, is unknown, or does not answer in time. */
export async function queryIfRunning<R>(deps: ApiDeps, id: string, query: QueryDefinition<R, []>): Promise<R | undefined> {
  if (!deps.operations.query) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      deps.operations.query(id, query),
      new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS); }),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Who may cancel an operation of each kind: the permission that starts it. Teardowns and
 * onboardings are not cancelled (half a teardown is worse than a whole one).
 */
const CANCEL_ACTIONS: Partial<Record<OperationKind, Action>> = {
  deploy: 'environment.deploy', promotion: 'promotion.control', clone: 'clone.create', 'compliance-clone': 'clone.create', drill: 'drill.create',
};

/** What the caller needs to cancel `record` (409 for a kind that is not cancelled, or an operation that ended). */
export async function cancelPermission(deps: ApiDeps, record: OperationRecord): Promise<{ action: Action; tiers: Tier[] }> {
  const action = CANCEL_ACTIONS[record.kind];
  if (!action) throw new ApiError(409, 'conflict', `operations of kind ${record.kind} are not cancelled; let it finish`);
  if (!['running', 'waiting', 'paused'].includes(record.state)) throw new ApiError(409, 'conflict', `operation "${record.id}" is ${record.state}`);
  const tiers = new Set<Tier>();
  for (const name of record.environments ?? []) {
    const environment = await deps.catalog.environments.get(name);
    if (environment) tiers.add(environment.binding.tier);
  }
  return { action, tiers: [...tiers] };
}

/** A native Temporal cancel: each workflow ends it as its own outcome (cancelled, rolled back, torn down). */
export async function cancelOperation(deps: ApiDeps, record: OperationRecord): Promise<void> {
  if (!deps.operations.cancel) throw new ApiError(503, 'unavailable', 'this API cannot reach Temporal');
  try {
    await deps.operations.cancel(record.id);
  } catch (error) {
    if (error instanceof OperationNotFoundError) throw new ApiError(409, 'conflict', `operation "${record.id}" is not running`);
    throw error;
  }
}
