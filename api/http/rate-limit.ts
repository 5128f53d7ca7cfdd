// A fixed-window rate limit per token (or per client address without one). In memory: one
// API process guards itself; several behind a balancer each allow `max`.
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from '../errors.js';

export interface RateLimitOptions {
  /** Requests allowed per window and key; 0 or less disables the limit. */
  max: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { max: 600, windowMs: 60_000 };

export function rateLimit(options: RateLimitOptions, now: () => number = Date.now): RequestHandler {
  const windows = new Map<string, { start: number; count: number }>();
  return (req, res, next) => {
    if (options.max <= 0) return next();
    const auth = req.get('authorization');
    // The key never holds the token itself.
    const key = auth ? `t:${createHash('sha256').update(auth).digest('hex').slice(0, 32)}` : `ip:${req.ip ?? 'unknown'}`;
    const t = now();
    let w = windows.get(key);
    if (!w || t - w.start >= options.windowMs) {
      if (windows.size > 10_000) for (const [k, v] of windows) if (t - v.start >= options.windowMs) windows.delete(k);
      w = { start: t, count: 0 };
      windows.set(key, w);
    }
    w.count += 1;
    res.setHeader('RateLimit-Limit', String(options.max));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, options.max - w.count)));
    if (w.count > options.max) {
      const retry = Math.ceil((w.start + options.windowMs - t) / 1000);
      res.setHeader('Retry-After', String(Math.max(1, retry)));
      return next(new ApiError(429, 'rate_limited', `too many requests; retry in ${Math.max(1, retry)}s`));
    }
    next();
  };
}
