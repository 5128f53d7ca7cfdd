// The OperationStarter over a real Temporal client: workflows are started by type name, so
// the API does not import (or bundle) workflow code.
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { OperationAlreadyRunningError, type OperationDescription, type OperationStarter, type StartedOperation } from './starter.js';

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
    async describe(workflowId: string): Promise<OperationDescription | undefined> {
      try {
        const d = await client.workflow.getHandle(workflowId).describe();
        return {
          workflowId: d.workflowId,
          runId: d.runId,
          type: d.type,
          status: d.status.name,
          startTime: d.startTime.toISOString(),
          closeTime: d.closeTime?.toISOString(),
          historyLength: d.historyLength,
        };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }
    },
  };
}
