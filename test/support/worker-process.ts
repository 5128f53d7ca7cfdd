// Flotilla's processes (worker/main.ts, worker/observer.ts) as separate OS processes, so a test
// can kill one with SIGKILL the way a crash would, and start another.
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../local/toolchain.js';
import { OutputTail } from '../../local/process.js';
import { captureOutput } from './leak-registry.js';

export interface WorkerProcess {
  child: ChildProcess;
  output: OutputTail;
  /** Resolves once the process says it is ready. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `script` under tsx; `ready` once a line of its stdout matches `readyLine`. */
export function startNodeProcess(name: string, script: string, readyLine: RegExp, env: Record<string, string>): WorkerProcess {
  // `node --import tsx` runs one process (the tsx CLI would add a parent that SIGKILL misses).
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new OutputTail(80);
  // All of it, for the leak scan (the tail is for error messages).
  captureOutput(name, child);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output.push(d);
      if (readyLine.test(d.toString())) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d));
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  ready.catch(() => {});
  return {
    child,
    output,
    ready,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  return startNodeProcess('worker', 'worker/main.ts', /worker on /, env);
}

/** The observer, as the dev command runs it; ready once it has synced the fleet once. */
export function startObserverProcess(env: Record<string, string>): WorkerProcess {
  return startNodeProcess('observer', 'worker/observer.ts', /observer \S+ running/, { FLOTILLA_LOG_FORMAT: 'json', ...env });
}
