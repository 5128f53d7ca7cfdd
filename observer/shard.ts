// Observer sharding: several observers on one catalog split the clusters between them, each
// holding at most its fair share (the clusters divided by the observers alive, rounded up). An
// observer is alive while its presence lease runs (renewed every sync, like a cluster's lease),
// so one that has just started — holding no cluster yet — is counted, and the others give it
// clusters by releasing what they hold above the new share. One that dies stops renewing; its
// leases lapse, and the others' shares grow to take its clusters.

/** A row of the observer leases: a cluster's, or an observer's presence (presenceKey). */
export interface LeaseRow {
  cluster: string;
  holder: string;
  expiresAt: string;
}

const PRESENCE = '@observer/';

/** The lease an observer renews to say it is alive; no cluster is named so (names are DNS labels). */
export function presenceKey(observer: string): string {
  return `${PRESENCE}${observer}`;
}

export interface ShardPlan {
  /** Clusters to take or renew, in order. */
  hold: string[];
  /** Clusters this observer holds above its share: to give up now. */
  release: string[];
  /** This observer's share, and how many observers it was counted among. */
  share: number;
  observers: number;
}

/**
 * What `me` should hold of `clusters` (the observed ones) given every lease as of `now`: what it
 * holds already first (no needless hand-overs), then free clusters (no lease, or a lapsed one),
 * up to its share. Clusters another live observer holds are never taken.
 */
export function shardPlan(clusters: readonly string[], leases: readonly LeaseRow[], me: string, now: string): ShardPlan {
  const live = (l: LeaseRow) => l.expiresAt > now;
  const observers = new Set(leases.filter((l) => l.cluster.startsWith(PRESENCE) && live(l)).map((l) => l.holder));
  observers.add(me);
  const share = Math.ceil(clusters.length / observers.size);
  const leaseOf = new Map(leases.filter((l) => !l.cluster.startsWith(PRESENCE)).map((l) => [l.cluster, l]));
  const sorted = [...clusters].sort();
  const mine = sorted.filter((c) => leaseOf.get(c)?.holder === me);
  const free = sorted.filter((c) => {
    const lease = leaseOf.get(c);
    return !lease || (lease.holder !== me && !live(lease));
  });
  const kept = mine.slice(0, share);
  return {
    hold: [...kept, ...free.slice(0, Math.max(0, share - kept.length))],
    release: mine.slice(share),
    share,
    observers: observers.size,
  };
}
