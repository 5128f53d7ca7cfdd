// Fixed-window rate limits, in memory (one API process guards itself; several behind a
// balancer each allow `max`). Callers with a valid token are counted per token; everyone else —
// no token, or a token that is not valid — per client address, so a new bogus header per
// request buys nothing. The windows are bounded in number, whatever the traffic.
import type { RequestHandler, Response } from 'express';
import { ApiError } from '../errors.js';

export interface RateLimitOptions {
  /** Requests allowed per window and key; 0 or less disables the limit. */
  max: number;
  windowMs: number;
  /** How many keys are tracked at most (default 10,000): the oldest windows go first. */
  maxKeys?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { max: 600, windowMs: 60_000 };

export interface Hit {
  limited: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

/** Counts hits per key in fixed windows; never holds more than `maxKeys` windows. */
export class FixedWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly options: RateLimitOptions, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.windows.size;
  }

  hit(key: string): Hit {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.options.windowMs) {
      if (w) this.windows.delete(key);
      this.makeRoom(t);
      w = { start: t, count: 0 };
      this.windows.set(key, w); // insertion order = age: the oldest are evicted first
    }
    w.count += 1;
    const retryAfterSeconds = Math.max(1, Math.ceil((w.start + this.options.windowMs - t) / 1000));
    return { limited: w.count > this.options.max, remaining: Math.max(0, this.options.max - w.count), retryAfterSeconds };
  }

  private makeRoom(t: number): void {
    const cap = this.options.maxKeys ?? 10_000;
    if (this.windows.size < cap) return;
    for (const [k, v] of this.windows) if (t - v.start >= this.options.windowMs) this.windows.delete(k);
    for (const k of this.windows.keys()) {
      if (this.windows.size < cap) break;
      this.windows.delete(k);
    }
  }
}

/** The key for a caller without a valid token: the client's address (never a header it chose). */
export function clientKey(ip: string | undefined): string {
  return `ip:${ip ?? 'unknown'}`;
}

/** Answers 429 (with Retry-After) when the hit is over the limit; sets the RateLimit headers. */
export function enforce(res: Response, hit: Hit, max: number): ApiError | undefined {
  res.setHeader('RateLimit-Limit', String(max));
  res.setHeader('RateLimit-Remaining', String(hit.remaining));
  if (!hit.limited) return undefined;
  res.setHeader('Retry-After', String(hit.retryAfterSeconds));
  return new ApiError(429, 'rate_limited', `too many requests; retry in ${hit.retryAfterSeconds}s`);
}

/**
 * After authentication: per token for callers with a valid one, per client address for public
 * routes. (Callers whose token is missing or not valid are counted by `authenticate` itself,
 * per address, before it answers 401.)
 */
export function rateLimit(options: RateLimitOptions, windows = new FixedWindows(options)): RequestHandler {
  return (req, res, next) => {
    if (options.max <= 0) return next();
    const principal = res.locals.principal as { id: string } | undefined;
    const key = principal ? `token:${principal.id}` : clientKey(req.ip);
    next(enforce(res, windows.hit(key), options.max));
  };
}
