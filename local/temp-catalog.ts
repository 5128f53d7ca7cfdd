// A throwaway catalog: SQLite in a fresh temporary folder, a random master key, the given
// local clusters registered. Used by the tests (as testCatalog) and the benchmarks; or the same
// on a PostgreSQL database (postgresCatalog).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalog, type Catalog } from '../store/catalog.js';
import { registerKubeconfigClusters, type KubeconfigCluster } from './register.js';

export interface TempCatalog {
  catalog: Catalog;
  url: string;
  masterKey: string;
  close(): Promise<void>;
}

/** A catalog on PostgreSQL: `url` names an empty database; close() leaves it (its owner drops it). */
export async function postgresCatalog(url: string, clusters: readonly KubeconfigCluster[] = []): Promise<TempCatalog> {
  const masterKey = randomBytes(32).toString('base64');
  const catalog = await openCatalog({ url, masterKey });
  await registerKubeconfigClusters(catalog, clusters);
  return { catalog, url, masterKey, close: () => catalog.close() };
}

/** `keepIn`: a folder to use instead of a fresh temporary one, left in place on close (the integration tier's leak scan reads it). */
export async function tempCatalog(clusters: readonly KubeconfigCluster[] = [], options: { keepIn?: string } = {}): Promise<TempCatalog> {
  const dir = options.keepIn ?? mkdtempSync(join(tmpdir(), 'flotilla-catalog-'));
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
      if (!options.keepIn) rmSync(dir, { recursive: true, force: true });
    },
  };
}
