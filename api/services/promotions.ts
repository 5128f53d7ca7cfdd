// Promotions as the API starts and steers them: checks before the start (environments exist,
// no target is the source, tier scopes, rules), the business-key id, and the promote
// workflow's messages (the `define*` objects of workflows/messages.ts: names and types only).
//
// Workflow id (the operation id):
//   promote-<source>-<short revision>-<n>   n counts promotions of that revision from that source (1, 2, …)
// The revision is resolved here (the source's deployed one, else its current one) and passed
// to the workflow, so the id says what is promoted and a retry of the same start is refused
// by Temporal (409) while the first runs.
import { checkOverrides, type Tier } from '../../domain/environment.js';
import { formatPath } from '../../domain/diff.js';
import { podProblems } from '../../domain/rollout-progress.js';
import { shortRevision } from '../../domain/revision.js';
import type { ValidationIssue } from '../../domain/documents.js';
import { changeVerdict } from '../../store/change-verdict.js';
import type { EnvironmentRecord } from '../../store/environments.js';
import { NotFoundError } from '../../store/errors.js';
import type { OperationRecord, OperationState } from '../../store/operations.js';
import {
  approveUpdate, cancelSignal, pauseSignal, promotionStateQuery, rejectUpdate, resumeSignal,
  type ApprovalDecision, type PromotionState,
} from '../../workflows/messages.js';
import type { PromoteInput } from '../../workflows/promote-types.js';
import type { Principal } from '../authz.js';
import { renderCharts } from './charts.js';
import type { ApiDeps } from '../deps.js';
import { requireRunning } from './stop-start.js';
import { ApiError, badRequest } from '../errors.js';
import type { PromoteBody } from '../schemas.js';
import { OperationNotFoundError, type OperationReservation, UpdateRejectedError } from '../starter.js';
import { resolveRevision } from './environments.js';
import { QUERY_TIMEOUT_MS, startOperation } from './operations.js';


export interface PlannedPromotion {
  source: EnvironmentRecord;
  revision: string;
  targets: EnvironmentRecord[];
  /** The tiers of every target: what the caller's scope must cover. */
  tiers: Tier[];
}

/** Reads and checks what a promotion names: 404 for an unknown environment, 400 for a target that is the source or repeats. */
export async function planPromotion(deps: ApiDeps, body: PromoteBody): Promise<PlannedPromotion> {
  const { catalog } = deps;
  const source = await catalog.environments.get(body.source);
  if (!source) throw new ApiError(404, 'not_found', `environment "${body.source}" not found`, [{ path: 'source', message: 'no such environment' }]);
  const issues: ValidationIssue[] = [];
  const seenStage = new Set<string>();
  const seenTarget = new Map<string, string>();
  const targets: EnvironmentRecord[] = [];
  for (const [i, stage] of body.stages.entries()) {
    if (seenStage.has(stage.name)) issues.push({ path: `stages[${i}].name`, message: `stage "${stage.name}" appears twice` });
    seenStage.add(stage.name);
    for (const [j, name] of stage.targets.entries()) {
      const at = `stages[${i}].targets[${j}]`;
      if (name === body.source) {
        issues.push({ path: at, message: `"${name}" is the source; a promotion changes other environments` });
        continue;
      }
      const first = seenTarget.get(name);
      if (first !== undefined) {
        issues.push({ path: at, message: `"${name}" is already a target (${first})` });
        continue;
      }
      seenTarget.set(name, at);
      const env = await catalog.environments.get(name);
      if (!env) throw new ApiError(404, 'not_found', `environment "${name}" not found`, [{ path: at, message: 'no such environment' }]);
      if (env.binding.application !== source.binding.application) {
        issues.push({ path: at, message: `"${name}" runs application "${env.binding.application}", the source runs "${source.binding.application}"` });
      }
      targets.push(env);
    }
  }
  if (issues.length > 0) throw badRequest(issues);
  const revision = body.revision !== undefined
    ? await resolveRevision(catalog, source, body.revision)
    : source.deployed?.revision ?? source.currentRevision;
  if (!revision) throw new ApiError(409, 'conflict', `environment "${source.binding.name}" has no revision to promote`);
  return { source, revision, targets, tiers: [...new Set(targets.map((t) => t.binding.tier))] };
}

/**
 * Checks every target as it would run after the promotion (the source's spec with the
 * target's own overrides): overrides must still fit the spec, and the rules must allow it.
 * The workflow checks again when it plans; this answers 422 before anything starts.
 */
