// kubectl, the real and independent client that checks what Flotilla did to a cluster.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function kubectl(binary: string, kubeconfigPath: string, args: string[]): Promise<string> {
  const { stdout } = await exec(binary, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function kubectlJson<T = { items: unknown[] }>(binary: string, kubeconfigPath: string, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(binary, kubeconfigPath, [...args, '-o', 'json'])) as T;
}
