// Environments as the API shows and changes them: views, the rules check before a change,
// and the deploy start.
import type { AppSpec, EnvironmentBinding, EnvironmentDocument, Overrides } from '../../domain/environment.js';
import { checkOverrides, defaultUpdates, type Tier, type UpdateMode } from '../../domain/environment.js';
import { formatPath } from '../../domain/diff.js';
import { shortRevision } from '../../domain/revision.js';
import type { DataCopy, Rules } from '../../domain/rules.js';
import type { Catalog } from '../../store/catalog.js';
import { changeVerdict } from '../../store/change-verdict.js';
import { NotFoundError } from '../../store/errors.js';
import { createEnvironment } from '../../store/changes.js';
import type { EnvironmentRecord } from '../../store/environments.js';
import { type Health, type ServiceStatus, worstHealth } from '../../store/status.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest } from '../errors.js';
import type { OperationReservation } from '../starter.js';
import { resolveEnvironment } from './applications.js';
import { pinSpec, renderCharts } from './charts.js';
import { startOperation } from './operations.js';

export function environmentView(e: EnvironmentRecord) {
  return {
    ...e.binding,
    overrides: e.overrides,
    overridesVersion: e.overridesVersion,
    currentRevision: e.currentRevision,
    deployed: e.deployed,
    driftPolicy: e.driftPolicy,
    updates: e.updates,
    ...(e.stopped ? { stopped: e.stopped } : {}),
    generation: e.generation,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** The worst health among services; `unknown` before the observer has seen any. */
export function overallHealth(services: ServiceStatus[]): Health {
  return worstHealth(services.map((s) => s.health));
}

export interface Target {
  binding: EnvironmentRecord['binding'];
  spec: AppSpec;
  overrides: Overrides;
}

/**
 * Checks the organisation's rules on a change. Spec and override edits skip freeze windows
 * (they change nothing running); a deploy checks them all. Violations → 422, each listed.
 */
export async function checkRules(deps: Parameters<typeof renderCharts>[0], target: Target, options: { kind: 'edit' | 'deploy' | 'clone'; at: Date; rules?: Rules; copy?: DataCopy }): Promise<void> {
  // Charts are judged by their render: the worker renders what the cache lacks.
  await renderCharts(deps, [target]);
  let verdict;
  try {
    verdict = await changeVerdict(deps.catalog, { kind: options.kind, at: options.at.toISOString(), targets: [target], rules: options.rules, ...(options.copy ? { copy: options.copy } : {}) });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new ApiError(422, 'invalid_reference', `cluster "${target.binding.cluster}" is not registered`, [
      { path: 'spec.cluster', message: 'no such cluster' },
    ]);
  }
  if (!verdict.allowed) {
    throw new ApiError(422, 'rule_violations', `${verdict.violations.length} rule violation(s)`, verdict.violations);
  }
}

/** Overrides must only touch what the spec declares; issues carry field paths (→ 400). */
export function requireOverridesFit(spec: AppSpec, overrides: Overrides, at: string[] = []): void {
  const problems = checkOverrides(spec, overrides);
  if (problems.length > 0) throw badRequest(problems.map((p) => ({ path: formatPath([...at, ...p.path]), message: p.message })));
}

/**
 * Two environments never share a namespace of one cluster (they would prune each other's
 * objects): refused with the field that names it (→ 409). `alongside`: environments the same
 * request writes. The catalog's unique index backs this up against a race.
 */
export async function requireNamespaceFree(catalog: Catalog, binding: EnvironmentBinding, path: string, alongside: readonly EnvironmentBinding[] = []): Promise<void> {
  const sameNamespace = (other: EnvironmentBinding) =>
    other.name !== binding.name && other.cluster === binding.cluster && other.namespace === binding.namespace;
  const holder = alongside.find(sameNamespace) ?? (await catalog.environments.list({ cluster: binding.cluster })).map((e) => e.binding).find(sameNamespace);
  if (!holder) return;
  throw new ApiError(409, 'namespace_taken', `namespace "${binding.namespace}" on cluster "${binding.cluster}" belongs to environment "${holder.name}"`, [
    { path, message: `is environment "${holder.name}"'s namespace on cluster "${binding.cluster}"` },
  ]);
}

/** Where an environment document names its namespace: `spec.namespace`, or its name when that is the default. */
export function namespacePath(doc: EnvironmentDocument): string {
  return doc.spec.namespace === undefined ? 'metadata.name' : 'spec.namespace';
}

/** No new environment on a cluster that was offboarded (→ 422 at spec.cluster). */
export async function requireClusterInService(catalog: Catalog, cluster: string, path = 'spec.cluster'): Promise<void> {
  if ((await catalog.clusters.get(cluster))?.status !== 'offboarded') return;
  throw new ApiError(422, 'invalid_reference', `cluster "${cluster}" is offboarded`, [{ path, message: 'is offboarded' }]);
}

export async function createFromDocument(deps: ApiDeps, doc: EnvironmentDocument, by: string, rules?: Rules) {
  if (doc.spec.app) doc = { ...doc, spec: { ...doc.spec, app: await pinSpec(deps, doc.spec.app, 'spec.app') } };
  const { env, updates } = await resolveEnvironment(deps.catalog, doc, new Map(), (...path) => formatPath(path));
  await requireClusterInService(deps.catalog, env.binding.cluster);
  await checkRules(deps, env, { kind: 'edit', at: deps.now(), rules });
  await requireNamespaceFree(deps.catalog, env.binding, namespacePath(doc));
  return createEnvironment(deps.catalog, { binding: env.binding, spec: env.spec, overrides: env.overrides, driftPolicy: env.driftPolicy, updates, author: by });
}

/**
 * A new environment of the source's application starting at the revision the source runs
 * (`flotilla env create NAME --from SRC`): its own binding, no overrides, no secrets (each
 * environment sets its own). Refused (409) for a source never deployed.
 */
export async function copyEnvironment(deps: ApiDeps, source: EnvironmentRecord, request: CopyEnvironmentRequest, by: string) {
  if (!source.deployed) throw new ApiError(409, 'not_deployed', `environment "${source.binding.name}" has never been deployed: there is no revision to start from`);
  const tier = request.tier ?? source.binding.tier;
  const binding: EnvironmentBinding = {
    name: request.name, application: source.binding.application, tier, cluster: request.cluster, namespace: request.namespace ?? request.name,
    ...(request.residency ? { residency: request.residency } : {}),
  };
  const { spec } = await deps.catalog.revisions.require(source.deployed.revision);
  const updates = source.updates === 'inline' ? 'inline' : request.updates ?? defaultUpdates(tier);
  const overrides = { replicas: {}, resources: {}, hostnames: {}, config: {} };
  await requireClusterInService(deps.catalog, binding.cluster, 'cluster');
  await checkRules(deps, { binding, spec, overrides }, { kind: 'edit', at: deps.now() });
  await requireNamespaceFree(deps.catalog, binding, request.namespace === undefined ? 'name' : 'namespace');
  return createEnvironment(deps.catalog, { binding, spec, overrides, updates, author: by });
}

export interface CopyEnvironmentRequest {
  name: string;
  cluster: string;
  namespace?: string;
  tier?: Tier;
  residency?: string;
  updates?: UpdateMode;
}

/** Resolves `sha256:…` or a short form to a revision this environment has had. */
export async function resolveRevision(catalog: Catalog, environment: EnvironmentRecord, wanted: string | undefined): Promise<string> {
  if (wanted === undefined) {
    if (!environment.currentRevision) throw new ApiError(409, 'conflict', `environment "${environment.binding.name}" has no revision`);
    return environment.currentRevision;
  }
  const short = shortRevision(wanted);
  const known = new Set<string>([environment.currentRevision, environment.deployed?.revision].filter((r): r is string => !!r));
  let cursor: string | undefined;
  do {
    const page = await catalog.history.list(environment.binding.name, { limit: 500, cursor });
    for (const h of page.items) known.add(h.revision);
    cursor = page.nextCursor;
  } while (cursor);
  const match = [...known].filter((id) => (wanted.startsWith('sha256:') ? id === wanted : shortRevision(id).startsWith(short)));
  if (match.length !== 1) {
    throw new ApiError(422, 'invalid_reference', `revision "${wanted}" is not ${match.length > 1 ? 'unique among' : 'one of'} the revisions of "${environment.binding.name}"`, [
      { path: 'revision', message: match.length > 1 ? 'ambiguous' : 'unknown revision' },
    ]);
  }
  return match[0]!;
}

export async function deployId(catalog: Catalog, environment: string, revision: string): Promise<string> {
  const prefix = `deploy-${environment}-${shortRevision(revision)}-`;
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await catalog.operations.list({ kind: 'deploy', environment, limit: 500, cursor });
    n += page.items.filter((o) => o.id.startsWith(prefix)).length;
    cursor = page.nextCursor;
  } while (cursor);
  return `${prefix}${n + 1}`;
}

/**
 * Checks the rules on the revision to run, takes the environment, then starts
 * deployEnvironment. A revision the caller names becomes the desired one too (a deploy of an
 * older revision is a rollback by hand: a later plain deploy keeps it).
 */
export async function deploy(deps: ApiDeps, environment: EnvironmentRecord, wanted: string | undefined, by: string, reservation?: OperationReservation): Promise<string> {
  const revision = await resolveRevision(deps.catalog, environment, wanted);
  const spec = (await deps.catalog.revisions.require(revision)).spec;
  await checkRules(deps, { binding: environment.binding, spec, overrides: environment.overrides }, { kind: 'deploy', at: deps.now() });
  const name = environment.binding.name;
  const { operationId } = await startOperation(deps, {
    id: await deployId(deps.catalog, name, revision),
    kind: 'deploy',
    workflowType: 'deployEnvironment',
    input: { environment: name, revision, requestedBy: by, ...(wanted !== undefined ? { desired: revision } : {}) },
    environments: [name],
    locks: [name],
    clusters: [environment.binding.cluster],
    requestedBy: by,
  }, reservation);
  return operationId;
}

