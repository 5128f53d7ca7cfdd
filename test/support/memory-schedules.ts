// A ScheduleClient in memory, for unit tests about routes: validation, authorisation, audit and
// secrets. It runs nothing: what a schedule does when it runs is tested against the real
// Temporal dev server (test/integration/schedule.test.ts); Temporal's time-skipping test server
// has no schedules.
import { type NewSchedule, type ScheduleClient, ScheduleExistsError, ScheduleNotFoundError, type ScheduleState, summaryOf } from '../../api/schedule-client.js';

export class MemorySchedules implements ScheduleClient {
  readonly schedules = new Map<string, ScheduleState>();
  readonly triggered: string[] = [];

  async create(s: NewSchedule): Promise<void> {
    if (this.schedules.has(s.id)) throw new ScheduleExistsError(s.id);
    this.schedules.set(s.id, {
      id: s.id, timing: s.timing, summary: summaryOf(s.input), input: s.input, tiers: s.tiers, paused: s.paused, ...(s.note !== undefined ? { note: s.note } : {}),
      nextRuns: [], recentRuns: [], running: [], runs: 0, skipped: 0, createdAt: new Date().toISOString(),
    });
  }

  async list(): Promise<ScheduleState[]> {
    return [...this.schedules.values()].map(({ input: _input, ...summary }) => summary);
  }

  async describe(id: string): Promise<ScheduleState | undefined> {
    return this.schedules.get(id);
  }

  async pause(id: string, note: string): Promise<void> {
    this.schedules.set(id, { ...this.require(id), paused: true, note });
  }

  async unpause(id: string, note: string): Promise<void> {
    this.schedules.set(id, { ...this.require(id), paused: false, note });
  }

  async trigger(id: string): Promise<void> {
    this.require(id);
    this.triggered.push(id);
  }

  async delete(id: string): Promise<void> {
    this.require(id);
    this.schedules.delete(id);
  }

  private require(id: string): ScheduleState {
    const s = this.schedules.get(id);
    if (!s) throw new ScheduleNotFoundError(id);
    return s;
  }
}
