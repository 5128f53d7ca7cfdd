// Clones as the API plans, starts, shows and ends them. Everything a clone will be is decided
// and checked here before anything is written: the source and its revision, the clone's
// binding and overrides, which databases are copied how, the secrets it needs of its own, the
// rules (residency, tiers, hosts) and who may copy what. Then, in one transaction, the clone's
// environment, its secrets and its record, and the cloneEnvironment workflow is started.
//
// Workflow ids (the operation ids):
//   clone-<name>-<n>        n counts clones made under that name (1, 2, …)
//   expire-<clone id>       its TTL clock (cloneExpiry), when it has a TTL
//   teardown-<clone id>     its teardown (teardownClone)
import {
  cloneBinding, cloneOverrides, dataExposure, dataPlan, type CloneRequest, type DataPlanEntry,
} from '../../domain/clone.js';
import { EnvironmentBinding, type AppSpec, type Overrides, type Tier } from '../../domain/environment.js';
import { databasePasswordSecret } from '../../domain/render.js';
import type { ValidationIssue } from '../../domain/documents.js';
import type { CloneRecord } from '../../store/clones.js';
import type { EnvironmentRecord } from '../../store/environments.js';
import { environmentScope } from '../../store/secrets.js';
import { cancelTtlUpdate, cloneExpiryQuery, cloneStateQuery, extendTtlUpdate, type CloneExpiry } from '../../workflows/messages.js';
import type { Action } from '../authz.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest } from '../errors.js';
import { OperationAlreadyRunningError, OperationNotFoundError, UpdateRejectedError, type OperationReservation } from '../starter.js';
import { checkRules, requireNamespaceFree, requireOverridesFit, resolveRevision } from './environments.js';
import { queryIfRunning, startOperation } from './operations.js';

export type CloneBody = CloneRequest & { secrets?: Record<string, string> };

/** What planning and writing a clone need: also what a schedule's run (activities/schedule.ts) gives them. */
export type CloneDeps = Pick<ApiDeps, 'catalog' | 'now'> & Omit<Parameters<typeof checkRules>[0], 'catalog'>;

export interface PlannedClone {
  request: CloneRequest;
  source: EnvironmentRecord;
  revision: string;
  spec: AppSpec;
  binding: EnvironmentBinding;
  overrides: Overrides;
  data: DataPlanEntry[];
  /** Secret values the request gives the clone (names only ever leave this process). */
  secrets: Record<string, string>;
}

/** Reads and checks what a clone request names: 404 for its source, 409 for a name in use, 400 with field paths for the rest. */
export async function planClone(deps: CloneDeps, body: CloneBody): Promise<PlannedClone> {
  const { catalog } = deps;
  const { secrets: given = {}, ...request } = body;
  const source = await catalog.environments.get(request.source);
  if (!source) throw new ApiError(404, 'not_found', `environment "${request.source}" not found`, [{ path: 'source', message: 'no such environment' }]);
  if (await catalog.environments.get(request.name)) {
    throw new ApiError(409, 'conflict', `environment "${request.name}" already exists`, [{ path: 'name', message: 'is an existing environment' }]);
  }
  const revision = request.revision !== undefined
    ? await resolveRevision(catalog, source, request.revision)
    : source.deployed?.revision ?? source.currentRevision;
  if (!revision) throw new ApiError(409, 'conflict', `environment "${source.binding.name}" has no revision to clone`);
  const { spec } = await catalog.revisions.require(revision);

  const issues: ValidationIssue[] = [];
  const parsedBinding = EnvironmentBinding.safeParse(cloneBinding(source, request));
  if (!parsedBinding.success) {
    for (const issue of parsedBinding.error.issues) issues.push({ path: issue.path[0] === 'namespace' && !request.namespace ? 'name' : issue.path.join('.'), message: issue.message });
  }
  const overrides = cloneOverrides(source.overrides, request.overrides ?? {});
  const { plan, problems } = dataPlan(spec, request.data);
  issues.push(...problems);
  issues.push(...secretProblems(spec, given));
  if (issues.length > 0) throw badRequest(issues);
  requireOverridesFit(spec, overrides, ['overrides']);
  return { request, source, revision, spec, binding: parsedBinding.data!, overrides, data: plan, secrets: given };
}

/**
 * The secrets a clone gets of its own: any the spec declares or a container database's password
 * (otherwise the clone's deploy makes one), and always the connection secret of each external
 * database (a clone never writes into its source's database; its connection is never copied).
 */
