// Change-control activities: the per-environment lock and the operations index, both in the
// catalog, so API processes and workers see one truth.
import { ApplicationFailure } from '@temporalio/common';
import type { Catalog } from '../store/catalog.js';
import { EnvironmentBusyError } from '../store/locks.js';
import type { OperationActivities } from './operations-types.js';

export function createOperationActivities({ catalog }: { catalog: Catalog }): OperationActivities {
  return {
    async acquireEnvironments({ holder, environments }) {
      try {
        await catalog.locks.acquire(environments, holder);
      } catch (error) {
        if (error instanceof EnvironmentBusyError) throw ApplicationFailure.nonRetryable(error.message, 'EnvironmentBusy', error.held);
        throw error;
      }
    },

    async releaseEnvironments({ holder, environments }) {
      await catalog.locks.release(holder, environments);
    },

    async reportOperation(report) {
      await catalog.operations.report(report);
    },
  };
}
