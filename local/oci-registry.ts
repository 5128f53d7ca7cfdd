// A real OCI registry on localhost (CNCF distribution's `registry`, built by scripts/toolchain.sh):
// where the local fleet and the tests push charts with `helm push`. Plain HTTP on loopback only,
// storage in a folder of its own, deletes allowed (a test may move a tag to other content).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { OutputTail, stopProcess } from './process.js';
import { onShutdown } from './shutdown.js';

export interface OciRegistry {
  /** host:port, as chart references name it: oci://HOST:PORT/charts/NAME. */
  host: string;
  stop(): Promise<void>;
}

/** `port`: a fixed one (the dev command's); a free one by default. */
export async function startOciRegistry(options: { executable: string; dir: string; port?: number; stopOnSignal?: boolean }): Promise<OciRegistry> {
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  mkdirSync(join(options.dir, 'data'), { recursive: true });
  const config = join(options.dir, 'config.yml');
  writeFileSync(config, [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(options.dir, 'data'))} }, delete: { enabled: true } }`,
    `http: { addr: ${JSON.stringify(host)} }`,
    '',
  ].join('\n'));
  const child = spawn(options.executable, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout.on('data', (d: Buffer) => output.push(d));
  child.stderr.on('data', (d: Buffer) => output.push(d));
  let exited = false;
  child.once('exit', () => { exited = true; });
  let unregister = (): void => {};
  const stop = async (): Promise<void> => {
    unregister();
    await stopProcess(child, 5_000);
  };
  if (options.stopOnSignal ?? true) unregister = onShutdown('oci-registry', stop);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`the OCI registry exited during start-up:\n${output}`);
    const answered = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (answered) return { host, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the OCI registry did not answer on ${host} within 30s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
