// The per-cluster limiter, driven by a fake clock: exact waits, no wall-clock timing.
import { describe, expect, it } from 'vitest';
import { ClusterLimiter, ClusterRateLimits, DEFAULT_RATE_LIMIT, Semaphore, TokenBucket } from '../../providers/kubernetes/rate-limit.js';
import { FakeClock, settle } from '../support/fake-clock.js';

describe('TokenBucket', () => {
  it('lets a full burst through at once, then spaces requests 1/qps apart', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(50, 100, clock);
    const waits = Array.from({ length: 103 }, () => bucket.reserve());
    expect(waits.slice(0, 100).every((w) => w === 0)).toBe(true);
    expect(waits.slice(100)).toEqual([20, 40, 60]); // 50 qps: one token every 20 ms, queued in order
  });

  it('refills with time, never above the burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    for (let i = 0; i < 5; i++) bucket.reserve();
    expect(bucket.available()).toBe(0);
    await clock.advance(200); // 10 qps × 0.2 s
    expect(bucket.available()).toBeCloseTo(2);
    await clock.advance(60_000);
    expect(bucket.available()).toBe(5);
  });

  it('holds a request until its token is due', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 1, clock);
    await bucket.take();
    let done = false;
    const second = bucket.take().then((waited) => {
      done = true;
      return waited;
    });
    await clock.advance(499);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
    await expect(second).resolves.toBe(500);
  });

  it('gives the token back when a waiting request is aborted', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1, 1, clock);
    bucket.reserve();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    expect(bucket.available()).toBe(-1);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(bucket.available()).toBe(0);
  });

  it('is off with qps Infinity', () => {
    const bucket = new TokenBucket(Infinity, 1, new FakeClock());
    expect(Array.from({ length: 1000 }, () => bucket.reserve()).every((w) => w === 0)).toBe(true);
  });

  it('refuses nonsense limits', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0)).toThrow(RangeError);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe('Semaphore', () => {
  it('admits up to its limit and hands permits over in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];
    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const c = semaphore.acquire().then((release) => (order.push('c'), release));
    const d = semaphore.acquire().then((release) => (order.push('d'), release));
    await settle();
    expect([semaphore.inFlight, semaphore.waiting, order]).toEqual([2, 2, []]);
    a();
    a(); // releasing twice frees one permit only
    await settle();
    expect([semaphore.inFlight, semaphore.waiting, order]).toEqual([2, 1, ['c']]);
    b();
    (await c)();
    (await d)();
    expect([semaphore.inFlight, semaphore.waiting, order]).toEqual([0, 0, ['c', 'd']]);
  });

  it('drops an aborted waiter without losing a permit', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const aborted = semaphore.acquire(controller.signal);
    const next = semaphore.acquire();
    controller.abort(new Error('gone'));
    await expect(aborted).rejects.toThrow('gone');
    release();
    (await next)();
    expect(semaphore.inFlight).toBe(0);
  });
});

describe('ClusterLimiter', () => {
  it('never has more than maxInFlight requests running', async () => {
    const limiter = new ClusterLimiter({ qps: Infinity, burst: 1, maxInFlight: 3 }, new FakeClock());
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const requests = Array.from({ length: 10 }, () =>
      limiter.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running -= 1;
      }),
    );
    for (let finished = 0; finished < 10; finished++) {
      await settle();
      expect(running).toBeLessThanOrEqual(3);
      gates.shift()!();
    }
    await Promise.all(requests);
    expect(peak).toBe(3);
    expect(limiter.stats).toMatchObject({ requests: 10, throttled: 0, peakInFlight: 3 });
  });

  it('releases the slot when a request fails', async () => {
    const limiter = new ClusterLimiter({ qps: Infinity, burst: 1, maxInFlight: 1 }, new FakeClock());
    await expect(limiter.run(() => Promise.reject(new Error('ECONNRESET')))).rejects.toThrow('ECONNRESET');
    await expect(limiter.run(() => Promise.resolve('next'))).resolves.toBe('next');
    expect(limiter.semaphore.inFlight).toBe(0);
  });

  it('sends a burst, then one request per 1/qps, and counts the throttling', async () => {
    const clock = new FakeClock();
    const limiter = new ClusterLimiter({ qps: 10, burst: 5, maxInFlight: 100 }, clock);
    let sent = 0;
    const all = Promise.all(Array.from({ length: 8 }, () => limiter.run(async () => void (sent += 1))));
    await settle();
    expect(sent).toBe(5);
    await clock.advance(100);
    expect(sent).toBe(6);
    await clock.advance(200);
    expect(sent).toBe(8);
    await all;
    expect(clock.sleeps).toEqual([100, 200, 300]);
    expect(limiter.stats).toMatchObject({ requests: 8, throttled: 3, throttledMs: 600 });
  });

  it('throttle() spends a token without taking a slot (for watches)', async () => {
    const limiter = new ClusterLimiter({ qps: 1, burst: 1, maxInFlight: 1 }, new FakeClock());
    const release = await limiter.semaphore.acquire();
    await limiter.throttle(); // does not wait for the held slot
    expect(limiter.bucket.available()).toBe(0);
    release();
  });
});

describe('ClusterRateLimits', () => {
  it('keeps one limiter per cluster, with per-cluster overrides on the defaults', () => {
    const limits = new ClusterRateLimits({ defaults: { maxInFlight: 8 }, clusters: { big: { qps: 200 } }, clock: new FakeClock() });
    expect(limits.for('a')).toBe(limits.for('a'));
    expect(limits.for('a')).not.toBe(limits.for('b'));
    expect(limits.for('a').options).toEqual({ ...DEFAULT_RATE_LIMIT, maxInFlight: 8 });
    expect(limits.for('big').options).toEqual({ qps: 200, burst: 100, maxInFlight: 8 });
  });

  it('defaults far above client-go (5 qps, 10 burst)', () => {
    expect(DEFAULT_RATE_LIMIT).toEqual({ qps: 50, burst: 100, maxInFlight: 32 });
  });
});
