// The dev command: the whole system on its embedded default. Provisions the toolchain, starts
// the Temporal dev server (SQLite file, web UI), a local fleet of three clusters, the worker
// and the API with the dashboard; stops everything on Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { createApp } from '../api/app.js';
import { ensureBootstrapToken } from '../api/bootstrap.js';
import { createLogger } from '../api/http/logger.js';
import { temporalStarter } from '../api/temporal.js';
import { temporalSchedules } from '../api/temporal-schedules.js';
import { LocalMasterKey } from '../store/crypto/local-master-key.js';
import { flotillaDataConverter } from '../temporal/data-converter.js';
import { keyRingFromEnv, PAYLOAD_KEYS_ENV, PayloadKeyRing, writeKeyRingFile } from '../temporal/key-ring.js';
import { openCatalog } from '../store/catalog.js';
import { DEFAULT_TASK_QUEUE } from '../worker/config.js';
import { activityDeps } from '../worker/deps.js';
import { startOciRegistry } from './oci-registry.js';
import { temporalLogger } from '../worker/logging.js';
import { runFlotillaWorker } from '../worker/worker.js';
import { onboardCluster } from '../workflows/onboard-cluster.js';
import { DEV_FLEET } from './dev-fleet.js';
import { LocalFleet } from './fleet.js';
import { registerKubeconfigClusters } from './register.js';
import { stopProcess } from './process.js';
import { onShutdown, shutdown } from './shutdown.js';
import { startTemporalDevServer } from './temporal-dev-server.js';
import { ensureToolchain, projectRoot } from './toolchain.js';

