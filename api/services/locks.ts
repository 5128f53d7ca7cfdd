// One change at a time per environment, as the API sees it: before starting an operation that
// changes environments, take them for the operation's id (the workflow takes them again,
// re-entrantly, and releases them when it ends). A second change is refused with 409 naming
// the operation in flight. A lock whose operation no longer runs in Temporal (its workflow was
// terminated, or its start never happened) is stale and taken over.
import { EnvironmentBusyError } from '../../store/locks.js';
import type { StartDeps } from '../deps.js';

/** A lock whose operation Temporal does not know is taken over only after this: its start may be under way. */
export const STALE_AFTER_MS = 30_000;

export async function lockEnvironments(deps: StartDeps, environments: string[], operationId: string): Promise<void> {
  try {
    await deps.catalog.locks.acquire(environments, operationId);
  } catch (error) {
    if (!(error instanceof EnvironmentBusyError)) throw error;
    const stale = await staleHolders(deps, error);
    if (stale.length === 0) throw error;
    for (const holder of stale) {
      deps.logger.warn({ operationId: holder }, 'taking over environment locks of an operation that no longer runs');
      await deps.catalog.locks.release(holder);
    }
    await deps.catalog.locks.acquire(environments, operationId);
  }
}

/** Releases what lockEnvironments took when the start itself failed. */
export async function unlockEnvironments(deps: StartDeps, operationId: string): Promise<void> {
  await deps.catalog.locks.release(operationId);
}

async function staleHolders(deps: StartDeps, busy: EnvironmentBusyError): Promise<string[]> {
  if (!deps.operations.describe) return [];
  const now = deps.now().getTime();
  const stale: string[] = [];
  for (const lock of busy.held) {
    if (stale.includes(lock.operationId)) continue;
    let status: string | undefined;
    try {
      status = (await deps.operations.describe(lock.operationId))?.status;
    } catch {
      return []; // Temporal unreachable: cannot tell, so the lock stands
    }
    if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return [];
    // Unknown to Temporal: its start may be happening right now, unless the lock is old.
    if (status === undefined && now - new Date(lock.acquiredAt).getTime() < STALE_AFTER_MS) return [];
    stale.push(lock.operationId);
  }
  return stale;
}
