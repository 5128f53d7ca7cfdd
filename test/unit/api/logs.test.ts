// GET /v1/environments/{name}/logs without a real cluster: the query's bounds (400 naming the
// field), 404, tier scopes, content negotiation, and a cluster that cannot be reached (connection
// refused on a port just closed) answered 200 with an error event and an end, never a 500.
// Lines from real pods: test/integration/logs.test.ts.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogsQuery } from '../../../api/services/log-query.js';
import { negotiateLogFormat } from '../../../api/services/log-format.js';
import { kubeconfigCluster, startTestApi, testKubeconfig, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

/** A port nothing listens on any more: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('GET /v1/environments/{name}/logs', () => {
  let api: TestApi;
  let devViewer: string;
  let viewer: string;
  beforeAll(async () => {
    api = await startTestApi();
    const port = await closedPort();
    for (const [name, tier] of [['dev-1', 'dev'], ['prod-1', 'prod'], ['prod-2', 'prod']] as const) {
      const kubeconfig = testKubeconfig(name).replace('https://127.0.0.1:6443', `https://127.0.0.1:${port}`);
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, { tier }, kubeconfig) })).status).toBe(202);
    }
    for (const [name, tier, cluster] of [['shop-dev', 'dev', 'dev-1'], ['shop-us', 'prod', 'prod-1'], ['shop-eu', 'prod', 'prod-2']] as const) {
      expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier, cluster }) })).status).toBe(201);
    }
    devViewer = await api.token('viewer', ['dev']);
    viewer = await api.token('viewer');
  });
  afterAll(() => api?.close());

  const ndjson = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('refuses bad query values with 400 naming each field', async () => {
    const cases: [string, string][] = [
      ['tail=5001', 'query.tail'], ['tail=-1', 'query.tail'], ['tail=ten', 'query.tail'],
      ['since=forever', 'query.since'], ['since=0', 'query.since'],
      ['timeout=31m', 'query.timeout'], ['timeout=0s', 'query.timeout'],
      ['follow=maybe', 'query.follow'], ['scope=fleet', 'query.scope'],
      ['limitBytes=0', 'query.limitBytes'], ['limitBytes=4194305', 'query.limitBytes'],
      ['service=Not_A_Name', 'query.service'], ['service=nope', 'query.service'],
      ['tail=1&tail=2', 'query.tail'], ['services=web', 'query.services'],
    ];
    for (const [query, path] of cases) {
      const res = await api.request<{ error: { code: string; details: { path: string }[] } }>('GET', `/v1/environments/shop-us/logs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.details.map((d) => d.path), query).toContain(path);
    }
  });

  it('reads the defaults and bounds of the query', () => {
    expect(LogsQuery.parse({})).toEqual({ tail: 100, follow: false, scope: 'environment', timeout: 300, limitBytes: 4 * 1024 * 1024, timestamps: false });
    expect(LogsQuery.parse({ since: '1h30m', tail: '0', follow: 'true', timeout: '30m', limitBytes: '10' }))
      .toMatchObject({ since: 5400, tail: 0, follow: true, timeout: 1800, limitBytes: 10 });
    expect(LogsQuery.parse({ since: '90', tail: '5000' })).toMatchObject({ since: 90, tail: 5000 });
  });

  it('answers 404 for an unknown environment, 401 without a token', async () => {
    expect((await api.request('GET', '/v1/environments/nowhere/logs')).status).toBe(404);
    expect((await api.request('GET', '/v1/environments/shop-us/logs', { token: null })).status).toBe(401);
  });

  it('binds reading logs to a token\'s tiers: a dev-scoped viewer gets 403 on prod, alone or across the application', async () => {
    for (const query of ['', '?scope=application', '?follow=true']) {
      const res = await api.request<{ error: { message: string } }>('GET', `/v1/environments/shop-us/logs${query}`, { token: devViewer });
      expect(res.status, query).toBe(403);
      expect(res.body.error.message).toContain('may read tiers dev only, not prod');
    }
    expect((await api.request('GET', '/v1/environments/shop-dev/logs', { token: devViewer })).status).toBe(200);
    expect((await api.request('GET', '/v1/environments/shop-us/logs', { token: viewer })).status).toBe(200);
    // The plain read of the same environment stays open to it.
    expect((await api.request('GET', '/v1/environments/shop-us', { token: devViewer })).status).toBe(200);
  });

  it('answers 200 for a cluster it cannot reach: an error event for it, then the end', async () => {
    const res = await api.request('GET', '/v1/environments/shop-us/logs', { headers: { accept: 'application/x-ndjson' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(ndjson(res.text)).toEqual([
      { type: 'error', environment: 'shop-us', cluster: 'prod-1', reason: 'ECONNREFUSED', message: expect.stringContaining('ECONNREFUSED') },
      { type: 'end', reason: 'complete', message: 'all logs read', lines: 0, bytes: 0 },
    ]);
  });

  it('with scope=application reads every environment of the application and tier, each on its own cluster', async () => {
    const res = await api.request('GET', '/v1/environments/shop-us/logs?scope=application&follow=true', { headers: { accept: 'application/x-ndjson' } });
    expect(res.status).toBe(200);
    const events = ndjson(res.text);
    expect(events.filter((e) => e.type === 'error').map((e) => `${String(e.environment)}@${String(e.cluster)}`).sort()).toEqual(['shop-eu@prod-2', 'shop-us@prod-1']);
    // Nothing left to follow: the stream ends at once instead of waiting for the timeout.
    expect(events.at(-1)).toEqual({ type: 'end', reason: 'complete', message: 'every log stream was closed', lines: 0, bytes: 0 });
  });

  it('speaks server-sent events, NDJSON or plain text, as the Accept header asks', async () => {
    const sse = await api.request('GET', '/v1/environments/shop-eu/logs', { headers: { accept: 'text/event-stream' } });
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    expect(sse.text).toMatch(/^event: error\ndata: \{"type":"error","environment":"shop-eu","cluster":"prod-2",.*\}\n\nevent: end\ndata: \{"type":"end","reason":"complete".*\}\n\n$/s);
    const text = await api.request('GET', '/v1/environments/shop-eu/logs');
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.text).toMatch(/^! \[prod-2\] ECONNREFUSED: .*\n-- end: all logs read \(0 lines, 0 bytes\)\n$/);
    expect(negotiateLogFormat('application/json, text/event-stream;q=0.5')).toBe('sse');
    expect(negotiateLogFormat('text/event-stream;q=0.2, application/x-ndjson;q=0.9')).toBe('ndjson');
    expect(negotiateLogFormat('text/event-stream;q=0')).toBe('text');
    expect(negotiateLogFormat(undefined)).toBe('text');
  });

  it('is in the OpenAPI document with its query and media types', async () => {
    const doc = (await api.request<{ paths: Record<string, { get?: { parameters: { name: string }[]; responses: Record<string, { content?: Record<string, unknown> }> } }> }>('GET', '/v1/openapi.json')).body;
    const op = doc.paths['/v1/environments/{name}/logs']!.get!;
    expect(op.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['name', 'service', 'since', 'tail', 'follow', 'scope', 'timeout', 'limitBytes', 'timestamps', 'Accept']));
    expect(Object.keys(op.responses['200']!.content!).sort()).toEqual(['application/x-ndjson', 'text/event-stream', 'text/plain']);
    expect(op.responses['403']).toBeDefined();
  });
});
