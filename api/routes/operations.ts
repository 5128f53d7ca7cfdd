// /v1/operations: the operations index (filterable) and one operation with Temporal's view.
import type { OperationState } from '../../store/operations.js';
import { defineRoute } from '../route.js';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import {
  ApprovalBody, CancelBody, IdParam, OperationAccepted, OperationDetail, OperationQuery, OperationView, page, PromotionView, TeardownView,
} from '../schemas.js';
import { accepted, cancelOperation, cancelPermission } from '../services/operations.js';
import { decide, decisionTiers } from '../services/promotions.js';
import { decideTeardown, teardownTiers } from '../services/teardown.js';

const FROM_TEMPORAL: Record<string, OperationState> = {
  RUNNING: 'running',
  CONTINUED_AS_NEW: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
};

export const operationRoutes = [
  defineRoute({
    method: 'get', path: '/operations', operationId: 'listOperations', tag: 'operations',
    summary: 'Operations, newest first, by kind, environment, cluster and state',
    action: 'read', query: OperationQuery,
    responses: { 200: { description: 'operations', schema: page(OperationView) } },
    async handler({ query }, ctx) {
      return { status: 200, body: await ctx.deps.catalog.operations.list(query) };
    },
  }),
  defineRoute({
    method: 'get', path: '/operations/{id}', operationId: 'getOperation', tag: 'operations',
    summary: 'One operation, with its workflow state from Temporal',
    action: 'read', params: IdParam,
    responses: { 200: { description: 'the operation', schema: OperationDetail } },
    async handler({ params }, ctx) {
      const { catalog, operations, logger } = ctx.deps;
      let record = await catalog.operations.require(params.id);
      let temporal;
      try {
        temporal = await operations.describe?.(params.id);
      } catch (error) {
        // Temporal unreachable: the index still answers.
        logger.warn({ err: error, operationId: params.id }, 'describe failed');
      }
      const state = temporal && FROM_TEMPORAL[temporal.status];
      // Keep the index in step with Temporal, the source of truth.
      if (state && state !== record.state && (record.state === 'running' || state !== 'running')) {
        record = await catalog.operations.setState(params.id, state, temporal?.closeTime);
      }
      return { status: 200, body: { ...record, temporal } };
    },
  }),
  defineRoute({
    method: 'post', path: '/operations/{id}/cancel', operationId: 'cancelOperation', tag: 'operations',
    summary: 'Cancel a running deploy, promotion, clone, drill or scheduled run (a native Temporal cancel): it ends cancelled, undoing what it made (a clone or drill tears its clone down; a promotion rolls back).',
    action: 'read', params: IdParam, body: CancelBody,
    audit: { action: 'operation.cancel', target: ({ params }) => `operation/${params.id ?? '?'}` },
    responses: { 202: { description: 'cancel requested', schema: OperationAccepted, headers: { Location: 'the operation' } } },
    async handler({ params, body }, ctx) {
      const record = await ctx.deps.catalog.operations.require(params.id);
      const { action, tiers } = await cancelPermission(ctx.deps, record);
      ctx.authorize(action, tiers);
      ctx.audit({ details: { kind: record.kind, ...(body.reason !== undefined ? { reason: body.reason } : {}) } });
      await cancelOperation(ctx.deps, record);
      return accepted(record.id);
    },
  }),
  decisionRoute(true),
  decisionRoute(false),
];

/**
 * Approve or reject whatever operation waits for approval: a promotion's stage or a teardown
 * of a gated tier. The workflow decides who may (an approver role, four eyes, once each).
 */
function decisionRoute(approve: boolean) {
  const what = approve ? 'approve' : 'reject';
  return defineRoute({
    method: 'post', path: `/operations/{id}/${what}`, operationId: `${what}Operation`, tag: 'operations',
    summary: approve
      ? 'Approve the promotion stage or teardown waiting for approval: refused for the requester under four eyes (403) and when nothing waits (409).'
      : 'Reject what waits for approval: a promotion rolls back what it changed; a teardown ends removing nothing.',
    action: 'promotion.approve', params: IdParam, body: ApprovalBody, bodyOptional: true,
    audit: { action: `operation.${what}`, target: ({ params }) => `operation/${params.id ?? '?'}` },
    responses: { 200: { description: 'the operation after the decision', schema: z.union([PromotionView, TeardownView]) } },
    async handler({ params, body }, ctx) {
      const record = await ctx.deps.catalog.operations.require(params.id);
      ctx.audit({ operationId: record.id, details: body.comment !== undefined ? { comment: body.comment } : undefined });
      if (record.kind !== 'promotion' && record.kind !== 'teardown') {
        throw new ApiError(409, 'not_awaiting_approval', `a ${record.kind} never waits for approval`);
      }
      ctx.authorize('promotion.approve', record.kind === 'promotion' ? await decisionTiers(ctx.deps, record, 'awaiting') : await teardownTiers(ctx.deps, record));
      const state = record.kind === 'promotion'
        ? await decide(ctx.deps, record, approve, ctx.principal, body.comment)
        : await decideTeardown(ctx.deps, record, approve, ctx.principal, body.comment);
      return { status: 200, body: state };
    },
  });
}
