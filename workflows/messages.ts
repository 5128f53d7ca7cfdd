// Every signal, query and update the workflows define, in one place, so clients (API, CLI,
// tests) and workflows share one definition.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export interface OnboardingState {
  cluster: string;
  phase: 'resolving' | 'unreachable' | 'checking-version' | 'installing-baseline' | 'reading-capacity' | 'ready' | 'failed';
  attempts: number;
  message?: string;
}

export const onboardingStateQuery = defineQuery<OnboardingState>('onboardingState');

// ---- promote ----------------------------------------------------------------------------

export type PromotionPhase =
  | 'planning' | 'running' | 'awaiting-approval' | 'soaking' | 'paused'
  | 'rolling-back' | 'completed' | 'completed-with-failures' | 'rolled-back' | 'cancelled' | 'rejected' | 'failed';

export type TargetPhase = 'pending' | 'deploying' | 'succeeded' | 'failed' | 'rolling-back' | 'rolled-back' | 'rollback-failed' | 'skipped';

export interface TargetState {
  environment: string;
  cluster: string;
  tier: string;
  /** The revision it ran before the promotion (undefined: never deployed). */
  previousRevision?: string;
  phase: TargetPhase;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export interface StageState {
  name: string;
  phase: 'pending' | 'awaiting-approval' | 'running' | 'soaking' | 'succeeded' | 'failed' | 'skipped';
  approval?: {
    required: boolean;
    fourEyes: boolean;
    /** How many distinct approvers it takes (default 1). */
    needed?: number;
    /** Every approval so far, in order. */
    approvals?: { by: string; at: string; comment?: string }[];
    /** The approval that completed it. */
    approvedBy?: string;
    rejectedBy?: string;
    comment?: string;
    at?: string;
  };
  targets: TargetState[];
  startedAt?: string;
  finishedAt?: string;
}

export interface PromotionState {
  id: string;
  source: string;
  revision?: string;
  requestedBy: string;
  failurePolicy: 'rollback' | 'pause' | 'continue';
  phase: PromotionPhase;
  paused: boolean;
  stages: StageState[];
  startedAt: string;
  finishedAt?: string;
  message?: string;
  /** How it ended for the user, once it has (the same as the final phase). */
  outcome?: 'completed' | 'completed-with-failures' | 'rolled-back' | 'cancelled' | 'rejected' | 'failed';
}

/** Who decides on an approval; the API fills `role` from the caller's token. */
export interface ApprovalDecision {
  by: string;
  role: 'viewer' | 'operator' | 'release-manager' | 'admin';
  comment?: string;
}

export const promotionStateQuery = defineQuery<PromotionState>('promotionState');
/**
 * Approve the stage that waits for approval; refused (validator, by type) for a wrong role
 * (ApproverRole), the requester under four eyes (FourEyes), an approver who already approved
 * (AlreadyApproved), when nothing waits (NotAwaitingApproval) or the stage is already decided
 * (AlreadyDecided).
 */
export const approveUpdate = defineUpdate<PromotionState, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<PromotionState, [ApprovalDecision]>('reject');
/** Stop starting new targets after those in flight; resume continues (retrying a failed target under `pause`). */
export const pauseSignal = defineSignal<[{ by: string }]>('pause');
export const resumeSignal = defineSignal<[{ by: string }]>('resume');
/** Cancel: roll back every target changed so far, then end as `cancelled` (a native Temporal cancel does the same). */
export const cancelSignal = defineSignal<[{ by: string; reason?: string }]>('cancel');

// ---- environment teardown -----------------------------------------------------------------

/** An approval a single-step operation waits for (a teardown): as a promotion stage's. */
export interface ApprovalState {
  fourEyes: boolean;
  /** How many distinct approvers it takes. */
  needed: number;
  approvals: { by: string; at: string; comment?: string }[];
  approvedBy?: string;
  rejectedBy?: string;
  comment?: string;
  at?: string;
}

export interface TeardownState {
  environment: string;
  phase: 'planning' | 'awaiting-approval' | 'removing' | 'forgetting' | 'completed' | 'rejected' | 'cancelled';
  requestedBy: string;
  deleteData: boolean;
  approval?: ApprovalState;
  /** What the cluster said it removed, once it has. */
  deleted?: string[];
  keptClaims?: string[];
  namespace?: 'deleted' | 'kept' | 'foreign' | 'absent';
  message?: string;
}

export const teardownStateQuery = defineQuery<TeardownState>('teardownState');
/** Approve or reject a teardown waiting for approval; refused as approveUpdate is. */
export const approveTeardownUpdate = defineUpdate<TeardownState, [ApprovalDecision]>('approveTeardown');
export const rejectTeardownUpdate = defineUpdate<TeardownState, [ApprovalDecision]>('rejectTeardown');

// ---- clones -----------------------------------------------------------------------------

export type ClonePhaseName =
  | 'planning' | 'checking-data-policy' | 'creating-databases' | 'copying-data' | 'migrating' | 'deploying' | 'ready'
  | 'tearing-down' | 'torn-down' | 'rejected' | 'failed' | 'cancelled';

/** One timed step of a clone's life (a drill's report times them all). */
export interface ClonePhaseTiming {
  name: ClonePhaseName;
  startedAt: string;
  finishedAt?: string;
}

export interface CloneState {
  cloneId: string;
  clone?: string;
  phase: ClonePhaseName;
  phases: ClonePhaseTiming[];
  /** The database being copied now, when copying. */
  copying?: string;
  message?: string;
}

export const cloneStateQuery = defineQuery<CloneState>('cloneState');

/** A TTL'd clone's expiry (the cloneExpiry workflow's state). */
export interface CloneExpiry {
  cloneId: string;
  clone: string;
  /** When it tears itself down; undefined once the TTL is cancelled. */
  expiresAt?: string;
  remainingSeconds?: number;
  phase: 'waiting' | 'tearing-down' | 'torn-down' | 'cancelled';
}

export const cloneExpiryQuery = defineQuery<CloneExpiry>('cloneExpiry');
/** Push the expiry later: by seconds from now, or to a time. Refused (InvalidTtl) for a time not later than now. */
export const extendTtlUpdate = defineUpdate<CloneExpiry, [{ by: string; seconds?: number; until?: string }]>('extendTtl');
/** Keep the clone: no teardown by TTL (DELETE /v1/clones/{id} still tears it down). */
export const cancelTtlUpdate = defineUpdate<CloneExpiry, [{ by: string }]>('cancelTtl');

// ---- DR drills ----------------------------------------------------------------------------

export interface DrillState {
  id: string;
  cloneId: string;
  phase: 'cloning' | 'validating' | 'tearing-down' | 'reporting' | 'done';
  startedAt: string;
  /** Set once it has ended. */
  outcome?: 'passed' | 'failed' | 'cancelled';
}

export const drillStateQuery = defineQuery<DrillState>('drillState');

/** A schedule's run (complianceClone): what it replaced, the clone it makes, where it is. */
export interface ScheduledRunState {
  schedule: string;
  kind: 'clone' | 'drill';
  cloneId: string;
  phase: 'replacing' | 'writing' | 'cloning' | 'drilling' | 'done';
  replaced: string[];
  outcome?: string;
}
export const scheduledRunQuery = defineQuery<ScheduledRunState>('scheduledRun');
