// POST /v1/codec/{decode,encode}: Temporal's codec server protocol for the Temporal UI and CLI.
// Who may, what a bad body gets, CORS for the UI's origin, and the audit trail.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../api/app.js';
import { createLogger } from '../../../api/http/logger.js';
import { PayloadKeyRing } from '../../../temporal/key-ring.js';
import { AesGcmPayloadCodec } from '../../../temporal/payload-codec.js';
import { startTestApi, type TestApi } from '../../support/api-server.js';

const UI = 'http://localhost:8233';
const INPUT = '{"environment":"shop-prod-eu","requestedBy":"ana"}';
const b64 = (s: string) => Buffer.from(s).toString('base64');
interface JsonPayload { metadata?: Record<string, string>; data?: string }
interface ErrorBody { error: { code: string; message: string; details?: { path: string; message: string }[] } }

const keys = PayloadKeyRing.fromJson({ active: 'k-test', keys: { 'k-test': Buffer.alloc(32, 7).toString('base64') } });
const codec = new AesGcmPayloadCodec(keys);
/** An encrypted payload in the protocol's JSON form, made by the codec the API serves. */
async function encrypted(json: string): Promise<JsonPayload> {
  const [p] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(json) }]);
  return {
    metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p!.data!).toString('base64'),
  };
}

