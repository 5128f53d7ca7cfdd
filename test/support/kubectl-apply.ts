// `kubectl apply --server-side` of one object under a chosen field manager: how tests make
// another actor own fields, as an HPA or a person with kubectl would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl } from './kubectl.js';

export async function kubectlServerSideApply(
  binary: string,
  kubeconfigPath: string,
  object: object,
  fieldManager: string,
  extraArgs: string[] = [],
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-apply-'));
  try {
    const file = join(dir, 'object.json');
    writeFileSync(file, JSON.stringify(object));
    return await kubectl(binary, kubeconfigPath, ['apply', '--server-side', `--field-manager=${fieldManager}`, ...extraArgs, '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
