// One place that stops what a process started, in reverse order, on Ctrl-C or SIGTERM.
type Cleanup = () => Promise<void> | void;

const cleanups: { name: string; run: Cleanup }[] = [];
let installed = false;
let shuttingDown = false;

export function onShutdown(name: string, run: Cleanup): () => void {
  install();
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Runs every registered cleanup, newest first; errors are reported, not thrown. */
export async function shutdown(log: (msg: string) => void = (m) => console.error(m)): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  while (cleanups.length > 0) {
    const { name, run } = cleanups.pop()!;
    try {
      log(`stopping ${name} ...`);
      await run();
    } catch (error) {
      log(`could not stop ${name}: ${String(error)}`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  let received = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: the Temporal SDK re-raises the signal after draining its workers, and
    // a default handler would then kill the process halfway through deleting the clusters.
    process.on(signal, () => {
      received += 1;
      if (received === 1) void shutdown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      else if (received >= 4) process.exit(1); // a user pressing Ctrl-C again and again
    });
  }
}