export async function checkTargets(deps: ApiDeps, plan: PlannedPromotion, options: { keepStopped?: boolean } = {}): Promise<void> {
  if (!options.keepStopped) await requireRunning(deps.catalog, plan.targets.map((t) => t.binding.name), 'stages');
  const spec = (await deps.catalog.revisions.require(plan.revision)).spec;
  const misfits = plan.targets.flatMap((t) =>
    checkOverrides(spec, t.overrides).map((p) => ({ path: `${t.binding.name}: ${formatPath(['overrides', ...p.path])}`, message: p.message })));
  if (misfits.length > 0) {
    throw new ApiError(422, 'overrides_mismatch', 'target overrides do not fit the promoted spec', misfits);
  }
  // The whole change at once, as the workflow's planner checks it (kind promote: limits on
  // clusters per change count every target).
  await renderCharts(deps, plan.targets.map((t) => ({ binding: t.binding, spec, overrides: t.overrides })), 'stages');
  let verdict;
  try {
    verdict = await changeVerdict(deps.catalog, {
      kind: 'promote', at: deps.now().toISOString(), targets: plan.targets.map((t) => ({ binding: t.binding, spec, overrides: t.overrides })),
    });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const i = plan.targets.findIndex((t) => t.binding.cluster === error.key);
    throw new ApiError(422, 'invalid_reference', `cluster "${error.key}" of "${plan.targets[i]?.binding.name}" is not registered`, [{ path: `targets[${i}]`, message: 'no such cluster' }]);
  }
  if (!verdict.allowed) throw new ApiError(422, 'rule_violations', `${verdict.violations.length} rule violation(s)`, verdict.violations);
}

export async function promotionId(deps: ApiDeps, source: string, revision: string): Promise<string> {
  const prefix = `promote-${source}-${shortRevision(revision)}-`;
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.catalog.operations.list({ kind: 'promotion', environment: source, limit: 500, cursor });
    n += page.items.filter((o) => o.id.startsWith(prefix)).length;
    cursor = page.nextCursor;
  } while (cursor);
  return `${prefix}${n + 1}`;
}

/** Starts the promote workflow; the operation names the source and every target, and the targets' clusters. */
export async function startPromotion(deps: ApiDeps, body: PromoteBody, plan: PlannedPromotion, by: string, reservation?: OperationReservation): Promise<string> {
  const input: PromoteInput = { ...body, revision: plan.revision, requestedBy: by };
  const { operationId } = await startOperation(deps, {
    id: await promotionId(deps, plan.source.binding.name, plan.revision),
    kind: 'promotion',
    workflowType: 'promote',
    input: input as unknown as Record<string, unknown>,
    environments: [plan.source.binding.name, ...plan.targets.map((t) => t.binding.name)],
    clusters: [...new Set(plan.targets.map((t) => t.binding.cluster))],
    requestedBy: by,
    // The promotion holds its targets from start to end (the source is only read).
    locks: plan.targets.map((t) => t.binding.name),
  }, reservation);
  return operationId;
}

// ── a running promotion ──────────────────────────────────────────────────────────────────

/** The operation, if it is a promotion (404 otherwise: other workflows have no promotion state). */
export async function requirePromotion(deps: ApiDeps, id: string): Promise<OperationRecord> {
  const record = await deps.catalog.operations.get(id);
  if (!record || record.kind !== 'promotion') throw new ApiError(404, 'not_found', `promotion "${id}" not found`);
  return record;
}

function unsupported(): never {
  throw new ApiError(503, 'unavailable', 'this server cannot reach promotions');
}

/** Runs a starter call, turning Temporal's answers into API errors. */
async function talk<T>(deps: ApiDeps, id: string, call: () => Promise<T>, options: { timeoutMs?: number; closed?: 'not-found' | 'conflict' } = {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ApiError(503, 'unavailable', `promotion "${id}" did not answer in time; is a worker running?`)), options.timeoutMs ?? QUERY_TIMEOUT_MS);
    });
    return await Promise.race([call(), timeout]);
  } catch (error) {
    if (error instanceof ApiError || error instanceof UpdateRejectedError) throw error;
    if (error instanceof OperationNotFoundError) {
      if (options.closed === 'conflict') throw new ApiError(409, 'promotion_finished', `promotion "${id}" is no longer running`);
      throw new ApiError(404, 'not_found', `promotion "${id}" not found`);
    }
    deps.logger.error({ err: error, operationId: id }, 'promotion call failed');
    throw new ApiError(503, 'unavailable', `promotion "${id}" could not be reached; try again later`);
  } finally {
    clearTimeout(timer);
  }
}

const FROM_TEMPORAL: Record<string, OperationState> = {
  COMPLETED: 'completed', FAILED: 'failed', CANCELLED: 'cancelled', TERMINATED: 'terminated', TIMED_OUT: 'timed-out',
};

/** The workflow's `promotionState`, with Temporal's status of the run; keeps the operations index in step. */
export async function promotionView(deps: ApiDeps, record: OperationRecord): Promise<PromotionState & { workflowStatus?: string }> {
  const { operations } = deps;
  if (!operations.query) unsupported();
  const state = await talk(deps, record.id, () => operations.query!(record.id, promotionStateQuery));
  let workflowStatus: string | undefined;
  try {
    const described = await operations.describe?.(record.id);
    workflowStatus = described?.status;
    const final = workflowStatus && FROM_TEMPORAL[workflowStatus];
    if (final && record.state !== final) await deps.catalog.operations.setState(record.id, final, described?.closeTime);
  } catch (error) {
    deps.logger.warn({ err: error, operationId: record.id }, 'describe failed');
  }
  await attachWaits(deps, state);
  return { ...state, ...(workflowStatus ? { workflowStatus } : {}) };
}

