// Small helpers for tests that wait on real servers.

/** Polls until `probe` is true (every 250 ms), or fails naming `what`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Waits until an interval schedule of `everySeconds` made before this call has had a due time, and
 * `marginMs` more in which Temporal would have started its run: Temporal's interval specs (no
 * phase, as api/temporal-schedules.ts makes them) fall due at the epoch's multiples of the
 * interval, so the first one is the next multiple after now. At most everySeconds + marginMs.
 */
export async function pastNextDueTime(everySeconds: number, marginMs: number): Promise<void> {
  const every = everySeconds * 1000;
  const due = (Math.floor(Date.now() / every) + 1) * every;
  await new Promise((r) => setTimeout(r, due + marginMs - Date.now()));
}

/** The innermost cause of a Temporal failure chain (e.g. the ApplicationFailure an activity threw). */
export function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof Error && e.cause) e = e.cause;
  return e;
}
