// Replays recorded histories against today's workflow code, offline (no server): a change
// that would break a running workflow fails here. Record new ones by running the tiers with
// FLOTILLA_RECORD_HISTORIES=1 (the workflow unit tests record theirs from the time-skipping
// server): each lands as a new dated file and never replaces one already recorded.
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_AFTER_DEPLOY_PATCH } from '../../workflows/legacy/promote-v1.js';
import {
  CHANGE_CONTROL_PATCH, LOCAL_CATALOG_PATCH, PRUNE_FOUND_DURING_ROLLOUT_PATCH, RELEASE_AS_TASK_PATCH, STOP_PRUNE_SEARCH_PATCH,
} from '../../workflows/patches.js';
import { recordedHistories } from '../support/histories.js';
import { localActivityType } from '../support/promotion-history.js';
import { sharedWorkflowBundle, type WorkflowBundle } from '../support/workflow-env.js';

const recorded = recordedHistories();
const bundle = sharedWorkflowBundle();

/** Recorded before the change-control patch: they replay through workflows/legacy. */
const BEFORE_CHANGE_CONTROL = [
  'onboard-cluster-unreachable-then-up.json', 'deploy-environment-prune.json',
  'promote-three-stages.json', 'promote-three-stages-before-health-patch.json', 'promote-rolled-back.json',
];

/** Recorded after it (by the workflow unit tests on the time-skipping server), dated as recordHistory names them. */
const AFTER_CHANGE_CONTROL = [
  'promote-pause-resume-2026-12-01.json', 'promote-cancel-signal-2026-12-01.json', 'promote-native-cancel-2026-12-01.json',
  'promote-reject-2026-12-01.json', 'promote-approval-timeout-2026-12-01.json', 'promote-continue-as-new-2026-12-01.json',
  'promote-rolled-back-2026-12-01.json', 'deploy-environment-databases-migration-2026-12-01.json',
  'onboard-cluster-continued-as-new-2026-12-01.json',
];

/** Workflows written after the change-control patch (no patch of theirs yet): clones, their clocks and teardowns, drills. */
const CLONES_AND_DRILLS = [
  'clone-environment-with-data-2026-12-03.json', 'clone-environment-policy-refused-2026-12-03.json', 'clone-environment-copy-failed-2026-12-03.json',
  'clone-expiry-extended-2026-12-03.json', 'clone-expiry-stopped-by-teardown-2026-12-03.json',
  'teardown-clone-by-expiry-2026-12-03.json', 'teardown-clone-early-2026-12-03.json',
  'dr-drill-passed-2026-12-03.json', 'dr-drill-validation-failed-2026-12-03.json',
  'compliance-clone-replacing-previous-2026-12-03.json', 'compliance-clone-rejected-2026-12-03.json', 'compliance-clone-drill-2026-12-03.json',
];
/**
 * Recorded after the local catalog steps and the prune search during the rollout (issue 15):
 * the histories above, recorded before, replay through the activity-task path.
 */
const LOCAL_CATALOG_STEPS = [
  'deploy-environment-databases-migration-2026-12-07.json', 'promote-approval-timeout-2026-12-07.json', 'promote-cancel-signal-2026-12-07.json',
  'promote-continue-as-new-2026-12-07.json', 'promote-native-cancel-2026-12-07.json', 'promote-native-cancel-with-last-health-check-2026-12-07.json',
  'promote-pause-resume-2026-12-07.json', 'promote-reject-2026-12-07.json', 'promote-rolled-back-2026-12-07.json',
];

/**
 * A deploy whose rollout wait failed while the prune search kept failing against its cluster:
 * recorded with the code before the search was stopped (it waited out the search's 20 attempts)
 * and with the code after (the search cancelled at once).
 */
const PRUNE_SEARCH_KEPT = 'deploy-environment-rollout-failed-search-kept-2026-12-07.json';
const PRUNE_SEARCH_STOPPED = 'deploy-environment-rollout-failed-search-stopped-2026-12-07.json';

/**
 * A promotion cancelled while it freed its targets, having decided it completed: recorded with
 * the code that freed them with a local activity (the server refused the completing workflow
 * task, the replay rolled back: "cancelled", freed twice) and with the code that frees them with
 * an activity task ("completed", freed once).
 */
const RELEASED_LOCALLY = 'promote-cancel-while-releasing-locally-2026-12-07.json';
const RELEASED_AS_TASK = 'promote-cancel-while-releasing-2026-12-07.json';
/** The same for a standalone deploy: "cancelled" after it had recorded and reported its end, or completed. */
const DEPLOY_RELEASED_LOCALLY = 'deploy-environment-cancel-while-releasing-locally-2026-12-07.json';
const DEPLOY_RELEASED_AS_TASK = 'deploy-environment-cancel-while-releasing-2026-12-07.json';

/** The workflows the change-control patch changed: their histories tell before from after by its marker. */
const PATCHED_WORKFLOW = /^(promote|deploy-environment|onboard-cluster)-/;

/** recordHistory names every file it writes `<name>-<YYYY-MM-DD>.json`. */
const dated = (file: string) => /-\d{4}-\d{2}-\d{2}\.json$/.test(file);

describe('recorded histories replay against the current workflows', () => {
  let workflowBundle: WorkflowBundle;
  beforeAll(async () => {
    workflowBundle = await bundle();
  }, 60_000);

  it('has recorded histories to replay', () => {
    expect(recorded.map((r) => r.file)).toEqual(expect.arrayContaining([...BEFORE_CHANGE_CONTROL, ...AFTER_CHANGE_CONTROL, ...CLONES_AND_DRILLS, ...LOCAL_CATALOG_STEPS, PRUNE_SEARCH_KEPT, PRUNE_SEARCH_STOPPED, RELEASED_LOCALLY, RELEASED_AS_TASK, DEPLOY_RELEASED_LOCALLY, DEPLOY_RELEASED_AS_TASK]));
  });

  it.each(recorded)('$file replays without nondeterminism', async ({ workflowId, history }) => {
    await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
  });
});

