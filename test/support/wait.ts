// Small helpers for tests that wait on real servers.

/** Polls until `probe` is true (every 250 ms), or fails naming `what`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The innermost cause of a Temporal failure chain (e.g. the ApplicationFailure an activity threw). */
export function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof Error && e.cause) e = e.cause;
  return e;
}
