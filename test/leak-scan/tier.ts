// The leak scan's part in the integration tier's global set-up (test/integration/global-setup.ts):
// the leak folder (FLOTILLA_LEAK_DIR from scripts/test.sh, or a fresh one), the canaries global
// set-up itself knows (the payload keys, the fleet's kubeconfigs), and at teardown, while the
// Temporal server still runs, every workflow history. scripts/test.sh scans the folder after the
// tier (with vitest's own output); run without it (`npx vitest run --project integration …`),
// the teardown scans and fails the run on a hit.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type PayloadKeyRing, writeKeyRingFile } from '../../temporal/key-ring.js';
import { KEY_RING_FILE, LEAK_DIR_ENV, recordOutput, registerKubeconfig, registerSecret } from '../support/leak-registry.js';
import { dumpHistories } from './histories.js';
import { formatReport, passed, scanLeakDir } from './scan.js';

export interface TierLeakScan {
  dir: string;
  /** Appends a server's output to logs/<name>.log. */
  output(name: string): (chunk: Buffer | string) => void;
  keyRing(ring: PayloadKeyRing): void;
  fleet(clusters: readonly { name: string; kubeconfig: string }[]): void;
  /** Dumps the histories of the namespace (call while the server runs). */
  histories(o: { temporal: string; address: string; namespace: string }): Promise<void>;
  /** Keeps the Temporal dev server's SQLite files (call after it stopped). */
  temporalDb(dbFile: string): void;
  /** Without scripts/test.sh: scans, prints the report, fails the run on a hit, removes the folder when clean. */
  finish(log: (m: string) => void): Promise<void>;
}

export function startTierLeakScan(): TierLeakScan {
  const given = process.env[LEAK_DIR_ENV];
  const dir = given || mkdtempSync(join(tmpdir(), 'flotilla-leak-'));
  mkdirSync(join(dir, 'control'), { recursive: true });
  // Test files (forked after this) and the processes they start inherit it.
  process.env[LEAK_DIR_ENV] = dir;
  const since = new Date();
  let failure: string | undefined;
  return {
    dir,
    output: (name) => (chunk) => recordOutput(name, chunk),
    keyRing(ring) {
      writeKeyRingFile(join(dir, KEY_RING_FILE), ring);
      for (const id of ring.ids) registerSecret(`payload key ${id}`, ring.key(id)!.toString('base64'), { bySetup: true });
    },
    fleet(clusters) {
      for (const c of clusters) registerKubeconfig(`fleet kubeconfig ${c.name}`, c.kubeconfig, { bySetup: true });
    },
    async histories(o) {
      try {
        await dumpHistories({ ...o, dir, since });
      } catch (error) {
        failure = `could not dump the workflow histories: ${(error as Error).message}`;
      }
    },
    temporalDb(dbFile) {
      const target = join(dir, 'temporal');
      mkdirSync(target, { recursive: true });
      const name = basename(dbFile);
      for (const file of readdirSync(join(dbFile, '..')).filter((f) => f.startsWith(name))) {
        const from = join(dbFile, '..', file);
        try {
          renameSync(from, join(target, file));
        } catch {
          cpSync(from, join(target, file));
        }
      }
    },
    async finish(log) {
      if (failure) {
        log(`leak scan: ${failure}`);
        process.exitCode = 1;
      }
      if (given) return;
      delete process.env[LEAK_DIR_ENV];
      const report = await scanLeakDir(dir);
      console.error(formatReport(report));
      if (passed(report)) {
        if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      } else {
        log(`leak scan failed: the scanned files are kept in ${dir}`);
        // A teardown's exception is only printed by vitest: the exit code fails the run.
        process.exitCode = 1;
      }
    },
  };
}
