// /v1/applications: the Applications applied with `kind: Application` documents, each with its
// environments (which track it, which change by promotion), and removing one nothing uses.
import { defineRoute } from '../route.js';
import { ApplicationDetail, ApplicationView, list, NameParam } from '../schemas.js';
import { applicationView, removeApplication } from '../services/applications.js';

const target = ({ params }: { params: Record<string, string> }) => `application/${params.name ?? '?'}`;

export const applicationRoutes = [
  defineRoute({
    method: 'get', path: '/applications', operationId: 'listApplications', tag: 'applications',
    summary: 'Applications, each with its environments and how each takes its changes (track or promotion).',
    action: 'read',
    responses: { 200: { description: 'applications', schema: list(ApplicationView) } },
    async handler(_request, ctx) {
      const items = await Promise.all((await ctx.deps.catalog.applications.list()).map((a) => applicationView(ctx.deps.catalog, a)));
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'get', path: '/applications/{name}', operationId: 'getApplication', tag: 'applications',
    summary: 'An application: its spec as last applied and its environments.',
    action: 'read', params: NameParam,
    responses: { 200: { description: 'the application', schema: ApplicationDetail } },
    async handler({ params }, ctx) {
      const { catalog } = ctx.deps;
      const application = await catalog.applications.require(params.name);
      const { spec } = await catalog.revisions.require(application.currentRevision);
      return { status: 200, body: { ...(await applicationView(catalog, application)), spec } };
    },
  }),
  defineRoute({
    method: 'delete', path: '/applications/{name}', operationId: 'deleteApplication', tag: 'applications',
    summary: 'Remove an application no environment names any more (409 otherwise); its revisions stay.',
    action: 'environment.write', params: NameParam,
    audit: { action: 'application.delete', target },
    responses: { 204: { description: 'removed' } },
    async handler({ params }, ctx) {
      await removeApplication(ctx.deps.catalog, params.name);
      return { status: 204 };
    },
  }),
];
