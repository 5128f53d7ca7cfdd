// Finds the real binaries that scripts/toolchain.sh provisions into the cache, running the
// script first when the cache lacks them (it is a no-op when everything is there).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const Toolchain = z.object({
  cache: z.string(),
  temporal: z.string(),
  kubeApiserver: z.string(),
  kubeControllerManager: z.string(),
  kubeScheduler: z.string(),
  kubectl: z.string(),
  etcd: z.string(),
  kwok: z.string(),
  kwokctl: z.string(),
  motoServer: z.string(),
  /** Temporal's time-skipping test server (scripts/temporal-test-server.sh); absent in older manifests. */
  temporalTestServer: z.string().optional(),
  versions: z.record(z.string(), z.string()),
});
export type Toolchain = z.infer<typeof Toolchain>;

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function cacheDir(): string {
  return process.env.FLOTILLA_CACHE ?? join(homedir(), '.cache', 'flotilla');
}

function readManifest(): Toolchain | undefined {
  const file = join(cacheDir(), 'toolchain.json');
  if (!existsSync(file)) return undefined;
  const parsed = Toolchain.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) return undefined;
  const t = parsed.data;
  const binaries = [t.temporal, t.kubeApiserver, t.kubeControllerManager, t.kubeScheduler, t.kubectl, t.etcd, t.kwok, t.kwokctl];
  return binaries.every((b) => existsSync(b)) ? t : undefined;
}

/** Returns the provisioned toolchain, provisioning it first when needed. Throws if that fails. */
export function ensureToolchain(): Toolchain {
  const ready = readManifest();
  if (ready) return ready;
  const script = join(projectRoot, 'scripts', 'toolchain.sh');
  const result = spawnSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`provisioning failed (${script} exited ${result.status}); see the [toolchain] lines above`);
  }
  const after = readManifest();
  if (!after) throw new Error(`provisioning finished but ${join(cacheDir(), 'toolchain.json')} lists missing binaries`);
  return after;
}
