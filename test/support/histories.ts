// Recorded workflow histories, kept under test/replay/histories as { workflowId, history }.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';

export const historiesDir = fileURLToPath(new URL('../replay/histories/', import.meta.url));

/**
 * Records the handle's history as a new file, `<name>-<YYYY-MM-DD>.json` (the day of `on`, UTC,
 * today by default) under `dir` (test/replay/histories by default), and returns the file's name.
 * A recorded history is never overwritten: when that file exists already this throws, and the
 * file stays as it was (replay keeps checking it against the current code).
 */
export async function recordHistory(
  name: string,
  handle: Pick<WorkflowHandle, 'workflowId' | 'fetchHistory'>,
  { on = new Date(), dir = historiesDir }: { on?: Date; dir?: string } = {},
): Promise<string> {
  const file = `${name}-${on.toISOString().slice(0, 10)}.json`;
  const path = join(dir, file);
  if (existsSync(path)) throw new Error(`refusing to overwrite the recorded history ${path}: recorded histories are kept; record under another name or on another day`);
  const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown;
  // 'wx' fails if the file appeared meanwhile: not even a race overwrites one.
  writeFileSync(path, JSON.stringify({ workflowId: handle.workflowId, history }, null, 1), { flag: 'wx' });
  return file;
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
