// How the API serves the dashboard (web/dist): its files, index.html for client-side routes
// (any GET outside /v1 that accepts HTML), /v1 answered by the API first (never by index.html),
// and the public config the dashboard reads to link operations to the Temporal UI.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, dashboardConfig } from '../../../api/app.js';
import { createLogger } from '../../../api/http/logger.js';
import { startTestApi, type TestApi } from '../../support/api-server.js';

describe('the dashboard, served by the API', () => {
  let api: TestApi;
  let base: string;
  let close: () => Promise<void>;
  let root: string;
  const INDEX = '<!doctype html><title>Flotilla</title><div id="root"></div>';

  beforeAll(async () => {
    api = await startTestApi();
    root = mkdtempSync(join(tmpdir(), 'web-dist-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), INDEX);
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    const server = createApp({
      catalog: api.catalog, operations: api.operations, webRoot: root, logger: createLogger({ level: 'silent' }),
      dashboard: { temporalUi: 'http://temporal.example:8233/', namespace: 'flotilla' },
    }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => {
    await close?.();
    await api?.close();
    rmSync(root, { recursive: true, force: true });
  });
  const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

  it('serves index.html at / and for client-side routes, and the hashed assets for a year', async () => {
    for (const path of ['/', '/environments/shop-prod', '/promotions/promote-x-1', '/operations?kind=deploy']) {
      const res = await fetch(`${base}${path}`, { headers: html });
      expect(res.status, path).toBe(200);
      expect(await res.text()).toBe(INDEX);
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    const asset = await fetch(`${base}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // A missing file that is not a page (a script, an image) is a 404, not index.html.
    expect((await fetch(`${base}/assets/gone.js`, { headers: { accept: 'application/javascript' } })).status).toBe(404);
  });

  it('answers /v1 itself, never with index.html', async () => {
    const unknown = await fetch(`${base}/v1/no-such-thing`, { headers: { ...html, authorization: `Bearer ${api.admin}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const anonymous = await fetch(`${base}/v1/fleet`, { headers: html });
    expect(anonymous.status).toBe(401);
    const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${api.admin}` } });
    expect(((await me.json()) as { role: string }).role).toBe('admin');
  });

  it('tells the dashboard where the Temporal UI is (public: no token, nothing secret)', async () => {
    const res = await fetch(`${base}/dashboard-config.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ temporalUi: 'http://temporal.example:8233', namespace: 'flotilla' });
    expect(dashboardConfig({}, {})).toEqual({ temporalUi: 'http://127.0.0.1:8233', namespace: 'default' });
    expect(dashboardConfig({ codec: { codec: { encode: async (p) => p, decode: async (p) => p }, namespace: 'ns1' } }, { FLOTILLA_TEMPORAL_UI_PORT: '9000' }))
      .toEqual({ temporalUi: 'http://127.0.0.1:9000', namespace: 'ns1' });
    expect(dashboardConfig({}, { FLOTILLA_TEMPORAL_UI_URL: 'off', TEMPORAL_NAMESPACE: 'prod' })).toEqual({ namespace: 'prod' });
  });

  it('serves no dashboard when the build is missing: / is a 404', async () => {
    const res = await api.request('GET', '/', { token: null, headers: html });
    expect(res.status).toBe(404);
  });
});
