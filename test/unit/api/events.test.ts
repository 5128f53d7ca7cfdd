// GET /v1/events over a real in-process API and catalog: `hello` and the fleet's ETag first,
// then `drift` and `fleet` when an observer writes drift, `operation` when an operation is
// recorded and when it changes; the stream ends at its timeout; bad input is a 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectDrift } from '../../../domain/drift.js';
import { kubeconfigCluster, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

interface Sse { event: string; data: Record<string, unknown> }

/** Reads server-sent events as they come, parsed independently of the server's code. */
async function openEvents(api: TestApi, query = '') {
  const abort = new AbortController();
  const res = await fetch(`${api.base}/v1/events${query}`, { headers: { authorization: `Bearer ${api.admin}`, accept: 'text/event-stream' }, signal: abort.signal });
  const received: Sse[] = [];
  const comments: string[] = [];
  let ended = false;
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (block.startsWith(':')) comments.push(block);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) received.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  const next = async (pick: (e: Sse) => boolean, timeoutMs = 5_000): Promise<Sse> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = received.find(pick);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(received)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { res, received, next, close: () => abort.abort(), reading, ended: () => ended };
}

describe('GET /v1/events', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('prod-1', { tier: 'prod' }) })).status).toBe(202);
    await api.catalog.clusters.updateStatus('prod-1', { status: 'ready' });
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-prod', tier: 'prod', cluster: 'prod-1' }) })).status).toBe(201);
    const now = new Date();
    expect(await api.catalog.observations.acquireLease('prod-1', 'obs', now.toISOString(), new Date(now.getTime() + 3_600_000).toISOString())).toBe(true);
  });
  afterAll(async () => api?.close());

  it('says hello with the fleet ETag, then tells drift, fleet changes and operations as they happen', { timeout: 20_000 }, async () => {
    const stream = await openEvents(api);
    try {
      expect(stream.res.status).toBe(200);
      expect(stream.res.headers.get('content-type')).toBe('text/event-stream');
      await stream.next((e) => e.event === 'hello');
      const first = await stream.next((e) => e.event === 'fleet');
      expect(first.data.etag).toBe((await api.request('GET', '/v1/fleet')).headers.get('etag'));

      const drift: ObjectDrift = { kind: 'Deployment', name: 'web', reason: 'modified', fields: [{ path: 'spec.replicas', expected: 1, actual: 3 }] };
      await api.catalog.observations.writeEnvironment('obs', { environment: 'shop-prod', cluster: 'prod-1', health: 'healthy', drift: [drift], services: [], at: new Date().toISOString() });
      expect((await stream.next((e) => e.event === 'drift')).data).toEqual({ environment: 'shop-prod', drifted: true, objects: 1 });
      const changed = await stream.next((e) => e.event === 'fleet' && e.data.etag !== first.data.etag);
      expect(changed.data.etag).toBe((await api.request('GET', '/v1/fleet')).headers.get('etag'));

      await api.catalog.operations.record({ id: 'deploy-shop-prod-1', kind: 'deploy', environments: ['shop-prod'], clusters: ['prod-1'], requestedBy: 'ann' });
      expect((await stream.next((e) => e.event === 'operation')).data).toMatchObject({ id: 'deploy-shop-prod-1', kind: 'deploy', state: 'running' });
      await api.catalog.operations.report({ id: 'deploy-shop-prod-1', kind: 'deploy', state: 'completed', outcome: 'completed' });
      expect((await stream.next((e) => e.event === 'operation' && e.data.state === 'completed')).data).toMatchObject({ id: 'deploy-shop-prod-1', outcome: 'completed' });
    } finally {
      stream.close();
    }
  });

  it('ends at its timeout', async () => {
    const started = Date.now();
    const stream = await openEvents(api, '?timeout=1');
    await stream.reading;
    expect(stream.ended()).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(stream.received.map((e) => e.event).slice(0, 2)).toEqual(['hello', 'fleet']);
  });

  it('refuses a bad timeout with 400 naming it', async () => {
    for (const timeout of ['0', '3601', 'soon']) {
      const res = await api.request<{ error: { details: { path: string }[] } }>('GET', `/v1/events?timeout=${timeout}`);
      expect(res.status, timeout).toBe(400);
      expect(res.body.error.details.map((d) => d.path)).toContain('query.timeout');
    }
  });
});
