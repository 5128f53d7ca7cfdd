// The OperationStarter over a real Temporal client: workflows are started by type name, so
// the API does not import (or bundle) workflow code.
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import {
  OperationAlreadyRunningError, type OperationDescription, OperationNotFoundError, type OperationStarter, type StartedOperation,
  UpdateRejectedError, WorkflowRunError,
} from './starter.js';

/** Temporal's "no such (open) run" as the starter's own error; anything else unchanged. */
function notFound(workflowId: string, error: unknown): unknown {
  return error instanceof WorkflowNotFoundError ? new OperationNotFoundError(workflowId) : error;
}

export function temporalStarter(client: Client, taskQueue: string): OperationStarter {
  return {
    async start(workflowType: string, args: unknown[], workflowId: string): Promise<StartedOperation> {
      try {
        const handle = await client.workflow.start(workflowType, { taskQueue, workflowId, args });
        return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw new OperationAlreadyRunningError(workflowId);
        throw error;
      }
    },
    async execute(workflowType: string, args: unknown[], workflowId: string, options?: { timeoutMs?: number }): Promise<unknown> {
      try {
        return await client.workflow.execute(workflowType, {
          taskQueue, workflowId, args, ...(options?.timeoutMs ? { workflowExecutionTimeout: options.timeoutMs } : {}),
        });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw new OperationAlreadyRunningError(workflowId);
        if (error instanceof WorkflowFailedError) {
          let cause: unknown = error;
          while (cause instanceof Error && cause.cause) cause = cause.cause;
          const message = cause instanceof Error ? cause.message : error.message;
          throw new WorkflowRunError(workflowId, message, cause instanceof ApplicationFailure ? cause.type ?? undefined : undefined);
        }
        throw error;
      }
    },
    async describe(workflowId: string): Promise<OperationDescription | undefined> {
      try {
        const handle = client.workflow.getHandle(workflowId);
        const d = await handle.describe();
        let failure: OperationDescription['failure'];
        if (d.status.name === 'FAILED' || d.status.name === 'TIMED_OUT') {
          // A closed workflow's result is one read of its close event.
          const error: unknown = await handle.result().then(() => undefined, (e: unknown) => e);
          let cause = error;
          while (cause instanceof Error && cause.cause) cause = cause.cause;
          if (cause instanceof Error) failure = { message: cause.message, type: cause instanceof ApplicationFailure ? cause.type ?? undefined : undefined };
        }
        const pending = await Promise.all((d.raw.pendingActivities ?? []).map(async (a) => {
          const details = await decodeArrayFromPayloads(client.options.loadedDataConverter, a.heartbeatDetails?.payloads).catch(() => []);
          return {
            activity: a.activityType?.name ?? 'unknown',
            attempt: a.attempt ?? 1,
            ...(details.length > 0 ? { progress: details[0] } : {}),
            ...(a.lastFailure?.message ? { lastFailure: a.lastFailure.message } : {}),
          };
        }));
        return {
          workflowId: d.workflowId,
          runId: d.runId,
          type: d.type,
          status: d.status.name,
          startTime: d.startTime.toISOString(),
          closeTime: d.closeTime?.toISOString(),
          historyLength: d.historyLength,
          failure,
          ...(pending.length > 0 ? { pending } : {}),
        };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }
    },
    async query(workflowId, query, ...args) {
      try {
        return await client.workflow.getHandle(workflowId).query(query, ...args);
      } catch (error) {
        throw notFound(workflowId, error);
      }
    },
    async update<R, A extends unknown[]>(workflowId: string, update: UpdateDefinition<R, A>, ...args: A): Promise<R> {
      try {
        // The definition's name and types; the SDK's overloads cannot see a generic tuple.
        return await client.workflow.getHandle(workflowId).executeUpdate<R, [unknown, ...unknown[]]>(update.name, { args: args as unknown as [unknown, ...unknown[]] });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) {
          const cause = error.cause;
          throw new UpdateRejectedError(workflowId, cause?.message ?? error.message, cause instanceof ApplicationFailure ? cause.type ?? undefined : undefined);
        }
        throw notFound(workflowId, error);
      }
    },
    async cancel(workflowId) {
      try {
        await client.workflow.getHandle(workflowId).cancel();
      } catch (error) {
        throw notFound(workflowId, error);
      }
    },
    async signal(workflowId, signal, ...args) {
      try {
        await client.workflow.getHandle(workflowId).signal(signal, ...args);
      } catch (error) {
        throw notFound(workflowId, error);
      }
    },
  };
}
