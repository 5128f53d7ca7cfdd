import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';

describe('createApp', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const app = createApp({
      listClusters: async () => [{ name: 'local-dev', provider: 'kubeconfig', labels: { tier: 'dev' }, status: 'ready' }],
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lists clusters', async () => {
    const res = await fetch(`${base}/v1/clusters`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [{ name: 'local-dev', provider: 'kubeconfig', labels: { tier: 'dev' }, status: 'ready' }] });
  });

  it('answers an unknown cluster with 404 in the error shape', async () => {
    const res = await fetch(`${base}/v1/clusters/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'cluster "nope" not found' } });
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await fetch(`${base}/v1/clusters`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('malformed_json');
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await fetch(`${base}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('serves the dashboard at /', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>Flotilla');
  });
});
