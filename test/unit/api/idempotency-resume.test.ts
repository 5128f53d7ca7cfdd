// A request with an Idempotency-Key whose API process died mid-way (the key's claim left
// pending) is finished by a retry with the same key once the claim's lease has passed: the
// operation the first attempt reserved is started once, or only recorded when Temporal already
// has it, never a second one. The "dead" attempt is a request whose start never returns.
import { afterEach, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_LEASE_MS } from '../../../store/idempotency.js';
import { kubeconfigCluster, RecordingStarter, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { until } from '../workflows/stubs.js';

type ErrorBody = { error: { code: string } };

/** A starter whose first deploy start never answers, like an API process that died in it: before Temporal had the start, or after. */
class DyingStarter extends RecordingStarter {
  starts = 0;
  constructor(private readonly diesAfterTemporalHasIt: boolean) {
    super();
  }

  override async start(workflowType: string, args: unknown[], workflowId: string) {
    if (workflowType !== 'deployEnvironment' || ++this.starts > 1) return super.start(workflowType, args, workflowId);
    if (this.diesAfterTemporalHasIt) await super.start(workflowType, args, workflowId);
    return new Promise<never>(() => {});
  }
}

describe('Idempotency-Key: a retry after the API died mid-request', () => {
  let api: TestApi;
  let starter: DyingStarter;
  let clock: number;
  const headers = { 'idempotency-key': 'deploy-after-crash-1' };
  const deployStarts = () => starter.calls.filter((c) => c.workflowType === 'deployEnvironment').map((c) => c.workflowId);
  const deploy = () => api.request<{ operationId: string } & ErrorBody>('POST', '/v1/environments/shop-a/deploy', { body: {}, headers });

  async function setUp(diesAfterTemporalHasIt: boolean) {
    starter = new DyingStarter(diesAfterTemporalHasIt);
    clock = Date.parse('2026-12-01T10:00:00Z');
    api = await startTestApi({ operations: starter, now: () => new Date(clock) });
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('dev-a', { tier: 'dev' }) })).status).toBe(202);
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-a', cluster: 'dev-a', tier: 'dev' }) })).status).toBe(201);
    // The first attempt: its start never comes back; the client gives up on it.
    const abort = new AbortController();
    void fetch(`${api.base}/v1/environments/shop-a/deploy`, {
      method: 'POST', signal: abort.signal, body: '{}',
      headers: { ...headers, 'content-type': 'application/json', authorization: `Bearer ${api.admin}` },
    }).catch(() => undefined);
    await until('the first attempt to be starting', () => starter.starts === 1);
    abort.abort();
  }
  afterEach(() => api?.close());

  it('within the lease a retry is told the first attempt still runs (409); after it, the reserved operation is started once', async () => {
    await setUp(false);
    const early = await deploy();
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('idempotency_key_in_progress');

    clock += IDEMPOTENCY_LEASE_MS + 1_000;
    const retry = await deploy();
    expect(retry.status).toBe(202);
    // The id the first attempt reserved, started now: one start in all.
    expect(retry.body.operationId).toMatch(/^deploy-shop-a-[0-9a-f]+-1$/);
    expect(deployStarts()).toEqual([retry.body.operationId]);
    expect((await api.catalog.locks.heldBy(['shop-a'])).map((l) => l.operationId)).toEqual([retry.body.operationId]);
    // And the key now replays that answer.
    const again = await deploy();
    expect(again.status).toBe(202);
    expect(again.body.operationId).toBe(retry.body.operationId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('when Temporal already had the first attempt\'s start, the retry only records it: no second workflow', async () => {
    await setUp(true);
    const [first] = deployStarts();
    clock += IDEMPOTENCY_LEASE_MS + 1_000;
    const retry = await deploy();
    expect(retry.status).toBe(202);
    expect(retry.body.operationId).toBe(first);
    expect(deployStarts()).toEqual([first]);
    expect((await api.catalog.operations.require(first!)).kind).toBe('deploy');
  });
});
