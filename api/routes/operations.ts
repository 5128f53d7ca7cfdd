// /v1/operations: the operations index (filterable) and one operation with Temporal's view.
import type { OperationState } from '../../store/operations.js';
import { defineRoute } from '../route.js';
import { IdParam, OperationDetail, OperationQuery, OperationView, page } from '../schemas.js';

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
];
