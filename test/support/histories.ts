// Recorded workflow histories, kept under test/replay/histories as { workflowId, history }.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';

export const historiesDir = fileURLToPath(new URL('../replay/histories/', import.meta.url));

export async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown;
  writeFileSync(`${historiesDir}${name}.json`, JSON.stringify({ workflowId: handle.workflowId, history }, null, 1));
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
