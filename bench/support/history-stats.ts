// How big a promotion's Temporal histories are, as the server counts them against its limits:
// events and bytes from DescribeWorkflowExecution (what the history count and size limits
// check), and the largest single event of the parent, which holds its largest payload (the
// per-payload blob limit). Plus, from each child's history, how long its activities waited
// between being scheduled and a worker picking them up: a worker out of slots shows there.
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { activityTimings, type HistoryEvent } from './promote-scenario.js';

const { HistoryEvent: HistoryEventProto } = proto.temporal.api.history.v1;

export interface HistorySize {
  workflowId: string;
  events: number;
  bytes: number;
}

export async function historySize(client: Client, workflowId: string, runId?: string): Promise<HistorySize> {
  const d = await client.workflow.getHandle(workflowId, runId).describe();
  return { workflowId, events: d.historyLength, bytes: d.historySize ?? NaN };
}

/** Every run of a workflow that continued as new, oldest first (visibility may lag a moment behind). */
export async function runsOf(client: Client, workflowId: string): Promise<HistorySize[]> {
  const runs: { at: number; size: HistorySize }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ at: w.startTime.getTime(), size: await historySize(client, workflowId, w.runId) });
  }
  return runs.sort((a, b) => a.at - b.at).map((r) => r.size);
}

/** The largest event of a history, encoded as the server stores it, and the largest of each type. */
export async function largestEvent(client: Client, workflowId: string, runId?: string): Promise<{ bytes: number; type: string; byType: Record<string, number> }> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  let largest = { bytes: 0, type: '' };
  const byType: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const bytes = HistoryEventProto.encode(e).finish().length;
    const type = (proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
    byType[type] = Math.max(byType[type] ?? 0, bytes);
    if (bytes > largest.bytes) largest = { bytes, type };
  }
  return { ...largest, byType };
}

/** Per activity of a workflow: milliseconds from scheduled to started (waiting for a worker slot). */
export async function scheduleToStart(client: Client, workflowId: string): Promise<{ name: string; ms: number }[]> {
  const events = ((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) as HistoryEvent[];
  return activityTimings(events).filter((a) => a.started !== undefined).map((a) => ({ name: a.name, ms: a.started! - a.scheduled }));
}
