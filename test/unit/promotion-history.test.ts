// The chaos test's judge of a native cancel that came too late to undo anything
// (test/support/promotion-history.ts), on recorded promotion histories: one whose catalog steps
// are activity tasks and one where they are local activities (LOCAL_CATALOG_PATCH), with a cancel
// request put before or after the release of the targets.
import { describe, expect, it } from 'vitest';
import { cancelCameAfterOutcome, historyOutline, type PromotionHistoryEvent } from '../support/promotion-history.js';
import { recordedHistories } from '../support/histories.js';

const eventsOf = (file: string) => (recordedHistories().find((r) => r.file === file)!.history.events ?? []) as PromotionHistoryEvent[];
const cancelRequest: PromotionHistoryEvent = { workflowExecutionCancelRequestedEventAttributes: { cause: 'test' } };
/** The history with a cancel request recorded as its event number `at` (0-based). */
const withCancelAt = (events: PromotionHistoryEvent[], at: number) => [...events.slice(0, at), cancelRequest, ...events.slice(at)];

describe('a native cancel that came after the promotion ended', () => {
  // Both completed; the release is event 101 (an activity task) and event 76 (a local activity's marker).
  const cases = [
    { file: 'promote-pause-resume-2026-12-01.json', release: 101, form: 'an activity task' },
    { file: 'promote-pause-resume-2026-12-07.json', release: 76, form: 'a local activity marker' },
  ];

  for (const { file, release, form } of cases) {
    it(`is told apart from an earlier one when the release is ${form}`, () => {
      const events = eventsOf(file);
      expect(cancelCameAfterOutcome(events)).toBe(false); // no cancel at all
      expect(cancelCameAfterOutcome(withCancelAt(events, release + 1))).toBe(true);
      expect(cancelCameAfterOutcome(withCancelAt(events, events.length - 1))).toBe(true);
      expect(cancelCameAfterOutcome(withCancelAt(events, release))).toBe(false);
      expect(cancelCameAfterOutcome(withCancelAt(events, 20))).toBe(false);
    });
  }

  it('is not claimed for a cancel that the promotion saw and obeyed', () => {
    // Cancelled together with the last health check (event 38), released after rolling back (event 64).
    expect(cancelCameAfterOutcome(eventsOf('promote-native-cancel-with-last-health-check-2026-12-07.json'))).toBe(false);
  });
});

describe('a history in one line (what the chaos test prints for a wrong outcome)', () => {
  it('names each event by number, with its activity, a refused workflow task and the cancel request', () => {
    // Recorded with the release as a local activity: the completing task was refused (event 40), then the cancel (41).
    const outline = historyOutline(eventsOf('promote-cancel-while-releasing-locally-2026-12-07.json'));
    expect(outline.startsWith('1:1 2:5 3:6 4:7 ')).toBe(true);
    expect(outline).toContain(' 40:9(failed:1) 41:20(CANCEL) ');
    expect(outline).toContain('(planPromotion)');
    expect(outline).toContain('(checkHealth)');
    expect(outline).toContain('(releaseEnvironments)');
  });
});
