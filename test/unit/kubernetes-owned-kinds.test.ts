// A cluster onboarded before Flotilla rendered CronJobs (or charts' DaemonSets) has a baseline
// whose agent may not list them: prune's and teardown's lists of that kind read as empty there (nothing of it can be
// Flotilla's yet), while any other refusal still fails loudly.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../providers/kubernetes/client.js';
import { listOwnedKind } from '../../providers/kubernetes/read.js';

/** A client whose every request is refused with `status`. */
function refusing(status: number): KubeClient {
  return {
    path: async () => '/apis/batch/v1/namespaces/shop/cronjobs',
    request: async () => {
      throw new ApiException(status, 'forbidden', { kind: 'Status', code: status, message: 'cronjobs.batch is forbidden' }, {});
    },
  } as unknown as KubeClient;
}

describe('listOwnedKind', () => {
  it('reads a CronJob list the agent may not make (403) as empty', async () => {
    expect(await listOwnedKind(refusing(403), { apiVersion: 'batch/v1', kind: 'CronJob', namespace: 'shop' })).toEqual({ items: [] });
  });

  it('reads a DaemonSet list the agent may not make (403) as empty: charts brought them later', async () => {
    expect(await listOwnedKind(refusing(403), { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'shop' })).toEqual({ items: [] });
  });

  it('fails on a 403 for any other kind, and on other errors for CronJobs', async () => {
    await expect(listOwnedKind(refusing(403), { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop' })).rejects.toThrow();
    await expect(listOwnedKind(refusing(500), { apiVersion: 'batch/v1', kind: 'CronJob', namespace: 'shop' })).rejects.toThrow();
  });
});
