// ClusterRateLimits with the shipped defaults that also count, per activity type, how many
// Kubernetes requests went out and how long each took (queueing under the limiter included).
// Every request of the Kubernetes layer passes through its cluster's limiter, and activities
// run inside Temporal's activity context, so the activity a request belongs to is known.
import { Context } from '@temporalio/activity';
import { ClusterLimiter, ClusterRateLimits, DEFAULT_RATE_LIMIT } from '../../providers/kubernetes/rate-limit.js';

export interface RequestStats {
  requests: number;
  totalMs: number;
  latencies: number[];
}

function activityType(): string {
  try {
    return Context.current().info.activityType;
  } catch {
    return '(no activity)';
  }
}

class CountingLimiter extends ClusterLimiter {
  constructor(private readonly sink: Map<string, RequestStats>) {
    super(DEFAULT_RATE_LIMIT);
  }

  override async run<T>(request: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const type = activityType();
    const t0 = performance.now();
    try {
      return await super.run(request, signal);
    } finally {
      const ms = performance.now() - t0;
      const s = this.sink.get(type) ?? { requests: 0, totalMs: 0, latencies: [] };
      s.requests += 1;
      s.totalMs += ms;
      s.latencies.push(ms);
      this.sink.set(type, s);
    }
  }
}

export class CountingRateLimits extends ClusterRateLimits {
  /** Per activity type, over every cluster; reset() between measurements. */
  readonly byActivity = new Map<string, RequestStats>();
  private readonly own = new Map<string, CountingLimiter>();

  override for(cluster: string): ClusterLimiter {
    let limiter = this.own.get(cluster);
    if (!limiter) {
      limiter = new CountingLimiter(this.byActivity);
      this.own.set(cluster, limiter);
    }
    return limiter;
  }

  allLimiters(): ClusterLimiter[] {
    return [...this.own.values()];
  }

  reset(): void {
    this.byActivity.clear();
  }
}
