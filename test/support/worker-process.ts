// The worker as a separate OS process (worker/main.ts), so a test can kill it with SIGKILL
// the way a crash would, and start another.
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../local/toolchain.js';
import { OutputTail } from '../../local/process.js';
import { captureOutput } from './leak-registry.js';

export interface WorkerProcess {
  child: ChildProcess;
  output: OutputTail;
  /** Resolves once the worker polls its task queue. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  // `node --import tsx` runs one process (the tsx CLI would add a parent that SIGKILL misses).
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new OutputTail(80);
  // All of it, for the leak scan (the tail is for error messages).
  captureOutput('worker', child);
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output.push(d);
      if (/worker on /.test(d.toString())) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => output.push(d));
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
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
