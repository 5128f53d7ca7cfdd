// What went wrong talking to a cluster, and whether trying again can help. Activities turn
// "no" into ApplicationFailure.nonRetryable so Temporal stops retrying at once.
import { ApiException } from '@kubernetes/client-node';

/** The fields of a metav1.Status that Flotilla reads. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    retryAfterSeconds?: number;
    causes?: { reason?: string; message?: string; field?: string }[];
  };
}

/** A non-2xx answer from an API server, with its Status parsed and a readable message. */
export class KubeApiError extends ApiException<string | undefined> {
  constructor(
    code: number,
    readonly status: KubeStatus | undefined,
    body: string | undefined,
    headers: Record<string, string>,
    readonly method: string,
    readonly path: string,
  ) {
    super(code, status?.message ?? 'Unsuccessful HTTP Request', body, headers);
    // ApiException's message dumps every header; this one says what the server said.
    this.message = `${method} ${path}: ${code} ${status?.reason || defaultReason(code)}${status?.message ? `: ${status.message}` : ''}`;
    this.name = 'KubeApiError';
  }
}

/** Errors of this layer that know whether a retry can help. */
export abstract class KubeLayerError extends Error {
  abstract readonly retryable: boolean;
  abstract readonly reason: string;
  readonly httpStatus?: number;
}

export interface ErrorClassification {
  retryable: boolean;
  /** A short CamelCase word: the Status reason, the network error code, or the error's own. */
  reason: string;
  /** The HTTP status, when a server answered. */
  status?: number;
  /** One line for people and for ApplicationFailure messages. */
  message: string;
  /** The server asked to wait this long before retrying (Retry-After, Status retryAfterSeconds). */
  retryAfterMs?: number;
}

export interface ClassifyContext {
  /** The failed call was a server-side apply: a 409 is a field conflict, not a stale write. */
  apply?: boolean;
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'EADDRNOTAVAIL',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

// Certificate problems do not fix themselves between retries.
const TLS_CODE = /^(CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_)/;

/** Parses a Status out of an ApiException body (a JSON string for client-node 1.x). */
export function statusOf(error: unknown): KubeStatus | undefined {
  if (error instanceof KubeApiError) return error.status;
  if (!(error instanceof ApiException)) return undefined;
  return parseStatus(error.body);
}

export function parseStatus(body: unknown): KubeStatus | undefined {
  let value = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value && typeof value === 'object' && (value as KubeStatus).kind === 'Status') return value as KubeStatus;
  return undefined;
}

/** The HTTP status of an API error, if the error is one. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (error instanceof KubeLayerError) return error.httpStatus;
  const code = (error as { statusCode?: unknown } | undefined)?.statusCode; // Watch's errors
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return httpStatusOf(error) === 404;
}

function networkCode(error: unknown): string | undefined {
  // node-fetch's FetchError carries `code`; undici and wrapped errors carry it on `cause`.
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 500);
}

/**
 * Maps any error of the Kubernetes layer (or of the client under it) to whether a retry can
 * help. Retryable: network failures, 5xx, 429, 408, 410 (a watch's resourceVersion expired:
 * list again), optimistic-concurrency 409s on ordinary writes, and writes into a namespace
 * that is still terminating. Not retryable: 400, 401, 403, 404, 405, 413, 415, 422, apply
 * conflicts (the same apply conflicts again until someone forces or yields), AlreadyExists,
 * certificate errors and cancellation. Unknown errors count as retryable, as Temporal does.
 */
export function classifyError(error: unknown, context: ClassifyContext = {}): ErrorClassification {
  if (error instanceof KubeLayerError) {
    return { retryable: error.retryable, reason: error.reason, status: error.httpStatus, message: error.message };
  }
  const status = httpStatusOf(error);
  if (status !== undefined) return classifyStatus(status, error instanceof ApiException ? statusOf(error) : undefined, error, context);

  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'AbortError' || (error instanceof DOMException && error.name === 'AbortError')) {
    return { retryable: false, reason: 'Aborted', message: oneLine(error) };
  }
  const code = networkCode(error);
  if (code && RETRYABLE_NETWORK_CODES.has(code)) return { retryable: true, reason: code, message: oneLine(error) };
  if (code && TLS_CODE.test(code)) return { retryable: false, reason: 'TLSError', message: `${code}: ${oneLine(error)}` };
  const type = (error as { type?: unknown } | undefined)?.type; // node-fetch: request-timeout, body-timeout, system
  if (type === 'request-timeout' || type === 'body-timeout') return { retryable: true, reason: 'Timeout', message: oneLine(error) };
  if (/socket hang up|other side closed|network/i.test(oneLine(error))) return { retryable: true, reason: 'NetworkError', message: oneLine(error) };
  return { retryable: true, reason: 'Unknown', message: oneLine(error) };
}

function classifyStatus(code: number, status: KubeStatus | undefined, error: unknown, context: ClassifyContext): ErrorClassification {
  const reason = status?.reason || defaultReason(code);
  const message = status?.message ? `${code} ${reason}: ${status.message}` : oneLine(error);
  const retryAfter = status?.details?.retryAfterSeconds ?? Number((error as { headers?: Record<string, string> }).headers?.['retry-after'] ?? NaN);
  const result = (retryable: boolean, why = reason): ErrorClassification => {
    const classification: ErrorClassification = { retryable, reason: why, status: code, message };
    if (retryable && retryAfter > 0) classification.retryAfterMs = retryAfter * 1000;
    return classification;
  };
  const causes = status?.details?.causes ?? [];

  if (code === 409) {
    if (context.apply || causes.some((c) => c.reason === 'FieldManagerConflict')) return result(false, 'ApplyConflict');
    if (reason === 'AlreadyExists') return result(false);
    return result(true, 'Conflict');
  }
  // "unable to create new content in namespace X because it is being terminated": wait, retry.
  if (code === 403 && (causes.some((c) => c.reason === 'NamespaceTerminating') || /being terminated/.test(status?.message ?? ''))) {
    return result(true, 'NamespaceTerminating');
  }
  if (code === 429 || code === 408 || code === 410) return result(true);
  // An apply naming a field the schema does not have comes back as a bare 500 (the server
  // fails building the typed patch); it is the request that is wrong, not the server.
  if (code === 500 && /failed to create typed patch object|field not declared in schema/.test(status?.message ?? '')) return result(false, 'Invalid');
  if (code >= 500) return result(code !== 501);
  return result(false);
}

function defaultReason(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
    408: 'Timeout', 409: 'Conflict', 410: 'Expired', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType',
    422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 501: 'NotImplemented', 502: 'BadGateway',
    503: 'ServiceUnavailable', 504: 'Timeout',
  };
  return reasons[code] ?? `HTTP${code}`;
}
