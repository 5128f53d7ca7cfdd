// The observer as its own OS process (worker/observer.ts), as the dev command runs it, so a
// test can kill it the way a crash would and start another.
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../local/toolchain.js';
import { OutputTail } from '../../local/process.js';
import { captureOutput } from './leak-registry.js';

export interface ObserverProcess {
  child: ChildProcess;
  output: OutputTail;
  /** Resolves once the observer has synced the fleet once. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startObserverProcess(env: Record<string, string>): ObserverProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/observer.ts'], {
    cwd: projectRoot,
    env: { ...process.env, FLOTILLA_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new OutputTail(80);
  captureOutput('observer', child);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output.push(d);
      if (/observer \S+ running/.test(d.toString())) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d));
    child.once('exit', (code, signal) => reject(new Error(`observer exited (${code ?? signal}) before it was ready:\n${output}`)));
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
