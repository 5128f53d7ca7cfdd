// A RecordingStarter that also plays the promote workflow's messages, for API unit tests: the
// same validator refusals (with the workflow's messages), approvals moving stages on, and
// pause/resume/cancel signals. No Temporal, no clusters: targets "succeed" at once.
import type { QueryDefinition, SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { OperationNotFoundError, UpdateRejectedError } from '../../api/starter.js';
import type { ApprovalDecision, PromotionState } from '../../workflows/messages.js';
import type { PromoteInput } from '../../workflows/promote-types.js';
import { RecordingStarter } from './api-server.js';

const APPROVERS = new Set(['release-manager', 'admin']);
const at = () => new Date().toISOString();

export class PromotionStarter extends RecordingStarter {
  readonly states = new Map<string, PromotionState>();
  readonly signals: { workflowId: string; name: string; args: unknown[] }[] = [];
  /** Looks a target's tier (and cluster) up; set once the catalog exists. */
  lookup: (environment: string) => Promise<{ tier: string; cluster: string }> = async () => ({ tier: 'prod', cluster: 'unknown' });

  override async start(workflowType: string, args: unknown[], workflowId: string) {
    const started = await super.start(workflowType, args, workflowId);
    if (workflowType === 'promote') {
      const input = args[0] as PromoteInput;
      const stages = [];
      for (const s of input.stages) {
        const targets = [];
        for (const environment of s.targets) targets.push({ environment, ...(await this.lookup(environment)), phase: 'pending' as const });
        stages.push({ name: s.name, phase: 'pending' as const, targets, ...(s.approval ? { approval: { required: true, fourEyes: true } } : {}) });
      }
      const state: PromotionState = {
        id: workflowId, source: input.source, revision: input.revision, requestedBy: input.requestedBy,
        failurePolicy: input.failurePolicy ?? 'rollback', phase: 'running', paused: false, stages, startedAt: at(),
      };
      this.states.set(workflowId, state);
      this.advance(state);
    }
    return started;
  }

  /** Runs stages until one awaits approval, or all are done. */
  private advance(state: PromotionState): void {
    for (const stage of state.stages) {
      if (stage.phase === 'succeeded') continue;
      if (stage.approval?.required && !stage.approval.approvedBy) {
        stage.phase = 'awaiting-approval';
        state.phase = 'awaiting-approval';
        return;
      }
      stage.startedAt = at();
      for (const t of stage.targets) Object.assign(t, { phase: 'succeeded', startedAt: at(), finishedAt: at() });
      stage.phase = 'succeeded';
      stage.finishedAt = at();
    }
    this.finish(state, 'completed', 'COMPLETED');
  }

  private finish(state: PromotionState, phase: PromotionState['phase'], status: string): void {
    state.phase = phase;
    state.finishedAt = at();
    this.status.set(state.id, status);
  }

  private open(workflowId: string): PromotionState {
    const state = this.states.get(workflowId);
    if (!state || this.status.get(workflowId) !== 'RUNNING') throw new OperationNotFoundError(workflowId);
    return state;
  }

  async query<R, A extends unknown[]>(workflowId: string, query: QueryDefinition<R, A>, ..._args: A): Promise<R> {
    const state = this.states.get(workflowId);
    if (!state || query.name !== 'promotionState') throw new OperationNotFoundError(workflowId);
    return structuredClone(state) as R;
  }

  async update<R, A extends unknown[]>(workflowId: string, update: UpdateDefinition<R, A>, ...args: A): Promise<R> {
    const state = this.open(workflowId);
    const { by, role, comment } = args[0] as ApprovalDecision;
    // The workflow's validator, message for message.
    const stage = state.stages.find((s) => s.phase === 'awaiting-approval');
    if (!stage) throw new UpdateRejectedError(workflowId, 'no stage is waiting for approval', 'Error');
    if (!APPROVERS.has(role)) throw new UpdateRejectedError(workflowId, `approving needs role release-manager or admin; ${by} has ${role}`, 'Error');
    if (stage.approval?.fourEyes && by === state.requestedBy) {
      throw new UpdateRejectedError(workflowId, `four eyes: ${by} requested this promotion and cannot also approve it`, 'Error');
    }
    if (update.name === 'approve') {
      stage.approval = { ...stage.approval!, approvedBy: by, comment, at: at() };
      stage.phase = 'running';
      this.advance(state);
    } else {
      stage.approval = { ...stage.approval!, rejectedBy: by, comment, at: at() };
      stage.phase = 'skipped';
      this.finish(state, 'rejected', 'FAILED');
    }
    return structuredClone(state) as R;
  }

  async signal<A extends unknown[]>(workflowId: string, signal: SignalDefinition<A>, ...args: A): Promise<void> {
    const state = this.open(workflowId);
    this.signals.push({ workflowId, name: signal.name, args });
    if (signal.name === 'pause') Object.assign(state, { paused: true, phase: 'paused' });
    if (signal.name === 'resume') Object.assign(state, { paused: false, phase: 'running' });
    if (signal.name === 'cancel') this.finish(state, 'cancelled', 'FAILED');
  }
}
