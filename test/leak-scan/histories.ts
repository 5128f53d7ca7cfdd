// Every workflow history of a namespace, as the temporal CLI writes it (`workflow list -o json`,
// then `workflow show -o json --no-json-shorthand-payloads` per run: every payload as base64
// metadata and data), into <dir>/histories/ for the leak scan.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface DumpOptions {
  /** The temporal CLI. */
  temporal: string;
  address: string;
  namespace: string;
  /** The leak folder: histories go to <dir>/histories/. */
  dir: string;
  /** Only runs started at or after this (a shared TEMPORAL_ADDRESS holds other runs' histories). */
  since?: Date;
  concurrency?: number;
}

interface Listed {
  execution: { workflowId: string; runId: string };
  startTime?: string;
}

/** Writes each run's history to histories/<workflow id>~<run id>.json; returns how many. */
export async function dumpHistories(o: DumpOptions): Promise<number> {
  const cli = (args: string[]) => exec(o.temporal, [...args, '--address', o.address, '--namespace', o.namespace], { maxBuffer: 512 * 1024 * 1024 });
  const { stdout } = await cli(['workflow', 'list', '-o', 'json']);
  const runs = (JSON.parse(stdout || '[]') as Listed[] | null ?? [])
    .filter((r) => !o.since || !r.startTime || Date.parse(r.startTime) >= o.since.getTime() - 60_000);
  const out = join(o.dir, 'histories');
  mkdirSync(out, { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const { workflowId, runId } = runs[next++]!.execution;
      const { stdout: history } = await cli(['workflow', 'show', '-w', workflowId, '-r', runId, '-o', 'json', '--no-json-shorthand-payloads']);
      writeFileSync(join(out, `${workflowId.replace(/[^\w.-]+/g, '_')}~${runId}.json`), history);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 3 }, worker));
  return runs.length;
}
