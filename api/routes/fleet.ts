// GET /v1/fleet, /v1/drift and /v1/environments/{name}/status: the observer's view of the
// fleet, read from the catalog (api/services/fleet.ts).
import { defineRoute, type Reply } from '../route.js';
import { DriftItemView, DriftQuery, EnvironmentStatusView, FleetQuery, FleetView } from '../fleet-schemas.js';
import { list, NameParam } from '../schemas.js';
import { driftList, environmentStatus, fleetAnswer, notModified } from '../services/fleet.js';

export const fleetRoutes = [
  defineRoute({
    method: 'get', path: '/fleet', operationId: 'getFleet', tag: 'fleet',
    summary: 'Clusters × environments × services with health, revision, drift and staleness (from the observer, never a live fan-out).',
    action: 'read', query: FleetQuery,
    headers: [{ name: 'If-None-Match', description: 'An ETag of an earlier answer: 304 when nothing changed' }],
    responses: {
      200: { description: 'the fleet', schema: FleetView, headers: { ETag: 'Tag of this answer, for If-None-Match' } },
      304: { description: 'unchanged since the ETag given' },
    },
    async handler({ query }, ctx): Promise<Reply> {
      const { json, etag } = await fleetAnswer(ctx.deps.catalog, query, ctx.deps.now());
      if (notModified(ctx.header('if-none-match'), etag)) return { status: 304, headers: { ETag: etag } };
      return { status: 200, json, headers: { ETag: etag, 'Cache-Control': 'no-cache' } };
    },
  }),
  defineRoute({
    method: 'get', path: '/drift', operationId: 'listDrift', tag: 'fleet',
    summary: 'Environments whose live objects differ from their last deploy, with field-level differences and who made them.',
    action: 'read', query: DriftQuery,
    responses: { 200: { description: 'drifted environments', schema: list(DriftItemView) } },
    async handler({ query }, ctx) {
      return { status: 200, body: { items: await driftList(ctx.deps.catalog, query, ctx.deps.now()) } };
    },
  }),
  defineRoute({
    method: 'get', path: '/environments/{name}/status', operationId: 'getEnvironmentStatus', tag: 'fleet',
    summary: 'An environment\'s live status: services, revision, drift, reachability of its cluster.',
    action: 'read', params: NameParam,
    responses: { 200: { description: 'live status', schema: EnvironmentStatusView } },
    async handler({ params }, ctx) {
      return { status: 200, body: await environmentStatus(ctx.deps.catalog, params.name, ctx.deps.now()) };
    },
  }),
];
