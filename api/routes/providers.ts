// POST /v1/providers/{provider}/discover: a cloud account's clusters that could be registered.
// POST /v1/providers/{provider}/import: register those (all, or some by name) and onboard each.
// Both run discovery on the worker, which holds the cloud credentials (api/services/cluster-import.ts).
import { z } from 'zod';
import { Provider } from '../../domain/cluster.js';
import { validate } from '../../domain/documents.js';
import { TIERS } from '../../domain/environment.js';
import { badRequest } from '../errors.js';
import { defineRoute } from '../route.js';
import { DISCOVER_ACCOUNTS, DiscoverBody, DiscoveredView, IMPORT_BODIES, ImportClustersBody, ImportResult, list } from '../schemas.js';
import { checkSelection, discoverOnWorker, importClusters, selectClusters } from '../services/cluster-import.js';

const ProviderParam = z.strictObject({ provider: Provider });

export const providerRoutes = [
  defineRoute({
    method: 'post', path: '/providers/{provider}/discover', operationId: 'discoverClusters', tag: 'clusters',
    summary: 'List the clusters of a cloud account (or a stored kubeconfig) that could be registered; the worker looks, with its credentials.',
    action: 'cluster.write', params: ProviderParam, body: DiscoverBody, bodyOptional: true,
    responses: { 200: { description: 'candidates (422 when the worker has no adapter for the provider)', schema: list(DiscoveredView) } },
    async handler({ params, body }, ctx) {
      // Discovery reads fleet-wide credentials: for unscoped admins only.
      ctx.authorize('cluster.write', [...TIERS]);
      // The union accepted the body; check it against this provider's account for exact paths.
      const account = validate(DISCOVER_ACCOUNTS[params.provider], body);
      if (!account.ok) throw badRequest(account.issues);
      return { status: 200, body: { items: await discoverOnWorker(ctx.deps, params.provider, account.value) } };
    },
  }),
  defineRoute({
    method: 'post', path: '/providers/{provider}/import', operationId: 'importClusters', tag: 'clusters',
    summary: 'Register the clusters of a cloud account (`all: true`, or `names`) with labels from their tags, and start onboarding each. Clusters already registered are `unchanged`.',
    action: 'cluster.write', params: ProviderParam, body: ImportClustersBody,
    audit: { action: 'cluster.import', target: ({ params }) => `provider/${params.provider ?? '?'}` },
    responses: { 200: { description: 'each selected cluster: created (with its onboarding) or unchanged', schema: ImportResult } },
    async handler({ params, body }, ctx) {
      ctx.authorize('cluster.write', [...TIERS]);
      const parsed = validate(IMPORT_BODIES[params.provider], body);
      if (!parsed.ok) throw badRequest(parsed.issues);
      checkSelection(parsed.value);
      const { all: _all, names: _names, labels: _labels, allowedTiers: _tiers, ...account } = parsed.value;
      const found = await discoverOnWorker(ctx.deps, params.provider, account);
      const selected = selectClusters(found, parsed.value);
      const result = await importClusters(ctx.deps, params.provider, selected, parsed.value, ctx.principal.name);
      ctx.audit({ details: { results: result.results.map((r) => `${r.name} (${r.cloudName}): ${r.action}`) } });
      return { status: 200, body: result };
    },
  }),
];