function secretProblems(spec: AppSpec, given: Record<string, string>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const declared = new Set([...spec.secrets, ...spec.databases.filter((d) => d.mode === 'container').map((d) => databasePasswordSecret(d.name))]);
  for (const [name, value] of Object.entries(given)) {
    if (!declared.has(name)) issues.push({ path: `secrets.${name}`, message: `the spec declares no secret "${name}" (it declares ${[...declared].join(', ') || 'none'})` });
    else if (value.length === 0) issues.push({ path: `secrets.${name}`, message: 'must not be empty' });
  }
  for (const db of spec.databases) {
    if (db.mode !== 'external' || Object.hasOwn(given, db.connectionSecret)) continue;
    issues.push({
      path: `secrets.${db.connectionSecret}`,
      message: `database "${db.name}" is external: the clone needs a connection of its own (its source's is never copied)`,
    });
  }
  return issues;
}

/**
 * What the caller must be allowed: making environments of the clone's tier and changing the
 * source's (a clone carries the source's secrets and, when copied, its data, so a token scoped
 * to dev never clones prod into dev), and copying a prod database as it is (clone.data.prod).
 */
export function clonePermissions(planned: PlannedClone, action: Action = 'clone.create'): { action: Action; tiers: Tier[] }[] {
  const wanted: { action: Action; tiers: Tier[] }[] = [{ action, tiers: [...new Set([planned.binding.tier, planned.source.binding.tier])] }];
  if (dataExposure(planned.source.binding.tier, planned.data) === 'raw-prod') wanted.push({ action: 'clone.data.prod', tiers: [planned.source.binding.tier] });
  return wanted;
}

/** The rules on the clone as it would run (422 listing each violation), and its namespace free (409). */
export async function checkClone(deps: CloneDeps, planned: PlannedClone): Promise<void> {
  await checkRules(deps, { binding: planned.binding, spec: planned.spec, overrides: planned.overrides }, {
    kind: 'clone', at: deps.now(), copy: { sourceTier: planned.source.binding.tier, databases: planned.data },
  });
  await requireNamespaceFree(deps.catalog, planned.binding, planned.request.namespace ? 'namespace' : 'name');
}

export async function cloneId(deps: CloneDeps, name: string): Promise<string> {
  return `clone-${name}-${(await deps.catalog.clones.list({ name })).length + 1}`;
}

/**
 * Writes the clone's environment, secrets and record, then starts cloneEnvironment with the
 * source and the clone locked. A start that fails takes the writes back.
 */
export async function startClone(deps: ApiDeps, planned: PlannedClone, by: string, reservation?: OperationReservation): Promise<string> {
  const id = reservation?.earlier ?? await cloneId(deps, planned.binding.name);
  const known = await deps.catalog.clones.get(id);
  if (!known) await writeClone(deps, planned, id, by);
  try {
    const { operationId } = await startOperation(deps, {
      id, kind: 'clone', workflowType: 'cloneEnvironment', input: { cloneId: id, requestedBy: by },
      environments: [planned.binding.name, planned.source.binding.name], clusters: [planned.binding.cluster],
      locks: [planned.binding.name, planned.source.binding.name], requestedBy: by,
    }, reservation);
    return operationId;
  } catch (error) {
    if (!(error instanceof OperationAlreadyRunningError)) await unwriteClone(deps, id, planned.binding.name);
    throw error;
  }
}

export async function writeClone(deps: CloneDeps, planned: PlannedClone, id: string, by: string): Promise<void> {
  const { catalog } = deps;
  // Read before the transaction: inside it only `tx` may be used.
  const copied = await sourceSecrets(deps, planned);
  await catalog.transaction(async (tx) => {
    await tx.environments.create({ binding: planned.binding, overrides: planned.overrides, currentRevision: planned.revision, author: by });
    const scope = environmentScope(planned.binding.name);
    for (const [name, value] of copied) await tx.secrets.put(scope, name, value);
    for (const [name, value] of Object.entries(planned.secrets)) await tx.secrets.put(scope, name, value);
    await tx.clones.create({
      id, name: planned.binding.name, source: planned.source.binding.name, sourceRevision: planned.revision,
      cluster: planned.binding.cluster, purpose: planned.request.purpose, data: planned.data, createdBy: by,
      ...(planned.request.ttl !== undefined ? { ttlSeconds: planned.request.ttl } : {}),
    });
  });
}

/**
 * The source's secret values the clone shares: all of them but its container databases'
 * passwords (the clone's databases get their own) and what the request gives itself.
 */
