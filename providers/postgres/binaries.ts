// Where pg_dump and pg_restore come from: FLOTILLA_PG_BIN, or the newest Debian install under
// /usr/lib/postgresql/*/bin (pg_dump must be at least as new as the source server).
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PgToolError } from './errors.js';

const TOOLS = ['pg_dump', 'pg_restore'] as const;

export function findPgBin(explicit = process.env.FLOTILLA_PG_BIN, root = '/usr/lib/postgresql'): string {
  const usable = (dir: string) => TOOLS.every((tool) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (explicit) {
    if (!usable(explicit)) throw new PgToolError(`FLOTILLA_PG_BIN=${explicit} holds no executable pg_dump and pg_restore`);
    return explicit;
  }
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
  } catch {
    // no PostgreSQL client installed at all: reported below
  }
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (usable(dir)) return dir;
  }
  throw new PgToolError(`no pg_dump/pg_restore found under ${root}/*/bin: install Debian's postgresql-client (or set FLOTILLA_PG_BIN)`);
}
