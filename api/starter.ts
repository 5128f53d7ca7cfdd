// How the API starts and inspects operations: a tiny interface over the Temporal client, so
// routes never hold a client and tests can record starts.

export interface StartedOperation {
  workflowId: string;
  runId: string;
}

/** What Temporal says about a run. */
export interface OperationDescription {
  workflowId: string;
  runId: string;
  type: string;
  /** Temporal's status name: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  startTime?: string;
  closeTime?: string;
  historyLength?: number;
}

export interface OperationStarter {
  /** Starts `workflowType` with `args` under the business-key id `workflowId`. */
  start(workflowType: string, args: unknown[], workflowId: string): Promise<StartedOperation>;
  /** The run's state, or undefined when Temporal does not know the id. */
  describe?(workflowId: string): Promise<OperationDescription | undefined>;
}

/** Thrown by starters when a run with that id is still open (→ 409). */
export class OperationAlreadyRunningError extends Error {
  override readonly name = 'OperationAlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(`operation "${workflowId}" is already running`);
  }
}
