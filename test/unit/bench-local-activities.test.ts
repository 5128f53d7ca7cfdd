// The promotion benchmark's history reading (bench/support/promote-scenario.ts) sees the catalog
// steps that run as local activities: from a recorded deploy history, each marker's activity
// type, in order, with its schedule and completion times (the worker's clock).
import { describe, expect, it } from 'vitest';
import { allActivityTimings, localActivityTimings, type HistoryEvent } from '../../bench/support/promote-scenario.js';
import { recordedHistories } from '../support/histories.js';

describe('local activity timings from a history', () => {
  const events = (file: string) => (recordedHistories().find((r) => r.file === file)!.history.events ?? []) as HistoryEvent[];

  it('reads each local activity marker, in order, with its times', () => {
    const local = localActivityTimings(events('deploy-environment-databases-migration-2026-12-07.json'));
    expect(local.map((a) => a.name)).toEqual(['acquireEnvironments', 'reportOperation', 'planDeploy', 'recordDeployment', 'releaseEnvironments', 'reportOperation']);
    // Only the completion is recorded (the worker's clock); it stands for the schedule too.
    for (const a of local) {
      expect(a.local).toBe(true);
      expect(a.completed).toBeGreaterThan(Date.UTC(2026, 0, 1));
      expect(a.scheduled).toBe(a.completed);
      expect(a.started).toBeUndefined();
    }
  });

  it('merges them with the activity tasks in the order they were scheduled; an older history has none', () => {
    const all = allActivityTimings(events('deploy-environment-databases-migration-2026-12-07.json')).map((a) => a.name);
    expect(all.slice(0, 4)).toEqual(['acquireEnvironments', 'reportOperation', 'planDeploy', 'applyRevision']);
    expect(all.slice(-3)).toEqual(['recordDeployment', 'releaseEnvironments', 'reportOperation']);
    expect(localActivityTimings(events('deploy-environment-databases-migration-2026-12-01.json'))).toEqual([]);
  });
});
