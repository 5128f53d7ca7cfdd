// An approval gate inside a workflow: who may decide (an approver role, not the requester
// under four eyes, each approver once), and when it is decided (N distinct approvals, or one
// rejection). Validators throw typed refusals the API maps (as promotions' do); the handlers
// record the decision at once, so a second one in the same workflow task is refused.
import { ApplicationFailure, condition } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalState } from './messages.js';

const APPROVERS = new Set(['release-manager', 'admin']);

export type GateOutcome = 'approved' | 'rejected' | 'timed-out';

export class ApprovalGate {
  readonly state: ApprovalState;
  private decided?: 'approved' | 'rejected';

  constructor(private readonly what: string, private readonly requestedBy: string, ask: { needed: number; fourEyes: boolean }) {
    this.state = { fourEyes: ask.fourEyes, needed: Math.max(1, ask.needed), approvals: [] };
  }

  /** The validator of both decisions: throws the refusal, typed. */
  validate({ by, role }: ApprovalDecision): void {
    if (this.decided) {
      throw ApplicationFailure.nonRetryable(`${this.what} is already ${this.decided} (by ${this.state.approvedBy ?? this.state.rejectedBy ?? '?'})`, 'AlreadyDecided');
    }
    if (!APPROVERS.has(role)) throw ApplicationFailure.nonRetryable(`approving needs role release-manager or admin; ${by} has ${role}`, 'ApproverRole');
    if (this.state.fourEyes && by === this.requestedBy) {
      throw ApplicationFailure.nonRetryable(`four eyes: ${by} requested this ${this.what} and cannot also approve it`, 'FourEyes');
    }
    if (this.state.approvals.some((a) => a.by === by)) {
      throw ApplicationFailure.nonRetryable(`${by} has already approved this ${this.what}; it needs ${this.state.needed} distinct approvers`, 'AlreadyApproved');
    }
  }

  approve({ by, comment }: ApprovalDecision, at: string): void {
    this.state.approvals.push({ by, at, ...(comment !== undefined ? { comment } : {}) });
    if (this.state.approvals.length < this.state.needed) return;
    this.decided = 'approved';
    Object.assign(this.state, { approvedBy: by, at, ...(comment !== undefined ? { comment } : {}) });
  }

  reject({ by, comment }: ApprovalDecision, at: string): void {
    this.decided = 'rejected';
    Object.assign(this.state, { rejectedBy: by, at, ...(comment !== undefined ? { comment } : {}) });
  }

  /** Waits for the decision, at most `timeoutMs`. */
  async wait(timeoutMs: number): Promise<GateOutcome> {
    const arrived = await condition(() => this.decided !== undefined, timeoutMs);
    return arrived ? this.decided! : 'timed-out';
  }
}
