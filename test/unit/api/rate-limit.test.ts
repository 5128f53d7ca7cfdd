// Rate limits and the audit log under an anonymous flood (issue 10, finding 4): a new bogus
// Authorization header per request buys nothing (anonymous and invalid callers are counted per
// client address), a valid token keeps its own budget, the limiter's memory stays bounded, and
// an anonymous audit row keeps a capped path and stops once the caller is limited.
import { afterEach, describe, expect, it } from 'vitest';
import { FixedWindows } from '../../../api/http/rate-limit.js';
import { startTestApi, type TestApi } from '../../support/api-server.js';

describe('rate limits under anonymous floods', () => {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('a new bogus token per request is still limited, per client address', async () => {
    api = await startTestApi({ rateLimit: { max: 5, windowMs: 60_000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await api.request('GET', '/v1/clusters', { token: `bogus-${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // No token at all counts against the same address.
    expect((await api.request('GET', '/v1/clusters', { token: null })).status).toBe(429);
    // A caller with a valid token has a budget of its own.
    expect((await api.request('GET', '/v1/clusters')).status).toBe(200);
  });

  it('anonymous audit rows keep at most 200 characters of the path, and stop once the caller is limited', async () => {
    api = await startTestApi({ rateLimit: { max: 3, windowMs: 60_000 } });
    const long = `/v1/environments/${'x'.repeat(8 * 1024)}/deploy`; // near Node's 16 KB header limit
    for (let i = 0; i < 10; i++) await api.request('POST', long, { token: `bogus-${i}`, body: {} });
    const rows = (await api.catalog.audit.query({ actor: 'anonymous', limit: 100 })).items;
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.target.length).toBeLessThanOrEqual(200);
      expect(row.action.length).toBeLessThanOrEqual(205);
    }
  });

  it('the limiter holds a bounded number of windows, evicting the oldest', () => {
    let t = 0;
    const windows = new FixedWindows({ max: 1, windowMs: 60_000, maxKeys: 100 }, () => t);
    for (let i = 0; i < 10_000; i++) {
      windows.hit(`ip:10.0.${i >> 8}.${i & 255}`);
      t += 1;
    }
    expect(windows.size).toBeLessThanOrEqual(100);
    // The newest key is still counted: its second hit in the window is limited.
    expect(windows.hit('ip:10.0.39.15').limited).toBe(true);
  });
});
