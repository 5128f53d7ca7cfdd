// The one error shape of the API, { error: { code, message, details } }, and the one mapper
// that turns anything thrown into it. Unknown errors become a 500 that says nothing inside.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { CloudProviderError } from '../providers/cloud/errors.js';
import { ChartNotPinnedError, ChartNotRenderedError } from '../domain/chart-objects.js';
import { ConflictError, InvalidInputError, NotFoundError, StoreError } from '../store/errors.js';
import { EnvironmentBusyError } from '../store/locks.js';
import type { ValidationIssue } from '../domain/documents.js';
import { OperationAlreadyRunningError } from './starter.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function badRequest(issues: ValidationIssue[], message = 'request is invalid'): ApiError {
  return new ApiError(400, 'invalid_request', message, issues);
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** What a thrown value means to a client. */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof NotFoundError) return new ApiError(404, 'not_found', error.message);
  if (error instanceof ConflictError) return new ApiError(409, 'conflict', error.message);
  if (error instanceof EnvironmentBusyError) {
    return new ApiError(409, 'environment_busy', error.message, error.held.map((l) => ({ environment: l.environment, operationId: l.operationId, since: l.acquiredAt })));
  }
  if (error instanceof InvalidInputError) return new ApiError(400, 'invalid_request', error.message);
  if (error instanceof OperationAlreadyRunningError) return new ApiError(409, 'operation_running', error.message, { operationId: error.workflowId });
  if (error instanceof CloudProviderError) return fromCloud(error);
  // A chart's render the worker has not made (or an unpinned chart): the request cannot be judged yet.
  if (error instanceof ChartNotRenderedError || error instanceof ChartNotPinnedError) return new ApiError(409, 'chart_not_rendered', error.message);
  if (error instanceof StoreError) return undefined;
  const e = error as { type?: string; status?: unknown; expose?: unknown };
  // body-parser's and Express's own client errors carry a status and `expose`.
  if (e?.type === 'entity.parse.failed') return new ApiError(400, 'malformed_json', 'request body is not valid JSON');
  if (e?.type === 'entity.too.large') return new ApiError(413, 'too_large', 'request body is too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new ApiError(415, 'unsupported_encoding', 'request body encoding is not supported');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true) {
    return new ApiError(e.status, 'bad_request', 'request could not be read');
  }
  if (error instanceof URIError) return new ApiError(400, 'bad_request', 'malformed URL');
  return undefined;
}

function fromCloud(error: CloudProviderError): ApiError {
  switch (error.kind) {
    case 'invalid-input': return new ApiError(400, 'invalid_request', error.message);
    case 'not-found': return new ApiError(404, 'not_found', error.message);
    case 'conflict': return new ApiError(409, 'conflict', error.message);
    case 'throttled': case 'unavailable': case 'network': return new ApiError(503, 'provider_unavailable', error.message);
    default: return new ApiError(502, 'provider_error', error.message);
  }
}

export interface ErrorLogger {
  error(obj: Record<string, unknown>, message: string): void;
}

/** Maps every error to the API's shape; a 500 is logged (server side only) with its request id. */
export function errorMapper(logger?: ErrorLogger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const mapped = toApiError(error);
    if (res.headersSent) return;
    if (mapped) {
      res.status(mapped.status).json({ error: { code: mapped.code, message: mapped.message, details: mapped.details } });
      return;
    }
    logger?.error({ err: error, requestId: res.locals.requestId, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
