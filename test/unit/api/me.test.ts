// GET /v1/me: the caller's name, role, tiers and the actions it may do on which tiers, written
// out here per token rather than read from api/authz.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api-server.js';

const ALL_TIERS = ['dev', 'staging', 'prod', 'dr', 'preview', 'compliance'];

describe('GET /v1/me', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => api?.close());

  it('tells a viewer it may read everything and change nothing', async () => {
    const token = await api.token('viewer', undefined, 'vera');
    const res = await api.request('GET', '/v1/me', { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'vera', role: 'viewer', permissions: { read: { tiers: ALL_TIERS }, 'logs.read': { tiers: ALL_TIERS } } });
  });

  it('tells a dev-scoped release manager it may approve dev promotions only, and read every tier', async () => {
    const token = await api.token('release-manager', ['dev'], 'rita');
    const body = (await api.request<{ role: string; tiers: string[]; permissions: Record<string, { tiers: string[] }> }>('GET', '/v1/me', { token })).body;
    expect(body.role).toBe('release-manager');
    expect(body.tiers).toEqual(['dev']);
    expect(body.permissions['promotion.approve']).toEqual({ tiers: ['dev'] });
    expect(body.permissions.read).toEqual({ tiers: ALL_TIERS });
    expect(body.permissions['logs.read']).toEqual({ tiers: ['dev'] });
    expect(body.permissions['cluster.write']).toBeUndefined();
    // A payload has no tier: decoding needs an unscoped token.
    expect(body.permissions['payload.decode']).toBeUndefined();
  });

  it('needs a token', async () => {
    expect((await api.request('GET', '/v1/me', { token: null })).status).toBe(401);
  });
});
