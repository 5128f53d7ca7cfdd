// Recorded workflow histories, kept under test/replay/histories as { workflowId, history }.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { dataConverterFromEnv } from '../../temporal/data-converter.js';
import { ENCODING_ENCRYPTED } from '../../temporal/payload-codec.js';
import { decryptHistory, encodingOf, payloadsOf } from './tier-temporal.js';

export const historiesDir = fileURLToPath(new URL('../replay/histories/', import.meta.url));

/**
 * Records the handle's history as a new file, `<name>-<YYYY-MM-DD>.json` (the day of `on`, UTC,
 * today by default) under `dir` (test/replay/histories by default), and returns the file's name.
 * A recorded history is never overwritten: when that file exists already this throws, and the
 * file stays as it was (replay keeps checking it against the current code). Encrypted payloads
 * are stored decrypted (with `codec`, or FLOTILLA_PAYLOAD_KEYS' codec): a recording must replay
 * long after the key ring of the run that made it is gone.
 */
export async function recordHistory(
  name: string,
  handle: Pick<WorkflowHandle, 'workflowId' | 'fetchHistory'>,
  { on = new Date(), dir = historiesDir, codec }: { on?: Date; dir?: string; codec?: PayloadCodec } = {},
): Promise<string> {
  const file = `${name}-${on.toISOString().slice(0, 10)}.json`;
  const path = join(dir, file);
  if (existsSync(path)) throw new Error(`refusing to overwrite the recorded history ${path}: recorded histories are kept; record under another name or on another day`);
  let history = JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown;
  if (payloadsOf(history).some((p) => encodingOf(p) === ENCODING_ENCRYPTED)) history = await decryptHistory(history, codec ?? dataConverterFromEnv().payloadCodecs[0]);
  // 'wx' fails if the file appeared meanwhile: not even a race overwrites one.
  writeFileSync(path, JSON.stringify({ workflowId: handle.workflowId, history }, null, 1), { flag: 'wx' });
  return file;
}

/** With FLOTILLA_RECORD_HISTORIES set, keeps a test run's history for the replay tier; else nothing. */
export async function keepHistory(name: string, handle: Pick<WorkflowHandle, 'workflowId' | 'fetchHistory'>): Promise<void> {
  if (process.env.FLOTILLA_RECORD_HISTORIES !== undefined) await recordHistory(name, handle);
}

export interface RecordedHistory {
  file: string;
  workflowId: string;
  history: History;
}

export function recordedHistories(): RecordedHistory[] {
  return readdirSync(historiesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const { workflowId, history } = JSON.parse(readFileSync(historiesDir + file, 'utf8')) as { workflowId: string; history: unknown };
      return { file, workflowId, history: historyFromJSON(history) };
    });
}
