// recordHistory writes a new dated file and never overwrites one (a recorded history is kept
// for as long as runs of its code may exist).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { recordHistory } from '../support/histories.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-histories-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A handle whose history has one event (what recordHistory asks of a handle). */
const handle = (workflowId: string): Pick<WorkflowHandle, 'workflowId' | 'fetchHistory'> => ({
  workflowId,
  fetchHistory: async () => ({ events: [{ eventId: 1 as never, eventType: 1 }] }),
});

describe('recordHistory', () => {
  const on = new Date('2026-12-01T23:30:00Z');

  it('writes <name>-<YYYY-MM-DD>.json with the workflow id and the history', async () => {
    const file = await recordHistory('promote-something', handle('wf-1'), { on, dir });

    expect(file).toBe('promote-something-2026-12-01.json');
    const written = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { workflowId: string; history: { events: unknown[] } };
    expect(written.workflowId).toBe('wf-1');
    expect(written.history.events).toHaveLength(1);
  });

  it('refuses to overwrite a history recorded under that name that day, and leaves it as it was', async () => {
    writeFileSync(join(dir, 'kept-2026-12-01.json'), '{"workflowId":"old","history":{}}');

    await expect(recordHistory('kept', handle('wf-2'), { on, dir })).rejects.toThrow(/refusing to overwrite/);
    expect(readFileSync(join(dir, 'kept-2026-12-01.json'), 'utf8')).toBe('{"workflowId":"old","history":{}}');
  });

  it('records the same name again on another day as another file', async () => {
    await recordHistory('daily', handle('wf-3'), { on, dir });
    const file = await recordHistory('daily', handle('wf-4'), { on: new Date('2026-12-02T00:00:00Z'), dir });

    expect(file).toBe('daily-2026-12-02.json');
    expect((JSON.parse(readFileSync(join(dir, 'daily-2026-12-01.json'), 'utf8')) as { workflowId: string }).workflowId).toBe('wf-3');
  });
});
