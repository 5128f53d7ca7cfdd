// How every benchmark that starts servers ends: whatever it started (local/shutdown.ts) is
// stopped, after a failure too, which also sets the exit code.
import { shutdown } from '../../local/shutdown.js';

export function runBench(main: () => Promise<void>, log: (message: string) => void): void {
  main()
    .then(async () => {
      log('tearing down ...');
      await shutdown((m) => log(m));
      log('done');
    })
    .catch(async (error: unknown) => {
      console.error(`[bench] failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      await shutdown((m) => log(m));
      process.exit(1);
    });
}
