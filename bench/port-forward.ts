// How fast a container database's data moves through Flotilla's port-forward (through the
// API server, as the agent: providers/kubernetes/port-forward.ts), beside a direct connection
// to the same PostgreSQL and `kubectl port-forward` to the same pod, in the same run:
//   download: `COPY table TO STDOUT` (psql, to a counting sink), the table ~--mb MB of COPY text;
//   upload:   `COPY sink FROM STDIN` (psql) of the same bytes.
// psql is the client for every route, so only the route differs. The forward runs in this
// process: its peak RSS (sampled every 50 ms) shows whether memory stays flat.
//
//   npx tsx bench/port-forward.ts [--mb 50] [--iterations 3]      (about 2 minutes on 2 cores)
import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { clusterClients } from '../activities/cluster-client.js';
import { AGENT_NAMESPACED_ROLE, AGENT_ROLE_BINDING, AGENT_SERVICE_ACCOUNT } from '../domain/baseline.js';
import { LocalFleet } from '../local/fleet.js';
import { onShutdown } from '../local/shutdown.js';
import { runBench } from './support/run-bench.js';
import { tempCatalog } from '../local/temp-catalog.js';
import { cacheDir, ensureToolchain } from '../local/toolchain.js';
import { openPortForward } from '../providers/kubernetes/port-forward.js';
import { startTestPostgres } from '../test/support/postgres.js';
import { activityDeps } from '../worker/deps.js';

const exec = promisify(execFile);
const { values: options } = parseArgs({ options: { mb: { type: 'string', default: '50' }, iterations: { type: 'string', default: '3' } } });
const MB = Number(options.mb);
const iterations = Number(options.iterations);
if (!(MB > 0) || !Number.isInteger(iterations) || iterations < 1) throw new Error('--mb must be positive and --iterations a positive integer');

const NS = 'bench-pf';
const started = performance.now();
const log = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** psql of Debian's package (scripts/postgres.sh installs it with the server). */
async function psqlBinary(): Promise<string> {
  const { stdout } = await exec('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin/psql | sort -V | tail -1']);
  return stdout.trim();
}

/** Runs psql with `command`; stdin from `input` if given; counts stdout bytes. Returns ms and bytes. */
async function psql(binary: string, url: string, command: string, input?: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const child = spawn(binary, [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let bytes = 0;
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { bytes += d.length; });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  if (input) await pipeline(createReadStream(input, { highWaterMark: 1 << 20 }), child.stdin);
  else child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`psql exited ${code}: ${stderr.trim().split('\n')[0]}`);
  return { ms: performance.now() - t0, bytes };
}