/** For each target deploying or rolling back: why its workloads are not ready yet, from its deploy's rollout wait. */
async function attachWaits(deps: ApiDeps, state: PromotionState): Promise<void> {
  const busy = state.stages.flatMap((s) => s.targets).filter((t) => t.phase === 'deploying' || t.phase === 'rolling-back');
  await Promise.all(busy.map(async (target) => {
    const child = `${state.id}/${target.environment}${target.phase === 'rolling-back' ? '/rollback' : ''}`;
    try {
      const waits = podProblems((await deps.operations.describe?.(child))?.pending ?? []);
      if (waits.length > 0) (target as typeof target & { waitingOn?: string[] }).waitingOn = waits;
    } catch (error) {
      deps.logger.warn({ err: error, operationId: child }, 'describe failed');
    }
  }));
}

/** The tiers a decision or control touches: the stage awaiting approval, else every target. */
export function tiersOf(state: PromotionState, which: 'awaiting' | 'all'): Tier[] {
  const waiting = state.stages.filter((s) => s.phase === 'awaiting-approval');
  const stages = which === 'awaiting' && waiting.length > 0 ? waiting : state.stages;
  return [...new Set(stages.flatMap((s) => s.targets.map((t) => t.tier as Tier)))];
}

/** Tiers from the catalog when the workflow cannot say (every environment of the operation: the stricter choice). */
async function recordTiers(deps: ApiDeps, record: OperationRecord): Promise<Tier[]> {
  const tiers = new Set<Tier>();
  for (const name of record.environments) {
    const env = await deps.catalog.environments.get(name);
    if (env) tiers.add(env.binding.tier);
  }
  return [...tiers];
}

/** The state when the workflow answers (for tier checks), else undefined. */
async function tryState(deps: ApiDeps, record: OperationRecord): Promise<PromotionState | undefined> {
  try {
    return await talk(deps, record.id, () => deps.operations.query!(record.id, promotionStateQuery), { timeoutMs: 5_000 });
  } catch {
    return undefined;
  }
}

export async function decisionTiers(deps: ApiDeps, record: OperationRecord, which: 'awaiting' | 'all'): Promise<Tier[]> {
  const state = deps.operations.query ? await tryState(deps, record) : undefined;
  if (state && state.stages.some((s) => s.targets.length > 0)) return tiersOf(state, which);
  return recordTiers(deps, record);
}

/**
 * What a refused approval means to a client. The workflow's validator refuses a wrong role
 * and the requester under four eyes (→ 403), and a decision when no stage waits (→ 409).
 */
export function mapRejection(error: UpdateRejectedError): ApiError {
  const message = error.message;
  // The workflow types its refusals; the message checks cover histories from before it did.
  switch (error.type) {
    case 'FourEyes': return new ApiError(403, 'four_eyes', message);
    case 'ApproverRole': return new ApiError(403, 'forbidden', message);
    case 'NotAwaitingApproval': return new ApiError(409, 'not_awaiting_approval', message);
    case 'AlreadyDecided': return new ApiError(409, 'already_decided', message);
    case 'AlreadyApproved': return new ApiError(409, 'already_approved', message);
  }
  if (/four[- ]eyes/i.test(message)) return new ApiError(403, 'four_eyes', message);
  if (/\brole\b/i.test(message)) return new ApiError(403, 'forbidden', message);
  if (/no stage is waiting|nothing|not waiting|awaiting/i.test(message)) return new ApiError(409, 'not_awaiting_approval', message);
  return new ApiError(409, 'update_rejected', message);
}

export async function decide(deps: ApiDeps, record: OperationRecord, approve: boolean, principal: Principal, comment?: string): Promise<PromotionState> {
  const { operations } = deps;
  if (!operations.update) unsupported();
  const decision: ApprovalDecision = { by: principal.name, role: principal.role, ...(comment !== undefined ? { comment } : {}) };
  try {
    // An update waits for the workflow to accept it; give it longer than a query.
    return await talk(deps, record.id, () => operations.update!(record.id, approve ? approveUpdate : rejectUpdate, decision), { timeoutMs: 60_000, closed: 'conflict' });
  } catch (error) {
    if (error instanceof UpdateRejectedError) throw mapRejection(error);
    throw error;
  }
}

export type Control = 'pause' | 'resume' | 'cancel';

export async function control(deps: ApiDeps, record: OperationRecord, what: Control, by: string, reason?: string): Promise<void> {
  const { operations } = deps;
  if (!operations.signal) unsupported();
  await talk(deps, record.id, () => {
    if (what === 'pause') return operations.signal!(record.id, pauseSignal, { by });
    if (what === 'resume') return operations.signal!(record.id, resumeSignal, { by });
    return operations.signal!(record.id, cancelSignal, { by, ...(reason !== undefined ? { reason } : {}) });
  }, { closed: 'conflict' });
}
