// Starts the real parts once for the integration tier: the Temporal dev server (or
// TEMPORAL_ADDRESS) and a local fleet of two clusters. Fails loudly when a part cannot start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { LocalFleet } from '../../local/fleet.js';
import { temporalFromEnvOrStart } from '../../local/temporal-dev-server.js';
import { ensureToolchain, type Toolchain } from '../../local/toolchain.js';

declare module 'vitest' {
  export interface ProvidedContext {
    toolchain: Toolchain;
    temporalAddress: string;
    temporalNamespace: string;
    clusters: { name: string; kubeconfigPath: string; kubeconfig: string; labels: Record<string, string> }[];
  }
}

export default async function setup(project: TestProject) {
  const log = (m: string) => console.error(`[integration] ${m}`);
  const toolchain = ensureToolchain();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-it-'));
  const temporal = await temporalFromEnvOrStart({ executable: toolchain.temporal, dbFile: join(dir, 'temporal.db') });
  log(`temporal at ${temporal.address}${temporal.owned ? ' (dev server)' : ' (TEMPORAL_ADDRESS)'}`);
  const run = Math.random().toString(36).slice(2, 7);
  const fleet = await LocalFleet.create({
    toolchain,
    clusters: [
      { name: `it-${run}-a`, labels: { tier: 'prod', geo: 'us' } },
      { name: `it-${run}-b`, labels: { tier: 'prod', geo: 'eu' } },
    ],
    log,
  });
  project.provide('toolchain', toolchain);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalNamespace', temporal.namespace);
  project.provide('clusters', fleet.clusters.map(({ name, kubeconfigPath, kubeconfig, labels }) => ({ name, kubeconfigPath, kubeconfig, labels })));

  return async () => {
    await fleet.delete();
    await temporal.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
