// Client-side flow control per cluster, like client-go's token bucket (rest.Config QPS/Burst)
// plus a bound on requests in flight. Every request of the Kubernetes layer goes through the
// limiter of its cluster (see client.ts), so one busy environment cannot flood an API server
// and Flotilla stays a polite client even when many workflows target the same cluster.
import { systemClock, type Clock } from './clock.js';

export interface RateLimitOptions {
  /** Sustained requests per second; Infinity turns the bucket off. */
  qps: number;
  /** Requests that may go at once after a quiet period. */
  burst: number;
  /** Requests awaiting a response at the same time. */
  maxInFlight: number;
}

/**
 * Far above client-go's 5 qps / 10 burst: Flotilla applies whole environments at once, and
 * API servers since 1.29 protect themselves with API Priority and Fairness anyway.
 */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { qps: 50, burst: 100, maxInFlight: 32 };

/**
 * A token bucket with reservations, as golang.org/x/time/rate: `reserve` takes a token now,
 * possibly going into debt, and says how long to wait before using it. Debt makes callers
 * queue in arrival order without a timer per waiter re-checking the bucket.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(qps > 0)) throw new RangeError(`qps must be positive, got ${qps}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be at least 1, got ${burst}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Tokens available now (negative while reservations are in debt). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes one token; returns the milliseconds to wait before it may be used (0: at once). */
  reserve(): number {
    if (this.qps === Infinity) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** Gives back a reserved token its caller will not use (it aborted while waiting). */
  cancel(): void {
    if (this.qps === Infinity) return;
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Waits for a token; an abort gives the reservation back. */
  async take(signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const wait = this.reserve();
    if (wait > 0) {
      try {
        await this.clock.sleep(wait, signal);
      } catch (error) {
        this.cancel();
        throw error;
      }
    }
    return wait;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.qps) / 1000);
    this.last = now;
  }
}

interface Waiter {
  grant: (release: () => void) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** A counting semaphore that hands permits to waiters in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${limit}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a permit is free; release is idempotent. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((grant, reject) => {
      const waiter: Waiter = { grant, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) {
        // The permit passes straight to the next waiter: `active` stays the same.
        if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
        next.grant(this.releaser());
      } else {
        this.active -= 1;
      }
    };
  }
}

export interface LimiterStats {
  requests: number;
  /** Requests that had to wait for a token. */
  throttled: number;
  /** Total milliseconds spent waiting for tokens. */
  throttledMs: number;
  /** Highest number of requests in flight at once. */
  peakInFlight: number;
}

/** The token bucket and in-flight bound of one cluster. */
export class ClusterLimiter {
  readonly bucket: TokenBucket;
  readonly semaphore: Semaphore;
  readonly stats: LimiterStats = { requests: 0, throttled: 0, throttledMs: 0, peakInFlight: 0 };

  constructor(
    readonly options: RateLimitOptions = DEFAULT_RATE_LIMIT,
    clock: Clock = systemClock,
  ) {
    this.bucket = new TokenBucket(options.qps, options.burst, clock);
    this.semaphore = new Semaphore(options.maxInFlight);
  }

  /**
   * Runs one request under both limits. The permit is taken first so that the token is spent
   * at the moment the request really goes out: tokens measure sends, not queueing.
   */
  async run<T>(request: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.semaphore.acquire(signal);
    try {
      await this.throttle(signal);
      this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.semaphore.inFlight);
      return await request();
    } finally {
      release();
    }
  }

  /**
   * Spends a token without holding a permit: for long-lived requests (watches, followed logs)
   * that would otherwise pin a slot for minutes.
   */
  async throttle(signal?: AbortSignal): Promise<void> {
    this.stats.requests += 1;
    const waited = await this.bucket.take(signal);
    if (waited > 0) {
      this.stats.throttled += 1;
      this.stats.throttledMs += waited;
    }
  }
}

export interface ClusterRateLimitsOptions {
  defaults?: Partial<RateLimitOptions>;
  /** Per cluster name, on top of the defaults. */
  clusters?: Record<string, Partial<RateLimitOptions>>;
  clock?: Clock;
}

/** One limiter per cluster, created on first use and shared by every caller in the process. */
export class ClusterRateLimits {
  private readonly limiters = new Map<string, ClusterLimiter>();

  constructor(private readonly options: ClusterRateLimitsOptions = {}) {}

  for(cluster: string): ClusterLimiter {
    let limiter = this.limiters.get(cluster);
    if (!limiter) {
      limiter = new ClusterLimiter(
        { ...DEFAULT_RATE_LIMIT, ...this.options.defaults, ...this.options.clusters?.[cluster] },
        this.options.clock,
      );
      this.limiters.set(cluster, limiter);
    }
    return limiter;
  }
}
