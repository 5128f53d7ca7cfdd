// The discoverClusters activity (activities/discovery.ts) over stand-in adapters: what leaves the
// worker is named field by field (nothing an adapter adds rides along), and cloud errors become
// failures a workflow retries, or not.
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createDiscoveryActivities } from '../../activities/discovery.js';
import type { CloudAdapters } from '../../providers/cloud/adapters.js';
import type { ClusterCandidate } from '../../providers/cloud/candidate.js';
import type { EksAdapter } from '../../providers/cloud/eks.js';
import { CloudProviderError } from '../../providers/cloud/errors.js';

const eksReturning = (found: () => Promise<ClusterCandidate[]>): CloudAdapters => ({ eks: { discover: found } as unknown as EksAdapter });

describe('discoverClusters activity', () => {
  it('returns the candidates with the fields it names, and no others', async () => {
    const candidate = {
      name: 'prod', suggestedName: 'prod', connection: { provider: 'eks', region: 'eu-west-1', clusterName: 'prod' }, region: 'eu-west-1',
      version: '1.31', status: 'ACTIVE', ready: true, nodeCount: 5, tags: { tier: 'prod' },
      endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', caData: 'LS0tLS1CRUdJTi1DRVJU', token: 'k8s-aws-v1.should-never-leave',
    } as ClusterCandidate;
    const { discoverClusters } = createDiscoveryActivities({ cloud: eksReturning(async () => [candidate]) });
    expect(await discoverClusters({ provider: 'eks', account: { regions: ['eu-west-1'] } })).toEqual([{
      name: 'prod', suggestedName: 'prod', connection: { provider: 'eks', region: 'eu-west-1', clusterName: 'prod' }, region: 'eu-west-1',
      version: '1.31', status: 'ACTIVE', ready: true, nodeCount: 5, tags: { tier: 'prod' },
    }]);
  });

  it('a throttled cloud is a retryable failure; a rejected credential is not', async () => {
    const throttled = createDiscoveryActivities({
      cloud: eksReturning(async () => { throw new CloudProviderError({ provider: 'eks', operation: 'listClusters', kind: 'throttled', message: 'throttled on region eu-west-1: Rate exceeded' }); }),
    });
    const a = await throttled.discoverClusters({ provider: 'eks', account: {} }).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(ApplicationFailure);
    expect(a).toMatchObject({ type: 'Cloudthrottled', nonRetryable: false, message: 'eks listClusters: throttled on region eu-west-1: Rate exceeded' });

    const rejected = createDiscoveryActivities({
      cloud: eksReturning(async () => { throw new CloudProviderError({ provider: 'eks', operation: 'listClusters', kind: 'unauthenticated', message: 'credentials were rejected' }); }),
    });
    expect(await rejected.discoverClusters({ provider: 'eks', account: {} }).catch((e: unknown) => e)).toMatchObject({ type: 'Cloudunauthenticated', nonRetryable: true });
  });

  it('a provider without an adapter, or a worker without any, is named as such and not retried', async () => {
    const noGke = createDiscoveryActivities({ cloud: eksReturning(async () => []) });
    expect(await noGke.discoverClusters({ provider: 'gke', account: { project: 'acme-prod' } }).catch((e: unknown) => e)).toMatchObject({
      type: 'ProviderNotConfigured', nonRetryable: true, message: expect.stringContaining('this worker has no gke adapter configured'),
    });
    const none = createDiscoveryActivities({});
    expect(await none.discoverClusters({ provider: 'eks', account: {} }).catch((e: unknown) => e)).toMatchObject({
      type: 'ProviderNotConfigured', nonRetryable: true, message: 'this worker has no cloud adapters configured',
    });
  });

  it('bad account input is refused, naming the field, not retried', async () => {
    const { discoverClusters } = createDiscoveryActivities({ cloud: eksReturning(async () => []) });
    expect(await discoverClusters({ provider: 'eks', account: { regions: ['Europe'] } }).catch((e: unknown) => e)).toMatchObject({
      type: 'Cloudinvalid-input', nonRetryable: true, message: 'eks discover: invalid account: regions.0: is not an AWS region (e.g. eu-west-1)',
    });
  });
});