async function main(): Promise<void> {
  const toolchain = ensureToolchain();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-pf-'));
  onShutdown('temporary files', () => rmSync(dir, { recursive: true, force: true }));
  const server = await startTestPostgres();
  onShutdown('postgres', () => server.stop());
  const serverUrl = new URL(server.url);
  const psqlPath = await psqlBinary();

  // ~MB of COPY text: rows of an id and 512 characters.
  const rows = Math.round((MB * 1024 * 1024) / 520);
  const admin = new pg.Client({ connectionString: server.url });
  admin.on('error', () => {}); // the server stops under it at teardown
  await admin.connect();
  await admin.query('DROP TABLE IF EXISTS blob, sink');
  await admin.query(`CREATE TABLE blob AS SELECT i AS id, repeat(md5(i::text), 16) AS payload FROM generate_series(1, ${rows}) i`);
  await admin.query('CREATE UNLOGGED TABLE sink (LIKE blob)');
  const file = join(dir, 'blob.copy');
  const dump = spawn(psqlPath, [server.url, '-q', '-c', 'COPY blob TO STDOUT']);
  await pipeline(dump.stdout, createWriteStream(file));
  const size = statSync(file).size;
  log(`table blob: ${rows} rows, ${(size / 1048576).toFixed(1)} MB of COPY text`);

  const fleet = await LocalFleet.create({ toolchain, workdir: join(cacheDir(), 'fleet-bench'), clusters: [{ name: 'bench-pf', nodes: 1, persistentVolumes: 0 }], log });
  onShutdown('fleet', () => fleet.delete());
  const cluster = fleet.cluster('bench-pf');
  const k = (args: string[]) => exec(toolchain.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args]);
  await k(['create', 'namespace', NS]);
  await k(['create', 'rolebinding', AGENT_ROLE_BINDING, '-n', NS, `--clusterrole=${AGENT_NAMESPACED_ROLE}`, `--serviceaccount=flotilla-system:${AGENT_SERVICE_ACCOUNT}`]);
  await fleet.forwardPod('bench-pf', { namespace: NS, pod: 'db-0', ports: [5432], target: { address: serverUrl.hostname, port: Number(serverUrl.port) } });
  await k(['run', 'db-0', '-n', NS, '--image=postgres:16.4', '--port=5432']);
  await k(['wait', '--for=condition=Ready', 'pod/db-0', '-n', NS, '--timeout=60s']);

  const tc = await tempCatalog([cluster]);
  onShutdown('catalog', () => tc.close());
  const agent = await clusterClients(activityDeps({ catalog: tc.catalog, adapters: {} })).agentClient('bench-pf');
  const forward = await openPortForward(agent, { namespace: NS, pod: 'db-0', port: 5432 }, { onStreamError: (e) => log(`stream failed: ${e.message}`) });
  onShutdown('port-forward', async () => { await forward.close(); agent.close(); });

  // kubectl port-forward to the same pod, as the admin (its own process).
  const kubectlPf = spawn(toolchain.kubectl, ['--kubeconfig', cluster.kubeconfigPath, 'port-forward', '-n', NS, 'pod/db-0', ':5432']);
  onShutdown('kubectl port-forward', () => { kubectlPf.kill(); });
  const kubectlPort = await new Promise<number>((resolve, reject) => {
    kubectlPf.stdout.on('data', (d: Buffer) => {
      const m = /127\.0\.0\.1:(\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    kubectlPf.on('close', (code) => reject(new Error(`kubectl port-forward exited ${code}`)));
  });

  const at = (port: number) => {
    const u = new URL(server.url);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };
  const routes: [string, string][] = [
    ['direct', server.url],
    ['Flotilla port-forward (agent, API server)', at(forward.port)],
    ['kubectl port-forward (admin, API server)', at(kubectlPort)],
  ];

  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
  const results = new Map<string, { down: number[]; up: number[] }>();
  /** RSS of this process (where Flotilla's forward runs) before each Flotilla run, and the most it grew during one. */
  let baseRss = 0;
  /** CPU time of this process (Flotilla's forward; psql runs in children) per wall time of a Flotilla run. */
  const cpuShare = { down: [] as number[], up: [] as number[] };
  let growth = 0;
  for (let i = 0; i < iterations; i++) {
    for (const [name, url] of routes) {
      const rss = process.memoryUsage().rss;
      baseRss = Math.max(baseRss, rss);
      peakRss = rss;
      const cpu0 = process.cpuUsage();
      const down = await psql(psqlPath, url, 'COPY blob TO STDOUT');
      const cpu1 = process.cpuUsage();
      if (down.bytes !== size) throw new Error(`${name}: COPY out gave ${down.bytes} bytes, expected ${size}`);
      await admin.query('TRUNCATE sink');
      const cpu2 = process.cpuUsage();
      const up = await psql(psqlPath, url, 'COPY sink FROM STDIN', file);
      const cpu3 = process.cpuUsage();
      if (name.startsWith('Flotilla')) {
        const ms = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;
        cpuShare.down.push(ms(cpu0, cpu1) / down.ms);
        cpuShare.up.push(ms(cpu2, cpu3) / up.ms);
      }
      const { rows: [count] } = await admin.query('SELECT count(*)::int AS n FROM sink');
      if (count.n !== rows) throw new Error(`${name}: COPY in stored ${count.n} rows, expected ${rows}`);
      const r = results.get(name) ?? { down: [], up: [] };
      r.down.push(size / 1048576 / (down.ms / 1000));
      r.up.push(size / 1048576 / (up.ms / 1000));
      results.set(name, r);
      if (name.startsWith('Flotilla')) growth = Math.max(growth, peakRss - rss);
      log(`${i + 1}/${iterations} ${name}: down ${r.down.at(-1)!.toFixed(1)} MB/s, up ${r.up.at(-1)!.toFixed(1)} MB/s`);
    }
  }
  clearInterval(sampler);
  await admin.end();

  const out: string[] = [];
  out.push(`port-forward throughput: ${(size / 1048576).toFixed(1)} MB of COPY text, psql as the client, median of ${iterations}`);
  out.push(`${'route'.padEnd(44)}${'COPY out MB/s'.padStart(15)}${'COPY in MB/s'.padStart(15)}`);
  for (const [name, r] of results) out.push(`${name.padEnd(44)}${median(r.down).toFixed(1).padStart(15)}${median(r.up).toFixed(1).padStart(15)}`);
  out.push(`Flotilla's forward (this process): CPU ${(median(cpuShare.down) * 100).toFixed(0)}% of one core during COPY out, ${(median(cpuShare.up) * 100).toFixed(0)}% during COPY in`);
  out.push(`bench process (runs Flotilla's forward): RSS ${(baseRss / 1048576).toFixed(0)} MB before a run, at most +${(growth / 1048576).toFixed(1)} MB during one`);
  console.log(out.join('\n'));
}

runBench(main, log);
