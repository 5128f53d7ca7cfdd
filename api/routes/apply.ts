// POST /v1/apply: a YAML or JSON stream of Cluster, Environment and Rules documents, as
// `flotilla apply -f` sends it. Everything is validated, authorised and checked against the
// rules before the first write; then Rules, Clusters and Environments are applied in order.
import { z } from 'zod';
import { canonicalJson } from '../../domain/canonical.js';
import { ClusterDocument } from '../../domain/cluster.js';
import type { Path } from '../../domain/diff.js';
import { type FlotillaDocument, parseDocuments, validateDocument, type ValidationIssue, type Validated } from '../../domain/documents.js';
import { ApplicationDocument } from '../../domain/application.js';
import { bindingOf, type Environment, EnvironmentDocument } from '../../domain/environment.js';
import type { ClusterPlacement } from '../../domain/placement.js';
import { type Rules, RulesDocument, type Violation } from '../../domain/rules.js';
import { changeVerdict } from '../../store/change-verdict.js';
import type { CatalogRepositories } from '../../store/catalog.js';
import { changeSpec, createEnvironment } from '../../store/changes.js';
import { ConflictError } from '../../store/errors.js';
import { ApiError, badRequest } from '../errors.js';
import { defineRoute, type RouteContext } from '../route.js';
import { ApplyResult } from '../schemas.js';
import { prepareRegistration, startOnboarding } from '../services/clusters.js';
import { carryToTracking, documentPath, resolveEnvironment, type ResolvedEnvironment, trackingEnvironments } from '../services/applications.js';
import { pinSpec, renderCharts } from '../services/charts.js';
import { namespacePath, requireClusterInService, requireNamespaceFree } from '../services/environments.js';
import { clusterTiers, rulesTiers } from '../services/scopes.js';

type ClusterDoc = z.infer<typeof ClusterDocument>;
type EnvironmentDoc = z.infer<typeof EnvironmentDocument>;
type Result = z.infer<typeof ApplyResult>['results'][number];

const KIND_ORDER = { Rules: 0, Cluster: 1, Application: 2, Environment: 3 } as const;

