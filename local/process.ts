import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Stops a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Keeps the last lines a process printed, for error messages. */
export class OutputTail {
  private lines: string[] = [];
  constructor(private readonly max = 40) {}
  push(chunk: Buffer | string): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim()) this.lines.push(line);
    }
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }
  toString(): string {
    return this.lines.join('\n');
  }
}

/** A server process whose output is kept (and passed on to `onOutput`), and whether it has exited. */
export function spawnServer(executable: string, args: string[], options: { env?: NodeJS.ProcessEnv; onOutput?: (chunk: Buffer) => void; lines?: number } = {}): { child: ChildProcess; output: OutputTail; exited(): boolean } {
  const spawnOptions: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) };
  const child = spawn(executable, args, spawnOptions);
  const output = new OutputTail(options.lines);
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (d: Buffer) => {
      output.push(d);
      options.onOutput?.(d);
    });
  }
  let exited = false;
  child.once('exit', () => { exited = true; });
  return { child, output, exited: () => exited };
}
