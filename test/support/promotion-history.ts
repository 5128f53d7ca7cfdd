// Reading a promotion's history: which activity a local activity's marker records, whether a
// native cancel came too late to undo anything (the chaos test), and a one-line outline of it.

export interface PromotionHistoryEvent {
  eventType?: number | string | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  workflowTaskFailedEventAttributes?: { cause?: number | string | null } | null;
  markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null;
  workflowExecutionCancelRequestedEventAttributes?: unknown;
}

/** The local activity a `core_local_activity` marker records, by its type. */
export function localActivityType(event: PromotionHistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type : undefined;
}

/**
 * Whether Temporal's cancel request was recorded only after the workflow task that ended the
 * promotion (the one that asked to release its targets) had completed: no workflow task saw it
 * before the outcome was decided. The release is an activity task in runs started before
 * LOCAL_CATALOG_PATCH and a local activity's marker since; a cancel that arrives while that
 * workflow task runs is recorded after the task's commands, so after either.
 */
export function cancelCameAfterOutcome(events: readonly PromotionHistoryEvent[]): boolean {
  const release = events.findIndex((e) =>
    e.activityTaskScheduledEventAttributes?.activityType?.name === 'releaseEnvironments' || localActivityType(e) === 'releaseEnvironments');
  const cancel = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
  return release >= 0 && cancel > release;
}

/**
 * A history in one line: each event's type (EventType's number), with the activity a task or a
 * local activity's marker is for, and why a workflow task failed.
 */
export function historyOutline(events: readonly PromotionHistoryEvent[]): string {
  return events.map((e, i) => {
    const what = e.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityType(e)
      ?? (e.workflowTaskFailedEventAttributes ? `failed:${String(e.workflowTaskFailedEventAttributes.cause)}` : undefined)
      ?? (e.workflowExecutionCancelRequestedEventAttributes ? 'CANCEL' : undefined);
    return `${i + 1}:${String(e.eventType)}${what ? `(${what})` : ''}`;
  }).join(' ');
}
