// Writes log lines for a service's simulated pods in a running local fleet (the dev command's, by
// default at ~/.cache/flotilla/fleet), so that `flotilla logs` and `kubectl logs` have something
// to show: the lines after the service, or standard input's lines when none are given.
//
//   npx tsx local/pod-log.ts local-dev shop-staging web "GET / 200" "GET /cart 200"
//   tail -f app.log | npx tsx local/pod-log.ts local-prod-us shop-prod-us web
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { appendLogLines, serviceLogFile } from './pod-logs.js';
import { cacheDir, ensureToolchain } from './toolchain.js';

const [cluster, namespace, service, ...lines] = process.argv.slice(2);
if (!cluster || !namespace || !service) {
  console.error('usage: npx tsx local/pod-log.ts CLUSTER NAMESPACE SERVICE [LINE...]   (lines from stdin when none are given)');
  process.exit(2);
}
const kubeconfigPath = join(process.env.FLOTILLA_FLEET_DIR ?? join(cacheDir(), 'fleet'), 'clusters', cluster, 'kubeconfig.yaml');
if (!existsSync(kubeconfigPath)) {
  console.error(`no local cluster "${cluster}" (no ${kubeconfigPath}): is the dev command running?`);
  process.exit(4);
}
const file = await serviceLogFile(ensureToolchain().kubectl, kubeconfigPath, { namespace, service });
if (lines.length > 0) {
  appendLogLines(file, lines);
} else {
  // Line by line, as they come: a piped `tail -f` shows up in a followed `flotilla logs -f`.
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) appendLogLines(file, line);
}
console.error(`${file}: the pods of ${service} in ${cluster}/${namespace} show these lines`);
