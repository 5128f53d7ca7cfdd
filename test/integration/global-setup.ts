// Starts the real parts once for the integration tier (test/browser too): the dashboard's build
// (scripts/web-build.sh, a no-op when web/ did not change), Chromium (scripts/chromium.sh:
// Debian's package), the Temporal dev server (or TEMPORAL_ADDRESS) and a local fleet of two
// clusters. Fails loudly when a part cannot start.
// Every Temporal payload is encrypted, as in production: a payload key ring for the run (or
// FLOTILLA_PAYLOAD_KEYS when set) is exported to the test files and the worker processes they start.
// The workflow code is bundled once for the tier (as worker/worker.ts's bundleWorkflows does, about
// two seconds of webpack) and the in-process workers of every test file load that file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import type { Tier } from '../../domain/environment.js';
import { LocalFleet } from '../../local/fleet.js';
import { temporalFromEnvOrStart } from '../../local/temporal-dev-server.js';
import { ensureToolchain, projectRoot, type Toolchain } from '../../local/toolchain.js';
import { keyRingFromEnv, PAYLOAD_KEYS_ENV, PayloadKeyRing, writeKeyRingFile } from '../../temporal/key-ring.js';
import { startTierLeakScan } from '../leak-scan/tier.js';

declare module 'vitest' {
  export interface ProvidedContext {
    toolchain: Toolchain;
    temporalAddress: string;
    temporalNamespace: string;
    /** Registered as given (testCatalog, POST /v1/clusters): labels, and the tiers allowed beyond the `tier` label. */
    clusters: { name: string; kubeconfigPath: string; kubeconfig: string; labels: Record<string, string>; allowedTiers: Tier[] }[];
    /** FLOTILLA_PAYLOAD_KEYS of the run (also in every test file's environment). */
    payloadKeys: string;
    /** The Chromium binary playwright-core drives (test/browser). */
    chromium: string;
    /** workflows/index.ts bundled once for the tier (tierWorkflowBundle() in test/support/tier-temporal.ts). */
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const log = (m: string) => console.error(`[integration] ${m}`);
  const toolchain = ensureToolchain();
  const script = (name: string) => execFileSync('bash', [join(projectRoot, 'scripts', name)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
  script('web-build.sh');
  const chromium = script('chromium.sh');
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-it-'));
  // Built while the Temporal server and the fleet start.
  // (Not through worker/worker.ts: importing it would load every activity and cloud client here.)
  const bundled = bundleWorkflowCode({ workflowsPath: join(projectRoot, 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') });
  bundled.catch(() => {});
  const ownKeys = !process.env[PAYLOAD_KEYS_ENV];
  if (ownKeys) {
    const file = join(dir, 'payload-keys.json');
    writeKeyRingFile(file, PayloadKeyRing.generate());
    // Test files (forked after this) and the workers they spawn inherit it.
    process.env[PAYLOAD_KEYS_ENV] = file;
  }
  // The leak scan (test/leak-scan/): every secret the tests set, searched for in what the tier leaves.
  const leak = startTierLeakScan();
  leak.keyRing(keyRingFromEnv());
  const temporal = await temporalFromEnvOrStart({ executable: toolchain.temporal, dbFile: join(dir, 'temporal.db'), onOutput: leak.output('temporal-server') });
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
  leak.fleet(fleet.clusters);
  project.provide('toolchain', toolchain);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalNamespace', temporal.namespace);
  project.provide('payloadKeys', process.env[PAYLOAD_KEYS_ENV]!);
  project.provide('chromium', chromium);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, (await bundled).code);
  project.provide('workflowBundlePath', workflowBundlePath);
  // Both clusters are prod clusters that an admin also opened to the pre-production tiers the
  // tests put beside prod (domain/placement.ts): a tier-dev environment lands on them only so.
  const allowedTiers: Tier[] = ['dev', 'staging'];
  project.provide('clusters', fleet.clusters.map(({ name, kubeconfigPath, kubeconfig, labels }) => ({ name, kubeconfigPath, kubeconfig, labels, allowedTiers })));

  return async () => {
    await leak.histories({ temporal: toolchain.temporal, address: temporal.address, namespace: temporal.namespace });
    await fleet.delete();
    await temporal.stop();
    if (temporal.owned) leak.temporalDb(join(dir, 'temporal.db'));
    rmSync(dir, { recursive: true, force: true });
    if (ownKeys) delete process.env[PAYLOAD_KEYS_ENV];
    await leak.finish(log);
  };
}
