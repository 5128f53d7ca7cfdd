// GET /v1/audit: who did what, newest first, filterable.
import { defineRoute } from '../route.js';
import { AuditQuery, AuditView, page } from '../schemas.js';
import { visibleAudit } from '../services/scopes.js';

export const auditRoutes = [
  defineRoute({
    method: 'get', path: '/audit', operationId: 'queryAudit', tag: 'audit', summary: 'The audit log, newest first',
    action: 'audit.read', query: AuditQuery,
    responses: { 200: { description: 'entries', schema: page(AuditView) } },
    async handler({ query }, ctx) {
      const { operation, ...rest } = query;
      const page = await ctx.deps.catalog.audit.query({ ...rest, operationId: operation });
      // A tier-scoped admin sees its tiers' entries (a page may then hold fewer than `limit`).
      return { status: 200, body: { ...page, items: await visibleAudit(ctx.deps.catalog, ctx.principal, page.items) } };
    },
  }),
];
