// How the API starts and inspects operations: a tiny interface over the Temporal client, so
// routes never hold a client and tests can record starts. Queries, updates and signals take
// the message definitions of workflows/messages.ts (pure `define*` objects: a name and types),
// never workflow code.
import type { QueryDefinition, SignalDefinition, UpdateDefinition } from '@temporalio/common';

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
  /** For a failed workflow: its innermost failure. */
  failure?: { message: string; type?: string };
  /** Activities running now, with their last heartbeat (the operation's progress). */
  pending?: { activity: string; attempt: number; progress?: unknown; lastFailure?: string }[];
}

export interface OperationStarter {
  /** Starts `workflowType` with `args` under the business-key id `workflowId`. */
  start(workflowType: string, args: unknown[], workflowId: string): Promise<StartedOperation>;
  /**
   * Starts a short workflow and waits for its result (discovery: the work that needs the
   * worker's credentials), at most `timeoutMs` (then it fails). Its failure is thrown as WorkflowRunError.
   */
  execute?(workflowType: string, args: unknown[], workflowId: string, options?: { timeoutMs?: number }): Promise<unknown>;
  /** The run's state, or undefined when Temporal does not know the id. */
  describe?(workflowId: string): Promise<OperationDescription | undefined>;
  /** Runs a query; OperationNotFoundError when Temporal does not know the id. */
  query?<R, A extends unknown[]>(workflowId: string, query: QueryDefinition<R, A>, ...args: A): Promise<R>;
  /**
   * Executes an Update and waits for its result; UpdateRejectedError when the workflow's
   * validator (or handler) refuses it, OperationNotFoundError when the run is unknown or closed.
   */
  update?<R, A extends unknown[]>(workflowId: string, update: UpdateDefinition<R, A>, ...args: A): Promise<R>;
  /** Asks Temporal to cancel the run (a native cancel); OperationNotFoundError when it is unknown or closed. */
  cancel?(workflowId: string): Promise<void>;
  /** Sends a signal; OperationNotFoundError when the run is unknown or closed. */
  signal?<A extends unknown[]>(workflowId: string, signal: SignalDefinition<A>, ...args: A): Promise<void>;
}

/**
 * The operation a request starts, kept with its Idempotency-Key claim: a retry of a request
 * whose API process died mid-way finishes that operation instead of starting a second one.
 */
export interface OperationReservation {
  /** The operation an earlier attempt of this request reserved, if it got that far. */
  readonly earlier?: string;
  /** Notes the operation before it is started. */
  reserve(operationId: string): Promise<void>;
}

/** Thrown by starters when a run with that id is still open (→ 409). */
export class OperationAlreadyRunningError extends Error {
  override readonly name = 'OperationAlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(`operation "${workflowId}" is already running`);
  }
}

/** Thrown by starters when Temporal has no open run (for signals and updates) or no run at all (queries) with that id. */
export class OperationNotFoundError extends Error {
  override readonly name = 'OperationNotFoundError';
  constructor(readonly workflowId: string) {
    super(`operation "${workflowId}" is not running`);
  }
}

/** Thrown by starters when a workflow refuses an Update: its validator's (or handler's) message and failure type. */
export class UpdateRejectedError extends Error {
  override readonly name = 'UpdateRejectedError';
  constructor(readonly workflowId: string, message: string, readonly type?: string) {
    super(message);
  }
}

/** Thrown by `execute` when the workflow failed: its innermost failure's message and type. */
export class WorkflowRunError extends Error {
  override readonly name = 'WorkflowRunError';
  constructor(readonly workflowId: string, message: string, readonly type?: string) {
    super(message);
  }
}
