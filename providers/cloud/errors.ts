// One error type for every cloud SDK failure, classified so that activities can decide to
// retry (throttling, outages, network) or fail at once (not found, denied, bad input).
// SDK errors carry their request (headers with bearer tokens, signed URLs), so only a few
// safe fields are copied out of them and the original is never kept as `cause`.
import type { Provider } from '../../domain/cluster.js';

/** `unknown` when the input did not even name a known provider. */
export type ErrorProvider = Provider | 'unknown';

export type CloudErrorKind =
  | 'invalid-input'
  | 'not-found'
  | 'unauthenticated'
  | 'forbidden'
  | 'conflict'
  | 'throttled'
  | 'unavailable'
  | 'network'
  | 'bad-response'
  | 'unknown';

export interface CloudProviderErrorInit {
  provider: ErrorProvider;
  operation: string;
  kind: CloudErrorKind;
  message: string;
  status?: number;
  /** The SDK's or the service's error code, e.g. `ResourceNotFoundException`. */
  code?: string;
  retryable?: boolean;
}

const RETRYABLE_KINDS: ReadonlySet<CloudErrorKind> = new Set(['throttled', 'unavailable', 'network']);

export class CloudProviderError extends Error {
  readonly provider: ErrorProvider;
  readonly operation: string;
  readonly kind: CloudErrorKind;
  readonly status?: number;
  readonly code?: string;
  readonly retryable: boolean;

  constructor(init: CloudProviderErrorInit) {
    const details = [init.status, init.code].filter((d) => d !== undefined).join(' ');
    super(redact(`${init.provider} ${init.operation}: ${init.message}${details ? ` (${details})` : ''}`));
    this.name = 'CloudProviderError';
    this.provider = init.provider;
    this.operation = init.operation;
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable ?? RETRYABLE_KINDS.has(init.kind);
  }

  /** Plain fields only: safe to log or to carry in a Temporal failure. */
  toJSON(): Record<string, unknown> {
    const { name, message, provider, operation, kind, status, code, retryable } = this;
    return { name, message, provider, operation, kind, status, code, retryable };
  }
}

/** Bad input named by what is wrong; never retryable. */
export function invalidInput(provider: ErrorProvider, operation: string, message: string): CloudProviderError {
  return new CloudProviderError({ provider, operation, kind: 'invalid-input', message });
}

/** The cloud answered, but without something Flotilla needs (an endpoint, a CA). */
export function badResponse(provider: Provider, operation: string, message: string): CloudProviderError {
  return new CloudProviderError({ provider, operation, kind: 'bad-response', message });
}

export function kindFromHttpStatus(status: number): CloudErrorKind {
  if (status === 400 || status === 422) return 'invalid-input';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'throttled';
  if (status === 408 || status >= 500) return 'unavailable';
  return 'unknown';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'REQUEST_SEND_ERROR',
  'TimeoutError', 'AbortError',
]);

/** True for codes that mean the request never got an answer. */
export function isNetworkCode(code: unknown): boolean {
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

// Credentials can appear in SDK messages (a signed URL, a request dump): scrub the shapes we
// know before any message leaves this module.
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/=]+/gi, '$1 [redacted]'],
  [/k8s-aws-v1\.[A-Za-z0-9\-_]+/g, 'k8s-aws-v1.[redacted]'],
  [/(X-Amz-(?:Signature|Credential|Security-Token))=[^&\s"']+/gi, '$1=[redacted]'],
  [/\beyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*/g, '[redacted-jwt]'],
  [/\bya29\.[A-Za-z0-9\-_.]+/g, '[redacted-oauth-token]'],
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '[redacted-access-key]'],
  [/("?(?:access_token|refresh_token|client_secret|password|token|secret)"?\s*[:=]\s*"?)[^"&\s,}]+/gi, '$1[redacted]'],
];

export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Keeps messages short: SDKs sometimes put whole response bodies in them. */
export function shorten(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
