// GET /v1/me: who the token is and what it may do, so a client (the dashboard) shows only the
// buttons that would work. The API still decides every request itself.
import { z } from 'zod';
import { ACTIONS, type Action, authorize, ROLES } from '../authz.js';
import { TIERS, Tier } from '../../domain/environment.js';
import { defineRoute } from '../route.js';

const Permission = z.object({
  /** Tiers the action is allowed on; every tier when the token is not scoped. */
  tiers: z.array(Tier),
});

const TIERLESS = new Set<Action>(['payload.decode', 'payload.encode']);

export const MeView = z.object({
  name: z.string(),
  role: z.enum(ROLES),
  /** The tiers the token is scoped to; absent when it is not. */
  tiers: z.array(Tier).optional(),
  /** Every action the token may do, with the tiers it may do it on. */
  permissions: z.record(z.string(), Permission),
});

export const meRoutes = [
  defineRoute({
    method: 'get', path: '/me', operationId: 'whoAmI', tag: 'tokens', summary: 'The calling token: its name, role, tiers and what it may do',
    action: 'read',
    responses: { 200: { description: 'the caller', schema: MeView } },
    async handler(_input, ctx) {
      const p = ctx.principal;
      const permissions: Record<string, { tiers: Tier[] }> = {};
      for (const action of Object.keys(ACTIONS) as Action[]) {
        // Payloads belong to no tier: only unscoped tokens handle them (routes/codec.ts).
        if (TIERLESS.has(action) && p.tiers) continue;
        const tiers = TIERS.filter((t) => authorize(p, action, [t]).allowed);
        if (tiers.length > 0) permissions[action] = { tiers };
      }
      return { status: 200, body: { name: p.name, role: p.role, ...(p.tiers ? { tiers: p.tiers } : {}), permissions } };
    },
  }),
];
