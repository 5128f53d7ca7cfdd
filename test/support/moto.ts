// moto's standalone server: a real implementation of the EKS API (and STS) on 127.0.0.1, for
// tests that drive @aws-sdk/client-eks end to end.
import { spawn } from 'node:child_process';
import { freePort } from '../../local/ports.js';
import { OutputTail, stopProcess } from '../../local/process.js';
import { captureOutput, registerSecret } from './leak-registry.js';

export interface MotoServer {
  /** Base URL for the SDK's `endpoint` option. */
  endpoint: string;
  /** Dummy credentials: moto accepts any, and never checks signatures by default. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Clears every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(executable: string, timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout.on('data', (d: Buffer) => output.push(d));
  child.stderr.on('data', (d: Buffer) => output.push(d));
  captureOutput('moto', child);
  let exited = false;
  child.once('exit', () => { exited = true; });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`moto_server exited during start-up:\n${output}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`moto_server not ready on ${endpoint} after ${timeoutMs / 1000}s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const credentials = { accessKeyId: 'AKIAMOTOTESTING00000', secretAccessKey: 'moto-test-secret' };
  registerSecret('moto AWS secret access key', credentials.secretAccessKey);
  return {
    endpoint,
    credentials,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    stop: () => stopProcess(child, 5_000),
  };
}
