// /v1/environments: create from an Environment document, list, show with live status, new
// spec (revision), overrides, deploy, history, diff, delete.
import { z } from 'zod';
import { diffEnvironments } from '../../domain/diff.js';
import { validateDocument } from '../../domain/documents.js';
import { DnsLabel } from '../../domain/names.js';
import { EnvironmentDocument } from '../../domain/environment.js';
import { changeSpec } from '../../store/changes.js';
import type { Catalog } from '../../store/catalog.js';
import { ApiError, badRequest } from '../errors.js';
import { defineRoute } from '../route.js';
import {
  AppSpec, CopyEnvironmentBody, DeployBody, DiffView, EnvironmentDetail, EnvironmentQuery, EnvironmentView, HistoryView, list, NameParam,
  OperationAccepted, Overrides, page, PageQuery, SpecChanged, StopStartBody, TeardownQuery,
} from '../schemas.js';
import {
  checkRules, copyEnvironment, createFromDocument, deploy, environmentView, overallHealth, requireOverridesFit,
} from '../services/environments.js';
import { accepted } from '../services/operations.js';
import { pinSpec } from '../services/charts.js';
import { requireRunning, startStopOrStart } from '../services/stop-start.js';
import { startEnvironmentTeardown } from '../services/teardown.js';
import { rawName } from './common.js';

const target = ({ params }: { params: Record<string, string> }) => `environment/${params.name ?? '?'}`;

/** The spec an environment runs: deployed, else current. */
async function runningSpec(catalog: Catalog, name: string) {
  const env = await catalog.environments.require(name);
  const revision = env.deployed?.revision ?? env.currentRevision;
  if (!revision) return { env, revision: '', spec: undefined };
  return { env, revision, spec: (await catalog.revisions.require(revision)).spec };
}

