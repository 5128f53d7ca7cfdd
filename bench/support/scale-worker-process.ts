// Starts bench/support/scale-worker.ts as a child process (one per measured promotion, so each
// size's peak memory is its own), asks it for its rate-limiter counts, and stops it gracefully.
import { spawn, type ChildProcess } from 'node:child_process';
import { OutputTail, stopProcess } from '../../local/process.js';
import { projectRoot } from '../../local/toolchain.js';
import type { ScaleWorkerStats } from './scale-worker.js';

export interface ScaleWorker {
  pid: number;
  stats(): Promise<ScaleWorkerStats>;
  stop(): Promise<void>;
}

export async function startScaleWorker(env: Record<string, string>): Promise<ScaleWorker> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/support/scale-worker.ts'], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output = new OutputTail(80);
  let exited = false;
  child.once('exit', () => { exited = true; });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output.push(d);
      if (d.toString().includes('scale worker running')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d));
    child.once('exit', (code, signal) => reject(new Error(`scale worker exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`[bench] scale worker exited (${code ?? signal}):\n${output}`);
  });
  return {
    pid: child.pid!,
    stats: () => new Promise<ScaleWorkerStats>((resolve, reject) => {
      if (exited) return reject(new Error(`scale worker has exited:\n${output}`));
      const onMessage = (m: ScaleWorkerStats) => {
        if (m.type !== 'stats') return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send({ type: 'stats' });
    }),
    stop: () => stopProcess(child, 30_000),
  };
}