describe('the codec endpoint', () => {
  let api: TestApi;
  const tokens: Record<string, string> = {};
  const post = (path: string, body: unknown, token: string | null, headers: Record<string, string> = {}) =>
    api.request<{ payloads: JsonPayload[] } & ErrorBody>('POST', `/v1/codec/${path}`, { token, body, headers: { 'x-namespace': 'default', ...headers } });

  beforeAll(async () => {
    api = await startTestApi({ codec: { codec, namespace: 'default', corsOrigins: [UI] } });
    tokens.admin = api.admin;
    for (const role of ['viewer', 'operator', 'release-manager'] as const) tokens[role] = await api.token(role);
    tokens['dev-admin'] = await api.token('admin', ['dev'], 'dev-admin');
    tokens['dev-release-manager'] = await api.token('release-manager', ['dev'], 'dev-rm');
  });
  afterAll(() => api.close());

  it('decodes for an admin and a release-manager: the plaintext payload, metadata and data in base64', async () => {
    const body = { payloads: [await encrypted(INPUT)] };
    for (const who of ['admin', 'release-manager']) {
      const res = await post('decode', body, tokens[who]!);
      expect(res.status, who).toBe(200);
      expect(res.body).toEqual({ payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: b64(INPUT) }] });
    }
  });

  it('passes a payload that is not encrypted back as it came', async () => {
    const plain = { metadata: { encoding: b64('json/plain') }, data: b64('"old history"') };
    const res = await post('decode', { payloads: [plain, await encrypted('1')] }, tokens.admin!);
    expect(res.status).toBe(200);
    expect(res.body.payloads).toEqual([plain, { metadata: { encoding: b64('json/plain') }, data: b64('1') }]);
  });

  it('encodes for an admin: binary/encrypted under the active key id, and the codec reads it back', async () => {
    const res = await post('encode', { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64(INPUT) }] }, tokens.admin!);
    expect(res.status).toBe(200);
    const [out] = res.body.payloads;
    expect(out!.metadata).toEqual({ encoding: b64('binary/encrypted'), 'encryption-key-id': b64('k-test') });
    expect(Buffer.from(out!.data!, 'base64').includes(Buffer.from('shop-prod-eu'))).toBe(false);
    const [back] = await codec.decode([{ metadata: { encoding: Buffer.from('binary/encrypted'), 'encryption-key-id': Buffer.from('k-test') }, data: Buffer.from(out!.data!, 'base64') }]);
    expect(Buffer.from(back!.data!).toString()).toBe(INPUT);
  });

  it('refuses viewers, operators and tier-scoped tokens (403), anonymous and invalid tokens (401)', async () => {
    const body = { payloads: [await encrypted(INPUT)] };
    const got: Record<string, number> = {};
    for (const who of ['viewer', 'operator', 'dev-admin', 'dev-release-manager']) got[`decode ${who}`] = (await post('decode', body, tokens[who]!)).status;
    for (const who of ['viewer', 'operator', 'release-manager', 'dev-admin']) got[`encode ${who}`] = (await post('encode', body, tokens[who]!)).status;
    got['decode anonymous'] = (await post('decode', body, null)).status;
    got['decode invalid'] = (await post('decode', body, 'flt_not-a-token')).status;
    expect(got).toEqual({
      'decode viewer': 403, 'decode operator': 403, 'decode dev-admin': 403, 'decode dev-release-manager': 403,
      'encode viewer': 403, 'encode operator': 403, 'encode release-manager': 403, 'encode dev-admin': 403,
      'decode anonymous': 401, 'decode invalid': 401,
    });
    const refused = await post('decode', body, tokens['dev-admin']!);
    expect(refused.body.error.message).toBe('payload.decode needs an unscoped token: payloads belong to no tier (this token is scoped to dev)');
    // Nothing decrypted leaks into a refusal.
    expect(JSON.stringify(refused.body)).not.toContain('shop-prod-eu');
  });

  it.each([
    [{}, 'payloads'],
    [{ payloads: 'x' }, 'payloads'],
    [{ payloads: [{ data: 'not base64!' }] }, 'payloads[0].data'],
    [{ payloads: [{ metadata: { encoding: 42 } }] }, 'payloads[0].metadata.encoding'],
    [{ payloads: [{ data: 'AA==' }, { metadata: { encoding: '%%%' } }] }, 'payloads[1].metadata.encoding'],
    [{ payloads: [], extra: true }, 'extra'],
  ])('answers 400 naming the field for %j', async (body, path) => {
    const res = await post('decode', body, tokens.admin!);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details!.map((d) => d.path)).toContain(path);
  });

  it('answers 400 for a namespace this codec does not serve', async () => {
    const res = await post('decode', { payloads: [] }, tokens.admin!, { 'x-namespace': 'someone-else' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'header.X-Namespace', message: 'this codec serves namespace "default" only' }]);
  });

  it('answers 422 naming the payload and the key id when a key is unknown, or a payload was altered', async () => {
    const other = new AesGcmPayloadCodec(PayloadKeyRing.fromJson({ active: 'k-gone', keys: { 'k-gone': Buffer.alloc(32, 9).toString('base64') } }));
    const [foreign] = await other.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') }]);
    const altered = await encrypted(INPUT);
    altered.data = Buffer.from(Buffer.from(altered.data!, 'base64').map((byte, i) => (i === 20 ? byte ^ 1 : byte))).toString('base64');
    const res = await post('decode', {
      payloads: [
        await encrypted('1'),
        { metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('k-gone') }, data: Buffer.from(foreign!.data!).toString('base64') },
        altered,
      ],
    }, tokens.admin!);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('payload_not_decodable');
    expect(res.body.error.details).toEqual([
      { path: 'payloads[1]', message: expect.stringContaining('payload encrypted with key "k-gone", which is not in') },
      { path: 'payloads[2]', message: 'payload encrypted with key "k-test" failed its integrity check (altered, or a different key under that id)' },
    ]);
  });

  it('audits every call (who, namespace, how many, which keys), never a payload', async () => {
    await post('decode', { payloads: [await encrypted(INPUT), await encrypted(INPUT)] }, tokens['release-manager']!);
    await post('decode', { payloads: [await encrypted(INPUT)] }, tokens.viewer!);
    const { items } = await api.catalog.audit.query({ limit: 500 });
    const codecRows = items.filter((e) => e.action.startsWith('payload.'));
    expect(codecRows.some((e) => e.result === 'ok' && e.target === 'temporal/default' && e.actor.startsWith('release-manager') &&
      (e.details as { payloads?: number; keys?: string[] }).payloads === 2 && JSON.stringify((e.details as { keys?: string[] }).keys) === '["k-test"]')).toBe(true);
    expect(codecRows.some((e) => e.result === 'denied' && e.action === 'payload.decode' && e.actor.startsWith('viewer'))).toBe(true);
    expect(JSON.stringify(codecRows)).not.toContain('shop-prod-eu');
    expect(JSON.stringify(codecRows)).not.toContain(b64(INPUT).slice(0, 16));
    expect(api.logs.join('\n')).not.toContain('shop-prod-eu');
  });

  it('is in the OpenAPI document with its X-Namespace header', async () => {
    const doc = (await api.request<{ paths: Record<string, Record<string, { parameters: { name: string; in: string }[] }>> }>('GET', '/v1/openapi.json', { token: null })).body;
    for (const path of ['/v1/codec/decode', '/v1/codec/encode']) {
      expect(doc.paths[path]!.post!.parameters).toContainEqual(expect.objectContaining({ name: 'X-Namespace', in: 'header' }));
    }
  });

  it('answers 503 on an API built without a codec', async () => {
    const bare = createApp({ catalog: api.catalog, operations: api.operations, webRoot: '/nonexistent', logger: createLogger({ level: 'silent' }) }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => bare.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/v1/codec/decode`, {
        method: 'POST', headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ payloads: [] }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).error.code).toBe('codec_unavailable');
    } finally {
      await new Promise<void>((resolve) => bare.close(() => resolve()));
    }
  });

  describe('CORS for the Temporal UI', () => {
    const preflight = (origin: string, path = '/v1/codec/decode') => fetch(`${api.base}${path}`, {
      method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });

    it("answers the UI origin's preflight without a token: POST, with Authorization, Content-Type and X-Namespace", async () => {
      const res = await preflight(UI);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(UI);
      expect(res.headers.get('access-control-allow-methods')).toBe('POST');
      expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-Namespace');
      expect(res.headers.get('vary')).toMatch(/Origin/);
    });

    it('refuses a preflight from any other origin, with no CORS headers', async () => {
      const res = await preflight('https://evil.example');
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('marks the answer to the UI (a 200, and a 401 too, so the UI can show it), and no other route', async () => {
      const ok = await post('decode', { payloads: [await encrypted('1')] }, tokens.admin!, { origin: UI });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
      const anonymous = await post('decode', { payloads: [] }, null, { origin: UI });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('access-control-allow-origin')).toBe(UI);
      expect((await post('decode', { payloads: [] }, tokens.admin!, { origin: 'https://evil.example' })).headers.get('access-control-allow-origin')).toBeNull();
      const elsewhere = await api.request('GET', '/v1/clusters', { headers: { origin: UI } });
      expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
      expect((await preflight(UI, '/v1/clusters')).headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});
