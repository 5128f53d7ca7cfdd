// A real catalog for tests: SQLite in a fresh temporary folder, a random master key.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerKubeconfigClusters, type KubeconfigCluster } from '../../local/register.js';
import { openCatalog, type Catalog } from '../../store/catalog.js';

export interface TestCatalog {
  catalog: Catalog;
  url: string;
  masterKey: string;
  close(): Promise<void>;
}

export async function testCatalog(clusters: readonly KubeconfigCluster[] = []): Promise<TestCatalog> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-catalog-'));
  const url = `sqlite://${join(dir, 'catalog.db')}`;
  const masterKey = randomBytes(32).toString('base64');
  const catalog = await openCatalog({ url, masterKey });
  await registerKubeconfigClusters(catalog, clusters);
  return {
    catalog,
    url,
    masterKey,
    close: async () => {
      await catalog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
