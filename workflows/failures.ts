// What a failure says to a person: the innermost cause's message (an activity's own words,
// not "Activity task failed" or "Child Workflow execution failed").
export function messageOf(error: unknown): string {
  let e: unknown = error;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
