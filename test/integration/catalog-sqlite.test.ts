// The catalog suite on SQLite, in a file (not :memory:) so the at-rest check can read the
// database's bytes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogSuite } from '../store/catalog.suite.js';

catalogSuite('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-catalog-'));
  let n = 0;
  return {
    newUrl: () => Promise.resolve(`sqlite://${join(dir, `catalog-${++n}.db`)}`),
    // The main file and the write-ahead log, as raw bytes: whatever SQLite wrote anywhere.
    rawSecrets: (url) => {
      const file = new URL(url).pathname;
      const parts = [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1'));
      return Promise.resolve(parts.join('\n'));
    },
    teardown: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});
