// POST /v1/providers/{provider}/discover: a cloud account's clusters that could be registered.
import { z } from 'zod';
import { Provider } from '../../domain/cluster.js';
import { validate } from '../../domain/documents.js';
import { TIERS } from '../../domain/environment.js';
import { discover } from '../../providers/cloud/adapters.js';
import { ApiError, badRequest } from '../errors.js';
import { defineRoute } from '../route.js';
import { CandidateView, DISCOVER_ACCOUNTS, DiscoverBody, list } from '../schemas.js';

export const providerRoutes = [
  defineRoute({
    method: 'post', path: '/providers/{provider}/discover', operationId: 'discoverClusters', tag: 'clusters',
    summary: 'List the clusters of a cloud account (or a stored kubeconfig) that could be registered.',
    action: 'cluster.write', params: z.strictObject({ provider: Provider }), body: DiscoverBody, bodyOptional: true,
    responses: { 200: { description: 'candidates (422 when this API has no adapter for the provider)', schema: list(CandidateView) } },
    async handler({ params, body }, ctx) {
      // Discovery reads fleet-wide credentials: for unscoped admins only.
      ctx.authorize('cluster.write', [...TIERS]);
      // The union accepted the body; check it against this provider's account for exact paths.
      const account = validate(DISCOVER_ACCOUNTS[params.provider], body);
      if (!account.ok) throw badRequest(account.issues);
      if (params.provider !== 'kubeconfig' && !ctx.deps.cloud[params.provider]) {
        throw new ApiError(422, 'provider_not_configured', `this API has no ${params.provider} adapter configured`);
      }
      return { status: 200, body: { items: await discover(params.provider, account.value, ctx.deps.cloud) } };
    },
  }),
];
