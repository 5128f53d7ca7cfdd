// /v1/clones: clone an environment (cloneEnvironment), list and show clones, tear one down
// early (teardownClone), and extend or cancel its TTL (Updates of its clock, cloneExpiry).
import { defineRoute } from '../route.js';
import { CloneBody, CloneQuery, CloneView, IdParam, list, OperationAccepted, TtlBody, TtlView } from '../schemas.js';
import { changeTtl, checkClone, clonePermissions, cloneView, planClone, requireClone, startClone, startTeardown } from '../services/clones.js';
import { accepted } from '../services/operations.js';
import { rawName } from './common.js';

const target = ({ params }: { params: Record<string, string> }) => `clone/${params.id ?? '?'}`;

export const cloneRoutes = [
  defineRoute({
    method: 'post', path: '/clones', operationId: 'createClone', tag: 'clones',
    summary: 'Clone an environment\'s revision to a cluster under a new name, with new overrides and (per database) its data: starts cloneEnvironment (id clone-<name>-<n>).',
    action: 'clone.create', body: CloneBody, idempotent: true,
    audit: { action: 'clone.create', target: ({ body }) => `environment/${rawName(body)}` },
    responses: { 202: { description: 'clone started', schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ body }, ctx) {
      const planned = await planClone(ctx.deps, body);
      ctx.audit({
        details: {
          source: planned.source.binding.name, revision: planned.revision, cluster: planned.binding.cluster, purpose: planned.request.purpose,
          data: Object.fromEntries(planned.data.map((d) => [d.database, d.mode])), secrets: Object.keys(planned.secrets),
        },
      });
      for (const { action, tiers } of clonePermissions(planned)) ctx.authorize(action, tiers);
      await checkClone(ctx.deps, planned);
      const operationId = await startClone(ctx.deps, planned, ctx.principal.name, ctx.reservation);
      ctx.audit({ operationId });
      return accepted(operationId);
    },
  }),
  defineRoute({
    method: 'get', path: '/clones', operationId: 'listClones', tag: 'clones',
    summary: 'Clones, newest first: those not torn down (active=false: their history too).',
    action: 'read', query: CloneQuery,
    responses: { 200: { description: 'clones', schema: list(CloneView) } },
    async handler({ query }, ctx) {
      const items = await ctx.deps.catalog.clones.list(query);
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'get', path: '/clones/{id}', operationId: 'getClone', tag: 'clones',
    summary: 'A clone: its source, data plan and what the copy did, its state; while it is made, its phases; with a TTL, the time left.',
    action: 'read', params: IdParam,
    responses: { 200: { description: 'the clone', schema: CloneView } },
    async handler({ params }, ctx) {
      return { status: 200, body: await cloneView(ctx.deps, await requireClone(ctx.deps, params.id)) };
    },
  }),
  defineRoute({
    method: 'delete', path: '/clones/{id}', operationId: 'deleteClone', tag: 'clones',
    summary: 'Tear a clone down now (before its TTL): starts teardownClone (id teardown-<clone id>).',
    action: 'clone.create', params: IdParam, idempotent: true,
    audit: { action: 'clone.teardown', target },
    responses: { 202: { description: 'teardown started', schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ params }, ctx) {
      const clone = await requireClone(ctx.deps, params.id);
      const environment = await ctx.deps.catalog.environments.get(clone.name);
      ctx.authorize('clone.create', environment ? [environment.binding.tier] : []);
      const operationId = await startTeardown(ctx.deps, clone, ctx.principal.name, ctx.reservation);
      ctx.audit({ operationId });
      return accepted(operationId);
    },
  }),
  defineRoute({
    method: 'post', path: '/clones/{id}/ttl', operationId: 'changeCloneTtl', tag: 'clones',
    summary: 'Extend a clone\'s TTL (by a duration from now, or until a time) or cancel it (an Update of its clock).',
    action: 'clone.create', params: IdParam, body: TtlBody,
    audit: { action: 'clone.ttl', target },
    responses: { 200: { description: 'the clock after the change', schema: TtlView } },
    async handler({ params, body }, ctx) {
      const clone = await requireClone(ctx.deps, params.id);
      const environment = await ctx.deps.catalog.environments.get(clone.name);
      ctx.authorize('clone.create', environment ? [environment.binding.tier] : []);
      ctx.audit({ details: body });
      const expiry = await changeTtl(ctx.deps, clone, { ...(body.extend !== undefined ? { seconds: body.extend } : {}), ...(body.until !== undefined ? { until: body.until } : {}), ...(body.cancel ? { cancel: true } : {}) }, ctx.principal.name);
      return { status: 200, body: expiry };
    },
  }),
];
