// /v1/rules: the organisation's deployment rules.
import { defineRoute } from '../route.js';
import { Rules, RulesView } from '../schemas.js';
import { rulesTiers } from '../services/scopes.js';

export const rulesRoutes = [
  defineRoute({
    method: 'get', path: '/rules', operationId: 'getRules', tag: 'rules', summary: 'The current rules',
    action: 'read',
    responses: { 200: { description: 'rules', schema: RulesView } },
    async handler(_input, ctx) {
      return { status: 200, body: await ctx.deps.catalog.rules.current() };
    },
  }),
  defineRoute({
    method: 'put', path: '/rules', operationId: 'putRules', tag: 'rules', summary: 'Replace the rules (a new version)',
    action: 'rules.write', body: Rules,
    audit: { action: 'rules.update', target: () => 'rules/organisation' },
    responses: { 200: { description: 'the new version', schema: RulesView } },
    async handler({ body }, ctx) {
      ctx.authorize('rules.write', rulesTiers((await ctx.deps.catalog.rules.current()).rules, body));
      const record = await ctx.deps.catalog.rules.put(body, { by: ctx.principal.name });
      ctx.audit({ details: { version: record.version } });
      return { status: 200, body: record };
    },
  }),
];
