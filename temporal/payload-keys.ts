// Manages a payload key-ring file: `npx tsx temporal/payload-keys.ts <command> [--file PATH]`
// (PATH defaults to FLOTILLA_PAYLOAD_KEYS). Prints key ids only, never key bytes.
//
//   init                 a new ring of one key (refuses to overwrite a file)
//   add [--id ID]        a new decrypt-only key: roll it out to every worker and API first…
//   activate ID          …then make it the one that encrypts, and roll that out
//   rotate [--id ID]     add + activate in one step (when every process restarts together, e.g. dev)
//   retire ID            remove a key no retained history needs any more (never the active one)
//   list                 the ids, the active one marked
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PAYLOAD_KEYS_ENV, PayloadKeyRing, PayloadKeysError, readKeyRingFile, writeKeyRingFile } from './key-ring.js';

const USAGE = 'usage: payload-keys.ts init|add|activate ID|rotate|retire ID|list [--file PATH] [--id ID]';

export function runPayloadKeysCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { file: { type: 'string' }, id: { type: 'string' } },
  });
  const [command, argument] = positionals;
  const file = values.file ?? (env[PAYLOAD_KEYS_ENV]?.trim().startsWith('{') ? undefined : env[PAYLOAD_KEYS_ENV]);
  if (!file) throw new PayloadKeysError(`no key-ring file: pass --file PATH or set ${PAYLOAD_KEYS_ENV} to one. ${USAGE}`);
  const needId = () => {
    if (!argument) throw new PayloadKeysError(`${command} needs a key id. ${USAGE}`);
    return argument;
  };
  switch (command) {
    case 'init': {
      if (existsSync(file)) throw new PayloadKeysError(`${file} exists already; use rotate to add a key`);
      const ring = PayloadKeyRing.generate(values.id);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeKeyRingFile(file, ring);
      return `created ${file} with active key ${ring.active}`;
    }
    case 'add':
    case 'rotate': {
      const ring = readKeyRingFile(file).withNewKey({ id: values.id, activate: command === 'rotate' });
      writeKeyRingFile(file, ring);
      const added = ring.ids.at(-1)!;
      return command === 'rotate'
        ? `added key ${added} and made it active (restart every worker and API process)`
        : `added key ${added} (decrypt only); once every process has it: payload-keys.ts activate ${added}`;
    }
    case 'activate': {
      const ring = readKeyRingFile(file).withActive(needId());
      writeKeyRingFile(file, ring);
      return `key ${ring.active} is active (restart every worker and API process)`;
    }
    case 'retire': {
      const id = needId();
      writeKeyRingFile(file, readKeyRingFile(file).without(id));
      return `removed key ${id}: payloads encrypted under it can no longer be read`;
    }
    case 'list': {
      const ring = readKeyRingFile(file);
      return ring.ids.map((id) => `${id}${id === ring.active ? ' (active)' : ''}`).join('\n');
    }
    default:
      throw new PayloadKeysError(USAGE);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(runPayloadKeysCommand(process.argv.slice(2)));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}
