// A real catalog for tests: SQLite in a fresh temporary folder, a random master key. The
// implementation lives in local/temp-catalog.ts, shared with the benchmarks. In the integration
// tier the folder is in the leak scan's (kept after close, scanned for plaintext secrets) and the
// master key is a canary (test/support/leak-registry.ts).
import type { KubeconfigCluster } from '../../local/register.js';
import { tempCatalog, type TempCatalog } from '../../local/temp-catalog.js';
import { keptCatalogFolder, registerSecret } from './leak-registry.js';

export type TestCatalog = TempCatalog;

export async function testCatalog(clusters: readonly KubeconfigCluster[] = []): Promise<TestCatalog> {
  const tc = await tempCatalog(clusters, { keepIn: keptCatalogFolder('test-catalog') });
  registerSecret(`master key of ${tc.url}`, tc.masterKey);
  return tc;
}
