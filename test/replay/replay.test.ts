// Replays recorded histories against today's workflow code, offline (no server): a change
// that would break a running workflow fails here. Record new ones by running the integration
// tier with FLOTILLA_RECORD_HISTORIES=1.
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../worker/worker.js';
import { HEALTH_AFTER_DEPLOY_PATCH } from '../../workflows/legacy/promote-v1.js';
import { recordedHistories } from '../support/histories.js';

const recorded = recordedHistories();

describe('recorded histories replay against the current workflows', () => {
  let workflowBundle: NonNullable<WorkerOptions['workflowBundle']>;
  beforeAll(async () => {
    workflowBundle = await bundleWorkflows();
  }, 60_000);

  it('has recorded histories to replay', () => {
    expect(recorded.map((r) => r.file)).toEqual(expect.arrayContaining([
      'onboard-cluster-unreachable-then-up.json', 'deploy-environment-prune.json',
      'promote-three-stages.json', 'promote-three-stages-before-health-patch.json', 'promote-rolled-back.json',
    ]));
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

  it('the history recorded before the change has no patch marker, the one after has it; both replay (above)', () => {
    expect(patchIds('promote-three-stages-before-health-patch.json')).toEqual([]);
    expect(patchIds('promote-three-stages.json')).toContain(HEALTH_AFTER_DEPLOY_PATCH);
  });
});