export const environmentRoutes = [
  defineRoute({
    method: 'post', path: '/environments', operationId: 'createEnvironment', tag: 'environments',
    summary: 'Create an environment from an Environment document (its first revision).',
    action: 'environment.write', body: EnvironmentDocument, idempotent: true,
    audit: { action: 'environment.create', target: ({ body }) => `environment/${rawName(body)}` },
    responses: { 201: { description: 'created', schema: EnvironmentView, headers: { Location: 'the environment' } } },
    async handler({ body }, ctx) {
      // Cross-field checks (overrides against the spec) with document paths.
      const checked = validateDocument(body);
      if (!checked.ok) throw badRequest(checked.issues);
      const doc = checked.value as EnvironmentDocument;
      ctx.audit({ target: `environment/${doc.metadata.name}` });
      ctx.authorize('environment.write', [doc.spec.tier]);
      const { environment, revision } = await createFromDocument(ctx.deps, doc, ctx.principal.name);
      ctx.audit({ details: { revision: revision.id } });
      return { status: 201, body: environmentView(environment), headers: { Location: `/v1/environments/${environment.binding.name}` } };
    },
  }),
  defineRoute({
    method: 'post', path: '/environments/{name}/copies', operationId: 'copyEnvironment', tag: 'environments',
    summary: "Create an environment from another one (`flotilla env create NAME --from SRC`): the same application, its own binding, starting at the revision the source runs; no overrides, no secrets.",
    action: 'environment.write', params: NameParam, body: CopyEnvironmentBody, idempotent: true,
    audit: { action: 'environment.create', target: ({ body }) => `environment/${rawName(body)}` },
    responses: { 201: { description: 'created', schema: EnvironmentView, headers: { Location: 'the environment' } } },
    async handler({ params, body }, ctx) {
      const source = await ctx.deps.catalog.environments.require(params.name);
      ctx.authorize('environment.write', [body.tier ?? source.binding.tier]);
      const { environment, revision } = await copyEnvironment(ctx.deps, source, body, ctx.principal.name);
      ctx.audit({ details: { from: params.name, revision: revision.id } });
      return { status: 201, body: environmentView(environment), headers: { Location: `/v1/environments/${environment.binding.name}` } };
    },
  }),
  defineRoute({
    method: 'get', path: '/environments', operationId: 'listEnvironments', tag: 'environments', summary: 'List environments',
    action: 'read', query: EnvironmentQuery,
    responses: { 200: { description: 'environments', schema: list(EnvironmentView) } },
    async handler({ query }, ctx) {
      const items = await ctx.deps.catalog.environments.list(query);
      return { status: 200, body: { items: items.map(environmentView) } };
    },
  }),
  defineRoute({
    method: 'get', path: '/environments/{name}', operationId: 'getEnvironment', tag: 'environments',
    summary: 'Show an environment with its current spec and live status.',
    action: 'read', params: NameParam,
    responses: { 200: { description: 'the environment', schema: EnvironmentDetail } },
    async handler({ params }, ctx) {
      const { catalog } = ctx.deps;
      const env = await catalog.environments.require(params.name);
      const spec = env.currentRevision ? (await catalog.revisions.require(env.currentRevision)).spec : undefined;
      const services = await catalog.status.forEnvironment(params.name);
      return {
        status: 200,
        body: {
          ...environmentView(env),
          spec,
          status: { health: overallHealth(services), services: services.map(({ environment: _e, ...s }) => s) },
        },
      };
    },
  }),
  defineRoute({
    method: 'put', path: '/environments/{name}/spec', operationId: 'putEnvironmentSpec', tag: 'environments',
    summary: 'Set the spec: stores a new revision (an unchanged spec changes nothing).',
    action: 'environment.write', params: NameParam, body: AppSpec,
    audit: { action: 'environment.spec', target },
    responses: { 200: { description: 'the revision', schema: SpecChanged } },
    async handler({ params, body }, ctx) {
      const { catalog } = ctx.deps;
      const env = await catalog.environments.require(params.name);
      ctx.authorize('environment.write', [env.binding.tier]);
      if (env.updates !== 'inline') {
        throw new ApiError(409, 'spec_from_application', env.updates === 'track'
          ? `environment "${params.name}" takes its spec from Application "${env.binding.application}": apply the Application instead`
          : `environment "${params.name}" changes only by promotion (updates: promotion): promote a revision into it`);
      }
      requireOverridesFit(body, env.overrides, ['overrides']);
      // Chart versions are pinned to digests, uploaded bundles expanded, before the revision is computed.
      const spec = await pinSpec(ctx.deps, body, '');
      await checkRules(ctx.deps, { binding: env.binding, spec, overrides: env.overrides }, { kind: 'edit', at: ctx.deps.now() });
      const result = await changeSpec(catalog, params.name, spec, { author: ctx.principal.name });
      ctx.audit({ details: { revision: result.revision.id, changed: result.changed } });
      return { status: 200, body: { environment: environmentView(result.environment), revision: result.revision.id, changed: result.changed } };
    },
  }),
  defineRoute({
    method: 'put', path: '/environments/{name}/overrides', operationId: 'putEnvironmentOverrides', tag: 'environments',
    summary: 'Set the environment-specific overrides.',
    action: 'environment.write', params: NameParam, body: Overrides,
    audit: { action: 'environment.overrides', target },
    responses: { 200: { description: 'the environment', schema: EnvironmentView } },
    async handler({ params, body }, ctx) {
      const { catalog } = ctx.deps;
      const env = await catalog.environments.require(params.name);
      ctx.authorize('environment.write', [env.binding.tier]);
      if (env.currentRevision) {
        const spec = (await catalog.revisions.require(env.currentRevision)).spec;
        requireOverridesFit(spec, body);
        await checkRules(ctx.deps, { binding: env.binding, spec, overrides: body }, { kind: 'edit', at: ctx.deps.now() });
      }
      const updated = await catalog.environments.setOverrides(params.name, body, { generation: env.generation, author: ctx.principal.name });
      ctx.audit({ details: { overridesVersion: updated.overridesVersion } });
      return { status: 200, body: environmentView(updated) };
    },
  }),
  defineRoute({
    method: 'post', path: '/environments/{name}/deploy', operationId: 'deployEnvironment', tag: 'environments',
    summary: 'Deploy a revision (the current one by default): starts deployEnvironment.',
    action: 'environment.deploy', params: NameParam, body: DeployBody, bodyOptional: true, idempotent: true,
    audit: { action: 'environment.deploy', target },
    responses: { 202: { description: 'deploy started', schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ params, body }, ctx) {
      const env = await ctx.deps.catalog.environments.require(params.name);
      ctx.authorize('environment.deploy', [env.binding.tier]);
      if (!body.keepStopped) await requireRunning(ctx.deps.catalog, [params.name], 'keepStopped');
      const operationId = await deploy(ctx.deps, env, body.revision, ctx.principal.name, ctx.reservation);
      ctx.audit({ operationId });
      return accepted(operationId);
    },
  }),
  ...(['stop', 'start'] as const).map((action) => defineRoute({
    method: 'post', path: `/environments/{name}/${action}`, operationId: `${action}Environment`, tag: 'environments',
    summary: action === 'stop'
      ? 'Stop the environment: every workload scaled to zero (CronJobs suspended), what each ran recorded; refused where the rules forbid stopping the tier (422).'
      : 'Start a stopped environment: every workload back to exactly what it ran before the stop.',
    action: 'environment.deploy', params: NameParam, body: StopStartBody, bodyOptional: true, idempotent: true,
    audit: { action: `environment.${action}`, target },
    responses: { 202: { description: `${action} started`, schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ params, body }, ctx) {
      const env = await ctx.deps.catalog.environments.require(params.name);
      ctx.authorize('environment.deploy', [env.binding.tier]);
      const operationId = await startStopOrStart(ctx.deps, env, action, { by: ctx.principal.name, rolloutTimeoutSeconds: body.rolloutTimeoutSeconds }, ctx.reservation);
      ctx.audit({ operationId });
      return accepted(operationId);
    },
  })),
  defineRoute({
    method: 'get', path: '/environments/{name}/revisions', operationId: 'listEnvironmentRevisions', tag: 'environments',
    summary: 'History: every spec change and deploy, newest first.',
    action: 'read', params: NameParam, query: PageQuery,
    responses: { 200: { description: 'history', schema: page(HistoryView) } },
    async handler({ params, query }, ctx) {
      await ctx.deps.catalog.environments.require(params.name);
      return { status: 200, body: await ctx.deps.catalog.history.list(params.name, { limit: query.limit, cursor: query.cursor }) };
    },
  }),
  defineRoute({
    method: 'get', path: '/environments/{name}/diff/{other}', operationId: 'diffEnvironments', tag: 'environments',
    summary: 'What differs between two environments (deployed revisions, else current): overrides and everything else.',
    action: 'read', params: z.strictObject({ name: DnsLabel, other: DnsLabel }),
    responses: { 200: { description: 'the difference', schema: DiffView } },
    async handler({ params }, ctx) {
      const a = await runningSpec(ctx.deps.catalog, params.name);
      const b = await runningSpec(ctx.deps.catalog, params.other);
      const empty = { services: [], databases: [], config: {}, environmentConfig: [], secrets: [] };
      const diff = diffEnvironments(
        { binding: a.env.binding, spec: a.spec ?? empty, overrides: a.env.overrides },
        { binding: b.env.binding, spec: b.spec ?? empty, overrides: b.env.overrides },
      );
      return {
        status: 200,
        body: { a: { name: params.name, revision: a.revision }, b: { name: params.other, revision: b.revision }, ...diff, zeroDrift: diff.other.length === 0 },
      };
    },
  }),
  defineRoute({
    method: 'delete', path: '/environments/{name}', operationId: 'deleteEnvironment', tag: 'environments',
    summary: 'Tear the environment down: starts teardownEnvironment, which removes every object Flotilla created for it (its PersistentVolumeClaims only with deleteData=true), waits until the cluster confirms, then removes the catalog entry (revisions and audit stay). 409 while a promotion, clone or drill involves it; a second request while one runs answers with that one.',
    action: 'environment.write', params: NameParam, query: TeardownQuery, idempotent: true,
    audit: { action: 'environment.teardown', target },
    responses: { 202: { description: 'teardown started (or already under way)', schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ params, query }, ctx) {
      const env = await ctx.deps.catalog.environments.require(params.name);
      ctx.authorize('environment.write', [env.binding.tier]);
      const operationId = await startEnvironmentTeardown(ctx.deps, env, { deleteData: query.deleteData, by: ctx.principal.name }, ctx.reservation);
      ctx.audit({ operationId, details: { deleteData: query.deleteData } });
      return accepted(operationId);
    },
  }),
];
