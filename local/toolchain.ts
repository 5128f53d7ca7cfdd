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
  /**
   * Toxiproxy (github.com/Shopify/toxiproxy/v2) for network faults and WAN latency in front of
   * the local API servers. Optional in the schema so an older manifest still parses, but
   * readManifest treats a manifest without it as not ready and provisions again, and
   * ensureToolchain throws if it is still missing afterwards; use requireToxiproxy().
   */
  toxiproxyServer: z.string().optional(),
  toxiproxyCli: z.string().optional(),
  /** Helm (helm.sh/helm/v4) and CNCF distribution's OCI registry: charts (issue 14). Optional as toxiproxy's. */
  helm: z.string().optional(),
  registry: z.string().optional(),
  /** The Temporal server (go.temporal.io/server) and its SQL schema tool: the at-scale mode (issue 15). Optional as toxiproxy's. */
  temporalServer: z.string().optional(),
  temporalSqlTool: z.string().optional(),
  versions: z.record(z.string(), z.string()),
});
export type Toolchain = z.infer<typeof Toolchain>;

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function cacheDir(): string {
  return process.env.FLOTILLA_CACHE ?? join(homedir(), '.cache', 'flotilla');
}

/** The manifest when every binary it must list exists, else a sentence saying what is missing. */
function readManifest(): Toolchain | string {
  const file = join(cacheDir(), 'toolchain.json');
  if (!existsSync(file)) return `${file} does not exist`;
  const parsed = Toolchain.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) return `${file} does not parse: ${parsed.error.message}`;
  const t = parsed.data;
  const binaries = {
    temporal: t.temporal,
    kubeApiserver: t.kubeApiserver,
    kubeControllerManager: t.kubeControllerManager,
    kubeScheduler: t.kubeScheduler,
    kubectl: t.kubectl,
    etcd: t.etcd,
    kwok: t.kwok,
    kwokctl: t.kwokctl,
    toxiproxyServer: t.toxiproxyServer,
    toxiproxyCli: t.toxiproxyCli,
    helm: t.helm,
    registry: t.registry,
    temporalServer: t.temporalServer,
    temporalSqlTool: t.temporalSqlTool,
  };
  const missing = Object.entries(binaries)
    .filter(([, path]) => path === undefined || !existsSync(path))
    .map(([name, path]) => `${name} (${path ?? 'not listed'})`);
  return missing.length === 0 ? t : `${file} lists missing binaries: ${missing.join(', ')}`;
}

/** Returns the provisioned toolchain, provisioning it first when needed. Throws if that fails. */
export function ensureToolchain(): Toolchain {
  const ready = readManifest();
  if (typeof ready !== 'string') return ready;
  const script = join(projectRoot, 'scripts', 'toolchain.sh');
  const result = spawnSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`provisioning failed (${script} exited ${result.status}); see the [toolchain] lines above`);
  }
  const after = readManifest();
  if (typeof after === 'string') throw new Error(`provisioning finished but ${after}`);
  return after;
}

/** Toxiproxy's binaries from a toolchain; throws when the manifest lacks them (an old cache). */
export function requireToxiproxy(toolchain: Toolchain): { server: string; cli: string } {
  const { toxiproxyServer: server, toxiproxyCli: cli } = toolchain;
  if (!server || !cli || !existsSync(server) || !existsSync(cli)) {
    throw new Error(`toxiproxy is not provisioned (server: ${server ?? 'not listed'}, cli: ${cli ?? 'not listed'}); run scripts/toolchain.sh`);
  }
  return { server, cli };
}

/** The Temporal server's binaries from a toolchain (ensureToolchain has checked they exist). */
export function requireTemporalServer(toolchain: Toolchain): { server: string; sqlTool: string } {
  const { temporalServer: server, temporalSqlTool: sqlTool } = toolchain;
  if (!server || !sqlTool) throw new Error('the Temporal server is not provisioned; run scripts/toolchain.sh');
  return { server, sqlTool };
}
