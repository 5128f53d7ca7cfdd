// /v1/clusters: register (starts onboarding), list by labels, show, offboard.
import { badRequest } from '../errors.js';
import { defineRoute } from '../route.js';
import { ClusterQuery, ClusterView, list, NameParam, OffboardQuery, OperationAccepted, RegisterCluster } from '../schemas.js';
import { prepareRegistration, registerCluster } from '../services/clusters.js';
import { offboard } from '../services/offboarding.js';
import { accepted } from '../services/operations.js';
import { clusterTiers } from '../services/scopes.js';
import { parseSelector, rawName } from './common.js';

export const clusterRoutes = [
  defineRoute({
    method: 'post', path: '/clusters', operationId: 'registerCluster', tag: 'clusters',
    summary: 'Register a cluster and start onboarding it. A kubeconfig is accepted inline (`kubeconfig`) and stored encrypted.',
    action: 'cluster.write', body: RegisterCluster, idempotent: true,
    audit: { action: 'cluster.register', target: ({ body }) => `cluster/${rawName(body)}` },
    responses: { 202: { description: 'onboarding started', schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ body }, ctx) {
      ctx.audit({ target: `cluster/${body.name}`, details: { provider: body.connection.provider, inlineKubeconfig: body.kubeconfig !== undefined } });
      ctx.authorize('cluster.write', clusterTiers(body.labels, body.allowedTiers));
      const connection = await prepareRegistration(ctx.deps, body);
      const operationId = await registerCluster(ctx.deps, body, connection, ctx.principal.name);
      ctx.audit({ operationId });
      return accepted(operationId);
    },
  }),
  defineRoute({
    method: 'get', path: '/clusters', operationId: 'listClusters', tag: 'clusters',
    summary: 'List clusters; `labels=tier=prod,geo=eu` selects by labels.',
    action: 'read', query: ClusterQuery,
    responses: { 200: { description: 'clusters', schema: list(ClusterView) } },
    async handler({ query }, ctx) {
      const items = await ctx.deps.catalog.clusters.list({ labels: parseSelector(query.labels), status: query.status, provider: query.provider });
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'get', path: '/clusters/{name}', operationId: 'getCluster', tag: 'clusters', summary: 'Show a cluster',
    action: 'read', params: NameParam,
    responses: { 200: { description: 'the cluster', schema: ClusterView } },
    async handler({ params }, ctx) {
      return { status: 200, body: await ctx.deps.catalog.clusters.require(params.name) };
    },
  }),
  defineRoute({
    method: 'delete', path: '/clusters/{name}', operationId: 'offboardCluster', tag: 'clusters',
    summary: 'Offboard a cluster: starts offboardCluster (202), which removes the baseline Flotilla installed (namespace, service accounts, RBAC) and marks it offboarded. Refused (409) while environments are bound to it, unless drain=true tears them down first (deleteData=true: with their data). A cluster already offboarded is forgotten (204).',
    action: 'cluster.write', params: NameParam, query: OffboardQuery, idempotent: true,
    audit: { action: 'cluster.offboard', target: ({ params }) => `cluster/${params.name ?? '?'}` },
    responses: {
      202: { description: 'offboarding started (or already under way)', schema: OperationAccepted, headers: { Location: 'the operation' } },
      204: { description: 'an offboarded cluster forgotten' },
    },
    async handler({ params, query }, ctx) {
      const cluster = await ctx.deps.catalog.clusters.require(params.name);
      ctx.authorize('cluster.write', clusterTiers(cluster.labels, cluster.allowedTiers));
      if (query.deleteData && !query.drain) throw badRequest([{ path: 'deleteData', message: 'only with drain=true (it deletes the data of the environments a drain tears down)' }]);
      if (query.drain) {
        const bound = await ctx.deps.catalog.environments.list({ cluster: params.name });
        ctx.authorize('environment.write', bound.map((e) => e.binding.tier));
      }
      const answer = await offboard(ctx.deps, cluster, { drain: query.drain, deleteData: query.deleteData, by: ctx.principal.name }, ctx.reservation);
      if (answer.forgotten) return { status: 204 };
      ctx.audit({ operationId: answer.operationId, details: { drain: query.drain, deleteData: query.deleteData } });
      return accepted(answer.operationId);
    },
  }),
];