async function sourceSecrets(deps: CloneDeps, planned: PlannedClone): Promise<Map<string, string>> {
  const scope = environmentScope(planned.source.binding.name);
  const skip = new Set([
    ...planned.spec.databases.filter((d) => d.mode === 'container').map((d) => databasePasswordSecret(d.name)),
    ...planned.spec.databases.flatMap((d) => (d.mode === 'external' ? [d.connectionSecret] : [])),
    ...Object.keys(planned.secrets),
  ]);
  const values = new Map<string, string>();
  for (const { name } of await deps.catalog.secrets.list(scope)) {
    if (skip.has(name)) continue;
    const value = await deps.catalog.secrets.get(scope, name);
    if (value !== undefined) values.set(name, value);
  }
  return values;
}

export async function unwriteClone(deps: ApiDeps, id: string, name: string): Promise<void> {
  await deps.catalog.transaction(async (tx) => {
    if (await tx.environments.get(name)) await tx.environments.remove(name);
    if (await tx.clones.get(id)) await tx.clones.update(id, { state: 'torn-down', message: 'its workflow could not be started' });
  });
}

export async function requireClone(deps: ApiDeps, id: string): Promise<CloneRecord> {
  const clone = await deps.catalog.clones.get(id);
  if (!clone) throw new ApiError(404, 'not_found', `clone "${id}" not found`);
  return clone;
}

/** The clone's record, with its workflow's live phase while it runs and its TTL clock's time left. */
export async function cloneView(deps: ApiDeps, clone: CloneRecord) {
  const [live, expiry] = await Promise.all([
    clone.state === 'creating' ? queryIfRunning(deps, clone.id, cloneStateQuery) : undefined,
    clone.expiresAt !== undefined && clone.state === 'ready' ? queryIfRunning(deps, `expire-${clone.id}`, cloneExpiryQuery) : undefined,
  ]);
  const environment = await deps.catalog.environments.get(clone.name);
  return {
    ...clone,
    ...(environment ? { tier: environment.binding.tier, namespace: environment.binding.namespace } : {}),
    ...(live ? { phase: live.phase, phases: live.phases, ...(live.copying ? { copying: live.copying } : {}) } : {}),
    ...(expiry?.remainingSeconds !== undefined ? { remainingSeconds: expiry.remainingSeconds } : {}),
  };
}

/** Starts teardownClone (202); a clone already torn down is 409. */
export async function startTeardown(deps: ApiDeps, clone: CloneRecord, by: string, reservation?: OperationReservation): Promise<string> {
  if (clone.state === 'torn-down') throw new ApiError(409, 'conflict', `clone "${clone.id}" is already torn down`);
  if (clone.state === 'creating') {
    throw new ApiError(409, 'conflict', `clone "${clone.id}" is still being made; cancel its operation (POST /v1/operations/${clone.id}/cancel) to stop it and tear it down`);
  }
  const { operationId } = await startOperation(deps, {
    id: `teardown-${clone.id}`, kind: 'teardown', workflowType: 'teardownClone', input: { cloneId: clone.id, requestedBy: by },
    environments: [clone.name], clusters: [clone.cluster], requestedBy: by,
  }, reservation);
  return operationId;
}

/** Extends (`seconds` from now, or `until`) or cancels a clone's TTL through its clock's Updates. */
export async function changeTtl(deps: ApiDeps, clone: CloneRecord, change: { seconds?: number; until?: string; cancel?: boolean }, by: string): Promise<CloneExpiry> {
  if (!deps.operations.update) throw new ApiError(503, 'unavailable', 'this API cannot reach Temporal');
  if (clone.state !== 'ready' || clone.expiresAt === undefined) {
    throw new ApiError(409, 'conflict', clone.state !== 'ready' ? `clone "${clone.id}" is ${clone.state}` : `clone "${clone.id}" has no TTL`);
  }
  try {
    return change.cancel
      ? await deps.operations.update(`expire-${clone.id}`, cancelTtlUpdate, { by })
      : await deps.operations.update(`expire-${clone.id}`, extendTtlUpdate, { by, ...(change.seconds !== undefined ? { seconds: change.seconds } : {}), ...(change.until !== undefined ? { until: change.until } : {}) });
  } catch (error) {
    if (error instanceof UpdateRejectedError) {
      throw new ApiError(error.type === 'InvalidTtl' ? 422 : 409, error.type === 'InvalidTtl' ? 'invalid_ttl' : 'conflict', error.message,
        error.type === 'InvalidTtl' ? [{ path: change.until !== undefined ? 'until' : 'extend', message: error.message }] : undefined);
    }
    if (error instanceof OperationNotFoundError) throw new ApiError(409, 'conflict', `clone "${clone.id}" has no running TTL clock`);
    throw error;
  }
}
