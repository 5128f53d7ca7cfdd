// Stopping and starting environments through the API: refusals up front (never deployed,
// already stopped, not stopped, the rules forbid stopping the tier), then stopEnvironment or
// startEnvironment under the environment's lock. A deploy or promotion into a stopped
// environment is refused up front unless asked to keep it stopped.
import { stopRefusal } from '../../domain/rules.js';
import type { Catalog } from '../../store/catalog.js';
import type { EnvironmentRecord } from '../../store/environments.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import type { OperationReservation } from '../starter.js';
import { startOperation } from './operations.js';

export async function startStopOrStart(
  deps: ApiDeps, env: EnvironmentRecord, action: 'stop' | 'start', options: { by: string; rolloutTimeoutSeconds?: number }, reservation?: OperationReservation,
): Promise<string> {
  const name = env.binding.name;
  if (!env.deployed) throw new ApiError(409, 'not_deployed', `environment "${name}" has never been deployed: nothing to ${action}`);
  if (action === 'stop') {
    const refusal = stopRefusal((await deps.catalog.rules.current()).rules, env.binding.tier);
    if (refusal) throw new ApiError(422, 'stop_forbidden', refusal);
    if (env.stopped) throw new ApiError(409, 'already_stopped', `environment "${name}" is already stopped (since ${env.stopped.at}, by ${env.stopped.by})`);
  } else if (!env.stopped) {
    throw new ApiError(409, 'not_stopped', `environment "${name}" is not stopped`);
  }
  const { operationId } = await startOperation(deps, {
    id: `${action}-${name}-${deps.now().getTime().toString(36)}`,
    kind: action,
    workflowType: action === 'stop' ? 'stopEnvironment' : 'startEnvironment',
    input: { environment: name, requestedBy: options.by, ...(options.rolloutTimeoutSeconds !== undefined ? { rolloutTimeoutSeconds: options.rolloutTimeoutSeconds } : {}) },
    environments: [name],
    locks: [name],
    clusters: [env.binding.cluster],
    requestedBy: options.by,
  }, reservation);
  return operationId;
}

/** A change into stopped environments is said up front: start them, or keep them stopped (409 naming them). */
export async function requireRunning(catalog: Pick<Catalog, 'environments'>, environments: readonly string[], path: string): Promise<void> {
  const stopped: string[] = [];
  for (const name of environments) if ((await catalog.environments.get(name))?.stopped) stopped.push(name);
  if (stopped.length === 0) return;
  throw new ApiError(409, 'environment_stopped', `${stopped.join(', ')} ${stopped.length > 1 ? 'are' : 'is'} stopped: start ${stopped.length > 1 ? 'them' : 'it'} first (flotilla start), or deploy ${stopped.length > 1 ? 'them' : 'it'} stopped (keepStopped: true)`,
    stopped.map((name) => ({ path, message: `${name} is stopped` })));
}
