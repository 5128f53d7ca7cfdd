// /v1/tokens: create (the plaintext is in this one response only) and revoke. No escalation:
// a tier-scoped admin can only make or revoke tokens within its own tiers.
import type { Tier } from '../../domain/environment.js';
import type { Principal } from '../authz.js';
import { ApiError } from '../errors.js';
import { defineRoute } from '../route.js';
import { CreatedToken, CreateToken, IdParam, TokenView } from '../schemas.js';

function within(principal: Principal, tiers: readonly Tier[] | undefined): boolean {
  if (!principal.tiers) return true;
  return tiers !== undefined && tiers.every((t) => principal.tiers!.includes(t));
}

export const tokenRoutes = [
  defineRoute({
    method: 'post', path: '/tokens', operationId: 'createToken', tag: 'tokens',
    summary: 'Create an API token; the plaintext token is returned once.',
    action: 'token.write', body: CreateToken,
    audit: { action: 'token.create', target: ({ body }) => `token/${(body as { name?: unknown })?.name ?? '?'}`.slice(0, 120) },
    responses: { 201: { description: 'created; `token` is shown only now', schema: CreatedToken } },
    async handler({ body }, ctx) {
      if (!within(ctx.principal, body.tiers)) {
        throw new ApiError(403, 'forbidden', `this token may only create tokens scoped to ${ctx.principal.tiers!.join(', ')}`);
      }
      const { token, record } = await ctx.deps.catalog.tokens.create({ ...body, createdBy: ctx.principal.name });
      ctx.audit({ target: `token/${record.id}`, details: { name: record.name, role: record.role, tiers: record.tiers } });
      return { status: 201, body: { ...record, token } };
    },
  }),
  defineRoute({
    method: 'delete', path: '/tokens/{id}', operationId: 'revokeToken', tag: 'tokens', summary: 'Revoke a token',
    action: 'token.write', params: IdParam,
    audit: { action: 'token.revoke', target: ({ params }) => `token/${params.id ?? '?'}` },
    responses: { 200: { description: 'revoked', schema: TokenView } },
    async handler({ params }, ctx) {
      const existing = await ctx.deps.catalog.tokens.require(params.id);
      if (!within(ctx.principal, existing.tiers)) {
        throw new ApiError(403, 'forbidden', 'this token may not revoke a token with a wider scope than its own');
      }
      return { status: 200, body: await ctx.deps.catalog.tokens.revoke(params.id) };
    },
  }),
];
