// What a failure says to a person: the innermost cause's message (an activity's own words,
// not "Activity task failed" or "Child Workflow execution failed").
import { ApplicationFailure } from '@temporalio/workflow';

export function messageOf(error: unknown): string {
  let e: unknown = error;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The type of the ApplicationFailure nearest the root of an error ("DataPolicyRefused"), if any. */
export function failureTypeOf(error: unknown): string | undefined {
  let e: unknown = error;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
    e = e.cause;
  }
  return undefined;
}