/** JSON bodies may hold one document or an array of them; anything else is read as YAML. */
export function parseApplyBody(text: string, contentType: string | undefined): Validated<FlotillaDocument[]> {
  if (!contentType?.includes('json')) return parseDocuments(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'malformed_json', 'request body is not valid JSON');
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return { ok: false, issues: [{ path: '(document)', message: 'no documents found' }] };
  const issues: ValidationIssue[] = [];
  const docs: FlotillaDocument[] = [];
  list.forEach((item, i) => {
    const r = validateDocument(item, list.length > 1 ? [`documents[${i}]`] : []);
    if (r.ok) docs.push(r.value);
    else issues.push(...r.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: docs };
}

function nameOf(doc: FlotillaDocument): string {
  return doc.kind === 'Rules' ? doc.metadata?.name ?? 'organisation' : doc.metadata.name;
}

export const applyRoutes = [
  defineRoute({
    method: 'post', path: '/apply', operationId: 'apply', tag: 'apply',
    summary: 'Apply Application, Cluster, Environment and Rules documents (YAML stream or JSON), like `flotilla apply -f`. A changed Application moves the environments that track it, and deploys those that run.',
    action: 'environment.write', body: z.string(), idempotent: true,
    rawBody: {
      content: {
        'application/yaml': z.string(),
        'application/json': z.union([ApplicationDocument, ClusterDocument, EnvironmentDocument, RulesDocument]),
      },
    },
    audit: { action: 'apply', target: () => 'apply' },
    responses: { 200: { description: 'what changed, per document', schema: ApplyResult } },
    async handler({ body }, ctx) {
      const parsed = parseApplyBody(body, ctx.requestContentType);
      if (!parsed.ok) throw badRequest(parsed.issues, 'documents are invalid');
      const docs = parsed.value;
      const at = (i: number, ...path: Path) => documentPath(docs.length, i, ...path);
      ctx.audit({ target: docs.map((d) => `${d.kind.toLowerCase()}/${nameOf(d)}`).join(',').slice(0, 500) });
      const { catalog } = ctx.deps;

      // 1. Authorise every document, and refuse duplicates.
      const seen = new Set<string>();
      for (const [i, doc] of docs.entries()) {
        const key = `${doc.kind}/${nameOf(doc)}`;
        if (seen.has(key)) throw badRequest([{ path: at(i, 'metadata', 'name'), message: `${key} appears twice` }]);
        seen.add(key);
        if (doc.kind === 'Cluster') ctx.authorize('cluster.write', clusterTiers(doc.spec.labels, doc.spec.allowedTiers));
        else if (doc.kind === 'Rules') ctx.authorize('rules.write');
        else if (doc.kind === 'Environment') ctx.authorize('environment.write', [doc.spec.tier]);
        else {
          // A changed application is a change (and a deploy) of every environment that tracks it.
          const tiers = (await trackingEnvironments(catalog, doc.metadata.name)).map((e) => e.binding.tier);
          ctx.authorize('environment.write', tiers);
          ctx.authorize('environment.deploy', tiers);
        }
      }
      const order = docs.map((doc, i) => ({ doc, i })).sort((a, b) => KIND_ORDER[a.doc.kind] - KIND_ORDER[b.doc.kind]);

      // 1b. Pin chart versions to digests (on the worker) and expand uploaded bundles before any revision is computed.
      for (const { doc, i } of order) {
        if (doc.kind === 'Application') doc.spec = await pinSpec(ctx.deps, doc.spec, at(i, 'spec'));
        if (doc.kind === 'Environment' && doc.spec.app) doc.spec.app = await pinSpec(ctx.deps, doc.spec.app, at(i, 'spec', 'app'));
      }

      // 2. Check everything before the first write.
      const rulesDoc = docs.find((d): d is z.infer<typeof RulesDocument> => d.kind === 'Rules');
      const current = (await catalog.rules.current()).rules;
      if (rulesDoc) ctx.authorize('rules.write', rulesTiers(current, rulesDoc.spec));
      const rules: Rules = rulesDoc?.spec ?? current;
      // A scoped admin may not take over a cluster of another tier by re-labelling or re-pointing it.
      for (const doc of docs) {
        if (doc.kind !== 'Cluster') continue;
        const existing = await catalog.clusters.get(doc.metadata.name);
        if (existing) ctx.authorize('cluster.write', clusterTiers(existing.labels, existing.allowedTiers));
      }
      const clusters = new Map<string, ClusterPlacement>((await catalog.clusters.list()).map((c) => [c.name, c]));
      const applications = new Map(docs.filter((d): d is ApplicationDocument => d.kind === 'Application').map((d) => [d.metadata.name, d]));
      const resolved = new Map<string, ResolvedEnvironment>();
      for (const { doc, i } of order) {
        if (doc.kind === 'Environment') resolved.set(doc.metadata.name, await resolveEnvironment(catalog, doc, applications, (...p) => at(i, ...p)));
      }
      const environments = [...resolved.values()].map((r) => r.env);
      const connections = new Map<string, Awaited<ReturnType<typeof prepareRegistration>>>();
      const violations: (Violation & { document?: number })[] = [];
      const judge = async (i: number, targets: Environment[], placements: Map<string, ClusterPlacement>) => {
        await renderCharts(ctx.deps, targets, at(i, 'spec'));
        const verdict = await changeVerdict(catalog, { kind: 'edit', at: ctx.deps.now().toISOString(), targets, rules, clusters: placements, alongside: environments });
        violations.push(...verdict.violations.map((v) => (docs.length > 1 ? { ...v, document: i } : v)));
      };
      for (const { doc, i } of order) {
        if (doc.kind === 'Cluster') {
          connections.set(doc.metadata.name, await prepareRegistration(ctx.deps, { name: doc.metadata.name, connection: doc.spec.connection }).catch((e: unknown) => {
            if (e instanceof ApiError && Array.isArray(e.details)) {
              throw new ApiError(e.status, e.code, e.message, (e.details as ValidationIssue[]).map((d) => ({ ...d, path: at(i, 'spec', d.path) })));
            }
            throw e;
          }));
          clusters.set(doc.metadata.name, doc.spec);
        }
        if (doc.kind === 'Application') {
          // The environments tracking it that this request does not write itself take the new spec.
          const tracking = (await trackingEnvironments(catalog, doc.metadata.name)).filter((e) => !resolved.has(e.binding.name));
          if (tracking.length > 0) await judge(i, tracking.map((e) => ({ binding: e.binding, spec: doc.spec, overrides: e.overrides })), clusters);
        }
        if (doc.kind === 'Environment') {
          const cluster = clusters.get(doc.spec.cluster);
          if (!cluster) {
            throw new ApiError(422, 'invalid_reference', `cluster "${doc.spec.cluster}" is not registered`, [{ path: at(i, 'spec', 'cluster'), message: 'no such cluster' }]);
          }
          await checkImmutable(ctx, doc, (...p) => at(i, ...p));
          await requireClusterInService(catalog, doc.spec.cluster, at(i, 'spec', 'cluster'));
          const { env } = resolved.get(doc.metadata.name)!;
          await requireNamespaceFree(catalog, env.binding, at(i, ...namespacePath(doc).split('.')), environments.map((e) => e.binding));
          await judge(i, [env], new Map([[doc.spec.cluster, cluster]]));
        }
      }
      if (violations.length > 0) throw new ApiError(422, 'rule_violations', `${violations.length} rule violation(s)`, violations);

      // 3. Write everything in one transaction (a failure on any document leaves nothing written),
      //    then start the onboardings of new clusters and the deploys of tracking environments
      //    that run, only once it has committed.
      const moved: string[] = [];
      const results = await catalog.transaction(async (tx) => {
        const out: Result[] = [];
        for (const { doc, i } of order) {
          try {
            if (doc.kind === 'Rules') out.push(await applyRules(tx, doc.spec, ctx.principal.name));
            else if (doc.kind === 'Cluster') out.push(await applyCluster(tx, doc, connections.get(doc.metadata.name)!));
            else if (doc.kind === 'Application') out.push(await applyApplication(tx, doc, ctx.principal.name, resolved, moved));
            else out.push(await applyEnvironment(tx, doc, resolved.get(doc.metadata.name)!, ctx.principal.name, moved));
          } catch (error) {
            if (error instanceof ConflictError) {
              throw new ApiError(409, 'conflict', error.message, [{ path: at(i, 'metadata', 'name'), message: error.message }]);
            }
            throw error;
          }
        }
        return out;
      });
      for (const result of results) {
        if (result.kind === 'Cluster' && result.action === 'created') result.operationId = await startOnboarding(ctx.deps, result.name, ctx.principal.name);
      }
      for (const carried of await carryToTracking(ctx.deps, moved, ctx.principal.name)) {
        const extra = { ...(carried.operationId ? { operationId: carried.operationId } : {}), ...(carried.message ? { message: carried.message } : {}) };
        const named = results.find((r) => r.kind === 'Environment' && r.name === carried.environment);
        if (named) Object.assign(named, extra);
        else results.push({ kind: 'Environment', name: carried.environment, action: carried.operationId ? 'deploying' : 'configured', ...extra });
      }
      ctx.audit({ details: { results: results.map((r) => `${r.kind}/${r.name}: ${r.action}`) } });
      return { status: 200, body: { results } };
    },
  }),
];

async function checkImmutable(ctx: RouteContext, doc: EnvironmentDoc, at: (...p: Path) => string): Promise<void> {
  const existing = await ctx.deps.catalog.environments.get(doc.metadata.name);
  if (!existing) return;
  const wanted = bindingOf(doc);
  const fields = ['application', 'tier', 'cluster', 'namespace', 'residency'] as const;
  const changed = fields.filter((f) => existing.binding[f] !== wanted[f]);
  if (changed.length > 0) {
    ctx.authorize('environment.write', [existing.binding.tier]);
    throw new ApiError(409, 'immutable_field', `environment "${doc.metadata.name}" exists with another ${changed.join(', ')}; these cannot change`,
      changed.map((f) => ({ path: at('spec', f), message: `is "${existing.binding[f] ?? ''}"; cannot change` })));
  }
}

async function applyRules(tx: CatalogRepositories, rules: Rules, by: string): Promise<Result> {
  const current = await tx.rules.current();
  if (current.version > 0 && canonicalJson(current.rules) === canonicalJson(rules)) return { kind: 'Rules', name: 'organisation', action: 'unchanged' };
  await tx.rules.put(rules, { by });
  return { kind: 'Rules', name: 'organisation', action: current.version === 0 ? 'created' : 'configured' };
}

async function applyCluster(tx: CatalogRepositories, doc: ClusterDoc, connection: ClusterDoc['spec']['connection']): Promise<Result> {
  const name = doc.metadata.name;
  const existing = await tx.clusters.get(name);
  const { allowedTiers, adoptableNamespaces } = doc.spec;
  if (!existing) {
    await tx.clusters.create({ name, region: doc.spec.region, labels: doc.spec.labels, allowedTiers, adoptableNamespaces, connection, status: 'onboarding' });
    return { kind: 'Cluster', name, action: 'created' };
  }
  let action: Result['action'] = 'unchanged';
  if (canonicalJson(existing.labels) !== canonicalJson(doc.spec.labels)) {
    await tx.clusters.setLabels(name, doc.spec.labels);
    action = 'configured';
  }
  if (canonicalJson([existing.allowedTiers, existing.adoptableNamespaces]) !== canonicalJson([allowedTiers, adoptableNamespaces])) {
    await tx.clusters.setPlacement(name, { allowedTiers, adoptableNamespaces });
    action = 'configured';
  }
  if (canonicalJson(existing.connection) !== canonicalJson(connection) || (existing.region ?? null) !== (doc.spec.region ?? null)) {
    await tx.clusters.setConnection(name, connection, doc.spec.region);
    action = 'configured';
  }
  return { kind: 'Cluster', name, action };
}

/**
 * Stores the application's spec; the environments tracking it that this request does not write
 * itself move to it (`moved`: those whose revision changed, to deploy once committed).
 */
async function applyApplication(tx: CatalogRepositories, doc: ApplicationDocument, by: string, resolved: ReadonlyMap<string, ResolvedEnvironment>, moved: string[]): Promise<Result> {
  const inTx = { transaction: <T>(fn: (repos: CatalogRepositories) => Promise<T>) => fn(tx) };
  const existing = await tx.applications.get(doc.metadata.name);
  const { application, changed } = await tx.applications.put(doc.metadata.name, doc.spec, { author: by });
  for (const env of await trackingEnvironments(tx, doc.metadata.name)) {
    if (resolved.has(env.binding.name)) continue;
    if ((await changeSpec(inTx, env.binding.name, doc.spec, { author: by })).changed) moved.push(env.binding.name);
  }
  return { kind: 'Application', name: doc.metadata.name, action: !existing ? 'created' : changed ? 'configured' : 'unchanged', revision: application.currentRevision };
}

async function applyEnvironment(tx: CatalogRepositories, doc: EnvironmentDoc, { env, updates, fromApplication }: ResolvedEnvironment, by: string, moved: string[]): Promise<Result> {
  // The store's multi-table changes run inside this one transaction.
  const inTx = { transaction: <T>(fn: (repos: CatalogRepositories) => Promise<T>) => fn(tx) };
  const name = doc.metadata.name;
  const existing = await tx.environments.get(name);
  if (!existing) {
    const { revision } = await createEnvironment(inTx, { binding: env.binding, spec: env.spec, overrides: env.overrides, driftPolicy: env.driftPolicy, updates, author: by });
    return { kind: 'Environment', name, action: 'created', revision: revision.id };
  }
  let action: Result['action'] = 'unchanged';
  let revision = existing.currentRevision;
  if (existing.updates !== updates) {
    await tx.environments.setUpdates(name, updates);
    action = 'configured';
  }
  // Its own inline app, or the Application it tracks (or starts to): the spec moves; by promotion it stays.
  if (updates === 'inline' || fromApplication) {
    const spec = await changeSpec(inTx, name, env.spec, { author: by });
    if (spec.changed) {
      action = 'configured';
      if (updates === 'track') moved.push(name);
    }
    revision = spec.revision.id;
  }
  if (canonicalJson(existing.overrides) !== canonicalJson(env.overrides)) {
    await tx.environments.setOverrides(name, env.overrides, { author: by });
    action = 'configured';
  }
  const driftPolicy = env.driftPolicy ?? 'report';
  if (existing.driftPolicy !== driftPolicy) {
    await tx.environments.setDriftPolicy(name, driftPolicy);
    action = 'configured';
  }
  return { kind: 'Environment', name, action, ...(revision ? { revision } : {}) };
}
