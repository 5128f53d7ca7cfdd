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
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void shutdown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
