// A Clock whose time moves only when a test says so: limiter and polling tests assert on
// exact waits instead of on how long something took.
import type { Clock } from '../../providers/kubernetes/clock.js';

interface Timer {
  at: number;
  resolve: () => void;
}

export class FakeClock implements Clock {
  private time = 0;
  private timers: Timer[] = [];
  /** Every sleep asked for, in order, in milliseconds. */
  readonly sleeps: number[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const timer: Timer = { at: this.time + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Timers still waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order, and lets their continuations run. */
  async advance(ms: number): Promise<void> {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.resolve();
    await settle();
  }
}

/** Lets pending promise continuations run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
