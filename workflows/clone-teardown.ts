// The steps that remove a clone, shared by teardownClone and by cloneEnvironment when a clone
// fails or is cancelled half-made: everything Flotilla created for it in the cluster, the data
// its copies put into external databases, then its catalog entry. Each step is idempotent, so a
// teardown that is itself interrupted is simply run again.
import { proxyActivities } from '@temporalio/workflow';
import type { CloneActivities } from '../activities/clone-types.js';
import type { DataCopyActivities } from '../activities/data-copy-types.js';
import type { DeployActivities } from '../activities/deploy-types.js';
import type { DataPlanEntry } from '../domain/clone.js';

const { removeDeployment } = proxyActivities<DeployActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});
const { dropClonedData } = proxyActivities<DataCopyActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});
const { forgetCloneEnvironment } = proxyActivities<CloneActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

export interface CloneToRemove {
  cloneId: string;
  clone: string;
  data: readonly DataPlanEntry[];
  /** Why it goes (kept in its record). */
  reason: string;
}

/**
 * Removes the clone. A container database goes with the clone's objects; an external one is
 * emptied of what the copy put there (only where the copy's marker says it did).
 */
export async function removeClone(clone: CloneToRemove): Promise<void> {
  await removeDeployment({ environment: clone.clone });
  for (const db of clone.data) {
    if (db.location !== 'external' || db.mode === 'none') continue;
    await dropClonedData({ copyId: copyIdOf(clone.cloneId, db.database), target: { environment: clone.clone, database: db.database } });
  }
  await forgetCloneEnvironment({ cloneId: clone.cloneId, reason: clone.reason });
}

/** The id a database's copy marks its target with: one per clone and database. */
export function copyIdOf(cloneId: string, database: string): string {
  return `${cloneId}/${database}`;
}