describe('a patched change keeps old histories replaying', () => {
  /** The patch ids a history's markers record (core_patch markers carry {"id": …} as JSON). */
  const patchIds = (file: string): string[] => {
    const { history } = recorded.find((r) => r.file === file)!;
    return (history.events ?? []).flatMap((event) => {
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName !== 'core_patch') return [];
      const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
      return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
    });
  };

  it('the history recorded before the health patch has no patch marker, the one after has it; both replay (above)', () => {
    expect(patchIds('promote-three-stages-before-health-patch.json')).toEqual([]);
    expect(patchIds('promote-three-stages.json')).toContain(HEALTH_AFTER_DEPLOY_PATCH);
  });

  it('every history recorded before the change-control patch lacks its marker; every one recorded after carries it; all replay (above)', () => {
    for (const file of BEFORE_CHANGE_CONTROL) expect(patchIds(file), file).not.toContain(CHANGE_CONTROL_PATCH);
    const since = recorded.map((r) => r.file).filter((file) => !BEFORE_CHANGE_CONTROL.includes(file));
    // Anything recorded since is dated (recordHistory never writes an undated name), and new code.
    expect(since.filter((file) => !dated(file))).toEqual([]);
    const after = since.filter((file) => PATCHED_WORKFLOW.test(file));
    expect(after).toEqual(expect.arrayContaining(AFTER_CHANGE_CONTROL));
    for (const file of after) expect(patchIds(file), file).toContain(CHANGE_CONTROL_PATCH);
  });

  it('the histories of deploys and promotions recorded before the local catalog steps lack their marker, those after carry it; all replay (above)', () => {
    for (const file of AFTER_CHANGE_CONTROL.filter((f) => /^(promote|deploy-environment)-/.test(f))) expect(patchIds(file), file).not.toContain(LOCAL_CATALOG_PATCH);
    for (const file of LOCAL_CATALOG_STEPS) expect(patchIds(file), file).toContain(LOCAL_CATALOG_PATCH);
    // A deploy's history has both: the prune search runs during its rollout wait.
    expect(patchIds('deploy-environment-databases-migration-2026-12-07.json')).toContain(PRUNE_FOUND_DURING_ROLLOUT_PATCH);
    expect(patchIds('deploy-environment-databases-migration-2026-12-01.json')).not.toContain(PRUNE_FOUND_DURING_ROLLOUT_PATCH);
  });

  it('a deploy whose rollout failed before the search was stopped lacks that marker and waited out the search; one after carries it and cancelled it; both replay (above)', () => {
    const events = (file: string) => recorded.find((r) => r.file === file)!.history.events ?? [];
    const searches = (file: string) => events(file).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'findPrunable').length;
    const attempts = (file: string) => events(file).flatMap((e) => e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 0] : []);
    const cancelled = (file: string) => events(file).some((e) => e.activityTaskCancelRequestedEventAttributes);
    expect(patchIds(PRUNE_SEARCH_KEPT)).not.toContain(STOP_PRUNE_SEARCH_PATCH);
    expect(patchIds(PRUNE_SEARCH_STOPPED)).toContain(STOP_PRUNE_SEARCH_PATCH);
    expect(searches(PRUNE_SEARCH_KEPT)).toBe(1);
    expect(Math.max(...attempts(PRUNE_SEARCH_KEPT))).toBe(20);
    expect(cancelled(PRUNE_SEARCH_KEPT)).toBe(false);
    expect(cancelled(PRUNE_SEARCH_STOPPED)).toBe(true);
  });

  it('a promotion that freed its targets with a local activity lacks the release-as-task marker; one after carries it and frees them once; both replay (above)', () => {
    const events = (file: string) => recorded.find((r) => r.file === file)!.history.events ?? [];
    const releases = (file: string) => events(file).filter((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'releaseEnvironments' || localActivityType(e) === 'releaseEnvironments').length;
    const refusedTasks = (file: string) => events(file).filter((e) => e.workflowTaskFailedEventAttributes).length;
    expect(patchIds(RELEASED_LOCALLY)).not.toContain(RELEASE_AS_TASK_PATCH);
    expect(patchIds(RELEASED_AS_TASK)).toContain(RELEASE_AS_TASK_PATCH);
    expect([releases(RELEASED_LOCALLY), refusedTasks(RELEASED_LOCALLY)]).toEqual([1, 1]); // the first release's marker was refused with its task
    expect([releases(RELEASED_AS_TASK), refusedTasks(RELEASED_AS_TASK)]).toEqual([1, 0]);
    // A standalone deploy: refused, then ended cancelled; after, completed.
    const ended = (file: string) => {
      const last = events(file).at(-1);
      return last?.workflowExecutionCompletedEventAttributes ? 'completed' : last?.workflowExecutionCanceledEventAttributes ? 'cancelled' : 'other';
    };
    expect(patchIds(DEPLOY_RELEASED_LOCALLY)).not.toContain(RELEASE_AS_TASK_PATCH);
    expect(patchIds(DEPLOY_RELEASED_AS_TASK)).toContain(RELEASE_AS_TASK_PATCH);
    expect([refusedTasks(DEPLOY_RELEASED_LOCALLY), ended(DEPLOY_RELEASED_LOCALLY)]).toEqual([1, 'cancelled']);
    expect([refusedTasks(DEPLOY_RELEASED_AS_TASK), ended(DEPLOY_RELEASED_AS_TASK)]).toEqual([0, 'completed']);
  });
});
