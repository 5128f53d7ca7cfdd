#!/usr/bin/env node
// The `flotilla` entry point: `node dist/cli/bin.js` once compiled (npm run build; the packed
// package's `flotilla`), `npx tsx cli/bin.ts` from the sources.
import { run } from './program.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// `flotilla get … | head`: a reader that goes away ends the output, as it does for kubectl.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readStdin,
});
process.exitCode = code;
