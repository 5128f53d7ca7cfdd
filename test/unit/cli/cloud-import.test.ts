// `flotilla cluster import|discover` against the in-process API (discovery answered by a stand-in
// for the worker): the request each command sends, the table it prints, and usage errors that
// name the flag before anything is sent.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DiscoverClustersInput, DiscoveredCluster } from '../../../activities/discovery-types.js';
import { run } from '../../../cli/program.js';
import { RecordingStarter, startTestApi, type TestApi } from '../../support/api-server.js';

class FakeWorker extends RecordingStarter {
  readonly asked: DiscoverClustersInput[] = [];
  async execute(_type: string, args: unknown[]): Promise<DiscoveredCluster[]> {
    this.asked.push(args[0] as DiscoverClustersInput);
    return [
      { name: 'prod-weu', suggestedName: 'prod-weu', connection: { provider: 'aks', subscriptionId: SUB, resourceGroup: 'rg', clusterName: 'prod-weu' }, region: 'westeurope', version: '1.31.2', status: 'Succeeded/Running', ready: true, nodeCount: 8, tags: { tier: 'prod' } },
      { name: 'Legacy_1', suggestedName: 'legacy-1', connection: { provider: 'aks', subscriptionId: SUB, resourceGroup: 'rg', clusterName: 'Legacy_1' }, region: 'northeurope', status: 'Succeeded/Stopped', ready: false },
    ];
  }
}
const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';

describe('flotilla cluster import', () => {
  let api: TestApi;
  const worker = new FakeWorker();
  beforeAll(async () => {
    api = await startTestApi({ operations: worker });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    worker.asked.length = 0;
  });

  async function flotilla(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(args, { out: (t) => void out.push(t), err: (t) => void err.push(t), readStdin: async () => '' }, { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: api.admin, HOME: '/nonexistent' });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('discover prints what the worker found', async () => {
    const res = await flotilla('cluster', 'discover', 'aks', '--subscription', SUB, '--resource-group', 'rg');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toBe([
      'NAME       REGION        STATUS              VERSION   NODES   TAGS',
      'prod-weu   westeurope    Succeeded/Running   1.31.2    8       tier=prod',
      'Legacy_1   northeurope   Succeeded/Stopped',
    ].join('\n'));
    expect(worker.asked).toEqual([{ provider: 'aks', account: { subscriptionId: SUB, resourceGroup: 'rg' } }]);
  });

  it('imports the named clusters and prints each with its onboarding operation', async () => {
    const res = await flotilla('cluster', 'import', 'aks', '--subscription', SUB, 'Legacy_1', '--label', 'geo=eu,team=core', '--allowed-tiers', 'dev,staging');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toBe([
      'NAME       CLOUD NAME   REGION        ACTION    OPERATION          LABELS',
      'legacy-1   Legacy_1     northeurope   created   onboard-legacy-1   flotilla.dev/provider=aks,topology.kubernetes.io/region=northeurope,geo=eu,team=core',
    ].join('\n'));
    expect(await api.catalog.clusters.require('legacy-1')).toMatchObject({ allowedTiers: ['dev', 'staging'], labels: { geo: 'eu', team: 'core' } });
    // Again with --all: the one registered is unchanged.
    const all = await flotilla('cluster', 'import', 'aks', '--subscription', SUB, '--all');
    expect(all.out.split('\n').map((l) => l.split(/\s{3,}/).slice(0, 5))).toEqual([
      ['NAME', 'CLOUD NAME', 'REGION', 'ACTION', 'OPERATION'],
      ['prod-weu', 'prod-weu', 'westeurope', 'created', 'onboard-prod-weu'],
      ['legacy-1', 'Legacy_1', 'northeurope', 'unchanged', '-'],
    ]);
  });

  it.each([
    [['cluster', 'import', 'aks', '--subscription', SUB], 'error: name the clusters to import, or give --all'],
    [['cluster', 'import', 'aks', '--subscription', SUB, '--all', 'x'], 'error: give --all or cluster names, not both'],
    [['cluster', 'import', 'eks', '--all', '--project', 'p'], 'error: --project does not apply to eks (it takes --region, --role-arn)'],
    [['cluster', 'import', 'gke', '--all'], 'error: gke needs --project'],
    [['cluster', 'import', 'openstack', '--all'], 'error: unknown provider "openstack" (eks, gke, aks, kubeconfig)'],
    [['cluster', 'import', 'eks', '--all', '--label', 'nolabel'], 'error: --label "nolabel" is not KEY=VALUE'],
  ])('%j is a usage error (exit 2), sent to no one', async (args, message) => {
    const res = await flotilla(...args);
    expect(res.code).toBe(2);
    expect(res.err).toBe(message);
    expect(worker.asked).toEqual([]);
  });

  it("the server's refusals come back with their field paths (exit 2)", async () => {
    const res = await flotilla('cluster', 'import', 'eks', '--region', 'Europe', '--all');
    expect(res.code).toBe(2);
    expect(res.err).toBe('error: request is invalid (invalid_request)\n  regions[0]: is not an AWS region (e.g. eu-west-1)');
  });
});
