// Tearing an environment down through the API: refuse while another change involves it (409
// naming it), start teardownEnvironment (a second request while one runs gets that one), and
// the approvals a teardown of a gated tier waits for.
import type { Tier } from '../../domain/environment.js';
import type { Principal } from '../authz.js';
import type { EnvironmentRecord } from '../../store/environments.js';
import { involvementOf } from '../../store/involvement.js';
import type { OperationRecord } from '../../store/operations.js';
import { OperationNotFoundError, UpdateRejectedError } from '../starter.js';
import { approveTeardownUpdate, rejectTeardownUpdate, type TeardownState, teardownStateQuery } from '../../workflows/messages.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import type { OperationReservation } from '../starter.js';
import { mapRejection } from './promotions.js';
import { QUERY_TIMEOUT_MS, startOperation } from './operations.js';

export async function startEnvironmentTeardown(
  deps: ApiDeps, environment: EnvironmentRecord, options: { deleteData: boolean; by: string }, reservation?: OperationReservation,
): Promise<string> {
  const name = environment.binding.name;
  const running = await deps.catalog.operations.list({ environment: name, kind: 'teardown', state: ['running', 'waiting'], limit: 1 });
  if (running.items[0]) return running.items[0].id; // DELETE is idempotent: the teardown under way
  const involved = await involvementOf(deps.catalog, name);
  if (involved) throw new ApiError(409, 'environment_involved', involved.message, [{ path: 'name', message: `${involved.kind} ${involved.operationId}` }]);
  const { operationId } = await startOperation(deps, {
    id: `teardown-${name}-${deps.now().getTime().toString(36)}`,
    kind: 'teardown',
    workflowType: 'teardownEnvironment',
    input: { environment: name, requestedBy: options.by, ...(options.deleteData ? { deleteData: true } : {}) },
    environments: [name],
    locks: [name],
    clusters: [environment.binding.cluster],
    requestedBy: options.by,
  }, reservation);
  return operationId;
}

/** The tier of the environment a teardown removes (while it is there to read). */
export async function teardownTiers(deps: ApiDeps, record: OperationRecord): Promise<Tier[]> {
  const envs = await Promise.all(record.environments.map((name) => deps.catalog.environments.get(name)));
  return envs.flatMap((e) => (e ? [e.binding.tier] : []));
}

/** The teardown's own state, while its workflow answers. */
export async function teardownState(deps: ApiDeps, record: OperationRecord): Promise<TeardownState | undefined> {
  if (!deps.operations.query) return undefined;
  try {
    return await withTimeout(deps.operations.query(record.id, teardownStateQuery), QUERY_TIMEOUT_MS);
  } catch {
    return undefined;
  }
}

/** Approves or rejects a teardown waiting for approval (an Update: the workflow's validator decides who may). */
export async function decideTeardown(deps: ApiDeps, record: OperationRecord, approve: boolean, principal: Principal, comment?: string): Promise<TeardownState> {
  if (!deps.operations.update) throw new ApiError(503, 'unavailable', 'this API cannot reach Temporal');
  const state = await teardownState(deps, record);
  if (state?.phase !== 'awaiting-approval') {
    throw new ApiError(409, 'not_awaiting_approval', `teardown "${record.id}" is not waiting for approval${state ? ` (it is ${state.phase})` : ''}`);
  }
  const decision = { by: principal.name, role: principal.role, ...(comment !== undefined ? { comment } : {}) };
  try {
    return await withTimeout(deps.operations.update(record.id, approve ? approveTeardownUpdate : rejectTeardownUpdate, decision), 60_000);
  } catch (error) {
    if (error instanceof UpdateRejectedError) throw mapRejection(error);
    if (error instanceof OperationNotFoundError) throw new ApiError(409, 'operation_finished', `teardown "${record.id}" is no longer running`);
    throw error;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ApiError(503, 'unavailable', 'the operation did not answer in time; is a worker running?')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