const log = (message: string) => console.log(`[dev] ${message}`);
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const started = Date.now();
  // Logs for the person at the terminal (pretty, info and up; FLOTILLA_LOG_FORMAT and
  // FLOTILLA_LOG_LEVEL change that): request lines and the SDK's chatter are debug, so what
  // shows is warnings and operations' outcomes, and the banner below stays readable.
  const apiLogger = createLogger({ name: 'flotilla-api' });
  Runtime.install({ logger: temporalLogger(createLogger({ name: 'flotilla-worker' })) });
  const stateDir = process.env.FLOTILLA_STATE_DIR ?? join(projectRoot, '.flotilla', 'dev');
  mkdirSync(stateDir, { recursive: true });
  const toolchain = ensureToolchain();

  const temporal = await startTemporalDevServer({
    executable: toolchain.temporal,
    dbFile: join(stateDir, 'temporal.db'),
    port: port('FLOTILLA_TEMPORAL_PORT', 7233),
    uiPort: port('FLOTILLA_TEMPORAL_UI_PORT', 8233),
  });
  onShutdown('temporal dev server', () => temporal.stop());
  log(`temporal dev server at ${temporal.address}`);

  const fleet = await LocalFleet.create({
    toolchain,
    clusters: DEV_FLEET.map(({ name, labels }) => ({ name, labels })),
    log,
  });
  // The catalog: a SQLite file beside the Temporal one; its master key is generated once.
  const keyFile = join(stateDir, 'master.key');
  if (!process.env.FLOTILLA_MASTER_KEY && !existsSync(keyFile)) writeFileSync(keyFile, LocalMasterKey.generate(), { mode: 0o600 });
  const catalogUrl = process.env.FLOTILLA_CATALOG_URL ?? `sqlite://${join(stateDir, 'catalog.db')}`;
  const masterKey = process.env.FLOTILLA_MASTER_KEY ?? readFileSync(keyFile, 'utf8').trim();
  const catalog = await openCatalog({ url: catalogUrl, masterKey });
  onShutdown('catalog', () => catalog.close());
  // Every Temporal payload is encrypted; the dev key ring is made once, like the master key.
  const payloadKeysFile = join(stateDir, 'payload-keys.json');
  if (!process.env[PAYLOAD_KEYS_ENV] && !existsSync(payloadKeysFile)) writeKeyRingFile(payloadKeysFile, PayloadKeyRing.generate());
  const dataConverter = flotillaDataConverter(keyRingFromEnv({ [PAYLOAD_KEYS_ENV]: process.env[PAYLOAD_KEYS_ENV] ?? payloadKeysFile }));
  await registerKubeconfigClusters(catalog, fleet.clusters.map((c) => ({ ...c, allowedTiers: DEV_FLEET.find((d) => d.name === c.name)?.allowedTiers ?? [] })));

  // A real OCI registry for charts (helm push … oci://HOST/charts --plain-http); what is pushed stays between runs.
  const registry = await startOciRegistry({ executable: toolchain.registry!, dir: join(stateDir, 'registry'), port: port('FLOTILLA_REGISTRY_PORT', 5000) });
  log(`OCI registry at ${registry.host}`);

  const worker = await runFlotillaWorker({
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue: DEFAULT_TASK_QUEUE,
    deps: activityDeps({ catalog, helm: { binary: toolchain.helm!, plainHttpHosts: [registry.host] } }),
    dataConverter,
  });
  onShutdown('worker', () => worker.stop());

  // The observer: its own process, as in production (worker/observer.ts), over the same catalog.
  const observer = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'worker', 'observer.ts')], {
    cwd: projectRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      FLOTILLA_CATALOG_URL: catalogUrl,
      FLOTILLA_MASTER_KEY: masterKey,
      [PAYLOAD_KEYS_ENV]: process.env[PAYLOAD_KEYS_ENV] ?? payloadKeysFile,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      FLOTILLA_TASK_QUEUE: DEFAULT_TASK_QUEUE,
      FLOTILLA_OBSERVER_ID: process.env.FLOTILLA_OBSERVER_ID ?? 'observer-dev',
    },
  });
  observer.once('exit', (code, signal) => log(`observer exited (${code ?? signal}); live status and drift stop updating until the dev command restarts`));
  onShutdown('observer', () => stopProcess(observer));

  // Onboard every local cluster, as registering one through the API would.
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: temporal.namespace, dataConverter });
  for (const cluster of fleet.clusters) {
    await client.workflow.start(onboardCluster, { taskQueue: DEFAULT_TASK_QUEUE, workflowId: `onboard-${cluster.name}`, args: [{ cluster: cluster.name }] });
  }
  onShutdown('temporal client', () => client.connection.close());

  // The Temporal UI may call /v1/codec from the browser (by either name of its host).
  const uiOrigins = temporal.uiUrl ? [new URL(temporal.uiUrl).origin, new URL(temporal.uiUrl).origin.replace('127.0.0.1', 'localhost')] : [];
  const app = createApp({
    catalog, operations: temporalStarter(client, DEFAULT_TASK_QUEUE), schedules: temporalSchedules(client, DEFAULT_TASK_QUEUE),
    codec: { codec: dataConverter.payloadCodecs[0], namespace: temporal.namespace, corsOrigins: uiOrigins },
    logger: apiLogger,
  });
  const firstToken = await ensureBootstrapToken(catalog);
  const apiPort = port('FLOTILLA_API_PORT', 8080);
  const server = app.listen(apiPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  onShutdown('api', () => new Promise<void>((resolve) => server.close(() => resolve())));

  // One write, set off by rules, so no log line lands inside it.
  const rule = '─'.repeat(78);
  const bold = (text: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${text}\x1b[0m` : text);
  console.log(`
${rule}
${bold(`Flotilla is running (${((Date.now() - started) / 1000).toFixed(0)}s to start). Ctrl-C stops everything.`)}

  API          http://127.0.0.1:${apiPort}/v1/clusters
  Dashboard    http://127.0.0.1:${apiPort}/
  Temporal UI  ${temporal.uiUrl}
  Temporal     ${temporal.address}  (task queue "${DEFAULT_TASK_QUEUE}"; payloads encrypted with ${process.env[PAYLOAD_KEYS_ENV] ? PAYLOAD_KEYS_ENV : payloadKeysFile})
  Decrypted    temporal workflow show -w ID --address ${temporal.address} --codec-endpoint http://127.0.0.1:${apiPort}/v1/codec --codec-auth 'Bearer <admin token>'
  Charts       helm push CHART.tgz oci://${registry.host}/charts --plain-http  (then charts: [{ oci: oci://${registry.host}/charts/NAME, version }])
  Clusters     ${fleet.clusters.map((c) => `${c.name} ${c.server}`).join('\n               ')}
  Observer     live status, drift and reachability of every onboarded cluster (pid ${observer.pid}): flotilla get fleet, flotilla watch
  Admin token  ${firstToken ?? '(created on an earlier run; make more with POST /v1/tokens)'}
  CLI          npx tsx cli/bin.ts login --server http://127.0.0.1:${apiPort} --token <admin token>
  kubectl      kubectl --kubeconfig ${fleet.cluster('local-dev').kubeconfigPath} get nodes
  Logs         warnings and outcomes; FLOTILLA_LOG_LEVEL=debug adds every request, FLOTILLA_LOG_FORMAT=json for JSON
${rule}
`);
  await worker.running.catch(async (error: unknown) => {
    log(`worker stopped: ${String(error)}`);
    await shutdown();
    process.exit(1);
  });
}

main().catch(async (error: unknown) => {
  console.error(`[dev] failed: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown();
  process.exit(1);
});
