// /v1/drills: run a DR drill (drDrill), list drills with each source's RTO trend, show a report.
import { defineRoute } from '../route.js';
import { DrillBody, DrillListView, DrillQuery, DrillView, IdParam, OperationAccepted } from '../schemas.js';
import { checkClone, clonePermissions, planClone } from '../services/clones.js';
import { drillList, drillView, startDrill } from '../services/drills.js';
import { accepted } from '../services/operations.js';
import { rawName } from './common.js';

export const drillRoutes = [
  defineRoute({
    method: 'post', path: '/drills', operationId: 'createDrill', tag: 'drills',
    summary: 'Run a DR drill: clone the source (with its data) to a DR cluster, validate, measure RTO and RPO, always tear down unless kept (id drill-<source>-<n>).',
    action: 'drill.create', body: DrillBody, idempotent: true,
    audit: { action: 'drill.create', target: ({ body }) => `environment/${rawName({ name: (body as { source?: unknown } | undefined)?.source })}` },
    responses: { 202: { description: 'drill started', schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ body }, ctx) {
      const { objectives, http, keep, ...clone } = body;
      const planned = await planClone(ctx.deps, { ...clone, name: clone.name ?? `${clone.source}-drill`, purpose: 'drill' });
      ctx.audit({
        details: {
          cluster: planned.binding.cluster, revision: planned.revision, data: Object.fromEntries(planned.data.map((d) => [d.database, d.mode])),
          ...(objectives ? { objectives } : {}), keep: keep === true,
        },
      });
      for (const { action, tiers } of clonePermissions(planned, 'drill.create')) ctx.authorize(action, tiers);
      await checkClone(ctx.deps, planned);
      const operationId = await startDrill(ctx.deps, planned, { objectives, http, keep }, ctx.principal.name, ctx.reservation);
      ctx.audit({ operationId });
      return accepted(operationId);
    },
  }),
  defineRoute({
    method: 'get', path: '/drills', operationId: 'listDrills', tag: 'drills',
    summary: 'Drill reports, newest first, and each source\'s RTO trend.',
    action: 'read', query: DrillQuery,
    responses: { 200: { description: 'drills', schema: DrillListView } },
    async handler({ query }, ctx) {
      return { status: 200, body: await drillList(ctx.deps, query.source) };
    },
  }),
  defineRoute({
    method: 'get', path: '/drills/{id}', operationId: 'getDrill', tag: 'drills',
    summary: 'A drill\'s report (phases, checks, RTO, RPO, objectives, Markdown), or its phase while it runs.',
    action: 'read', params: IdParam,
    responses: { 200: { description: 'the drill', schema: DrillView } },
    async handler({ params }, ctx) {
      return { status: 200, body: await drillView(ctx.deps, params.id) };
    },
  }),
];
