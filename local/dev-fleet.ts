// The dev command's fleet (README's table): each cluster's labels, and the tiers it accepts
// beyond its `tier` label's (domain/placement.ts). examples/shop.yaml runs on it as it is:
// shop-staging on local-dev, which an admin opened to staging; the prod environments on the
// prod clusters.
import type { Tier } from '../domain/environment.js';

export interface DevCluster {
  name: string;
  labels: Record<string, string>;
  allowedTiers?: readonly Tier[];
}

export const DEV_FLEET: readonly DevCluster[] = [
  { name: 'local-dev', labels: { tier: 'dev', geo: 'us' }, allowedTiers: ['staging'] },
  { name: 'local-prod-us', labels: { tier: 'prod', geo: 'us' } },
  { name: 'local-prod-eu', labels: { tier: 'prod', geo: 'eu' } },
];
