// /v1/codec/{decode,encode}: Temporal's codec server protocol over the payload codec every
// Flotilla client and worker uses (temporal/payload-codec.ts), so that the Temporal UI (its
// codec endpoint set to <api>/v1/codec, passing the user's access token) and the temporal CLI
// (`--codec-endpoint <api>/v1/codec --codec-auth 'Bearer flt_…'`) show decrypted payloads to
// those allowed, and ciphertext to everyone else.
//
// Body and answer: `{"payloads": [{"metadata": {"encoding": "<base64>", …}, "data": "<base64>"}]}`
// (the protobuf JSON form of Payloads). Header X-Namespace names the Temporal namespace.
//
// Who: decoding reads any operation's inputs and results, so it needs an unscoped
// release-manager or admin; encoding makes payloads the worker will trust, so an unscoped admin.
// A tier-scoped token may do neither: a payload carries no tier to check a scope against. Every
// call is audited (who, namespace, how many payloads, which key ids), never a payload's content.
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { ValidationIssue } from '../../domain/documents.js';
import { isEncrypted, keyIdOf, PayloadDecryptionError } from '../../temporal/payload-codec.js';
import type { Action } from '../authz.js';
import { ApiError, badRequest } from '../errors.js';
import { defineRoute, type RouteContext } from '../route.js';

const MAX_PAYLOADS = 1000;
const Base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64');
const JsonPayload = z.object({
  metadata: z.record(z.string().min(1).max(256), Base64).nullish(),
  data: Base64.nullish(),
});
const Payloads = z.strictObject({ payloads: z.array(JsonPayload).max(MAX_PAYLOADS) });
type JsonPayload = z.infer<typeof JsonPayload>;
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** Checks what the role check before the handler cannot: scope, namespace, a configured codec. */
function codecFor(ctx: RouteContext, action: Action) {
  if (ctx.principal.tiers) {
    throw new ApiError(403, 'forbidden', `${action} needs an unscoped token: payloads belong to no tier (this token is scoped to ${ctx.principal.tiers.join(', ')})`);
  }
  const namespace = ctx.header('x-namespace');
  if (namespace !== undefined && !NAMESPACE.test(namespace)) throw badRequest([{ path: 'header.X-Namespace', message: 'must be a Temporal namespace name' }]);
  const served = ctx.deps.codec;
  if (!served) throw new ApiError(503, 'codec_unavailable', 'this API has no payload codec configured');
  if (namespace !== undefined && served.namespace !== undefined && namespace !== served.namespace) {
    throw badRequest([{ path: 'header.X-Namespace', message: `this codec serves namespace "${served.namespace}" only` }]);
  }
  return { codec: served.codec, namespace: namespace ?? served.namespace };
}

const headers = [{ name: 'X-Namespace', description: 'The Temporal namespace the payloads belong to (the Temporal UI and CLI send it).' }];
const responses = (what: string) => ({
  200: { description: what, schema: Payloads },
  503: { description: 'no payload codec is configured' },
});

export const codecRoutes = [
  defineRoute({
    method: 'post', path: '/codec/decode', operationId: 'codecDecode', tag: 'codec',
    summary: 'Decrypt Temporal payloads (codec server protocol, for the Temporal UI and CLI).',
    action: 'payload.decode', body: Payloads, headers,
    audit: { action: 'payload.decode', target: () => 'temporal/payloads' },
    responses: { ...responses('the payloads, decrypted (those that were not encrypted as they came)'), 422: { description: 'a payload cannot be decrypted (unknown key id, or altered); `details` names each' } },
    async handler({ body }, ctx) {
      const { codec, namespace } = codecFor(ctx, 'payload.decode');
      const payloads = body.payloads.map(fromJson);
      const encrypted = payloads.filter(isEncrypted);
      ctx.audit({
        ...(namespace ? { target: `temporal/${namespace}` } : {}),
        details: { payloads: payloads.length, encrypted: encrypted.length, keys: [...new Set(encrypted.map((p) => keyIdOf(p) ?? '(none)'))] },
      });
      const out: Payload[] = [];
      const issues: ValidationIssue[] = [];
      for (const [i, payload] of payloads.entries()) {
        try {
          out.push(...(await codec.decode([payload])));
        } catch (error) {
          if (!(error instanceof PayloadDecryptionError)) throw error;
          issues.push({ path: `payloads[${i}]`, message: error.message });
        }
      }
      if (issues.length > 0) throw new ApiError(422, 'payload_not_decodable', `${issues.length} of ${payloads.length} payloads cannot be decrypted`, issues);
      return { status: 200, body: { payloads: out.map(toJson) } };
    },
  }),
  defineRoute({
    method: 'post', path: '/codec/encode', operationId: 'codecEncode', tag: 'codec',
    summary: 'Encrypt Temporal payloads with the active key (codec server protocol).',
    action: 'payload.encode', body: Payloads, headers,
    audit: { action: 'payload.encode', target: () => 'temporal/payloads' },
    responses: responses('the payloads, encrypted'),
    async handler({ body }, ctx) {
      const { codec, namespace } = codecFor(ctx, 'payload.encode');
      ctx.audit({ ...(namespace ? { target: `temporal/${namespace}` } : {}), details: { payloads: body.payloads.length } });
      return { status: 200, body: { payloads: (await codec.encode(body.payloads.map(fromJson))).map(toJson) } };
    },
  }),
];
