// Turns whatever an SDK threw into a CloudProviderError. Each SDK has its own error shape,
// read here structurally (no SDK imports), so the rules are unit-testable on plain objects.
import type { Provider } from '../../domain/cluster.js';
import { CloudProviderError, isNetworkCode, kindFromHttpStatus, shorten, type CloudErrorKind } from './errors.js';

type Loose = Record<string, unknown> & { message?: unknown; name?: unknown; code?: unknown };

/** The thrown value's fields; a thrown string becomes its message. */
function errorFields(error: unknown): Loose {
  return typeof error === 'string' ? { message: error } : asObject(error);
}

function asObject(value: unknown): Loose {
  return typeof value === 'object' && value !== null ? (value as Loose) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** What the caller was doing, for the message: e.g. `cluster "prod" in eu-west-1`. */
export interface ErrorContext {
  provider: Provider;
  operation: string;
  target?: string;
}

function build(ctx: ErrorContext, kind: CloudErrorKind, detail: string, status?: number, code?: string, retryable?: boolean): CloudProviderError {
  const where = ctx.target ? ` ${ctx.target}` : '';
  return new CloudProviderError({
    provider: ctx.provider,
    operation: ctx.operation,
    kind,
    status,
    code,
    retryable,
    message: `${kindPhrase(kind)}${where}: ${shorten(detail)}`,
  });
}

function kindPhrase(kind: CloudErrorKind): string {
  switch (kind) {
    case 'not-found': return 'not found';
    case 'unauthenticated': return 'credentials were rejected or are missing for';
    case 'forbidden': return 'permission denied for';
    case 'throttled': return 'throttled on';
    case 'unavailable': return 'service unavailable for';
    case 'network': return 'could not reach the cloud API for';
    case 'invalid-input': return 'invalid request for';
    case 'conflict': return 'conflict on';
    case 'bad-response': return 'unexpected answer for';
    default: return 'failed for';
  }
}

// ---- AWS SDK v3 (smithy): name, $metadata.httpStatusCode, $retryable --------------------

const AWS_KINDS: Record<string, CloudErrorKind> = {
  ResourceNotFoundException: 'not-found',
  NotFoundException: 'not-found',
  InvalidParameterException: 'invalid-input',
  InvalidRequestException: 'invalid-input',
  ValidationException: 'invalid-input',
  AccessDeniedException: 'forbidden',
  UnauthorizedOperation: 'forbidden',
  UnrecognizedClientException: 'unauthenticated',
  InvalidSignatureException: 'unauthenticated',
  ExpiredTokenException: 'unauthenticated',
  InvalidClientTokenId: 'unauthenticated',
  CredentialsProviderError: 'unauthenticated',
  ResourceInUseException: 'conflict',
  ThrottlingException: 'throttled',
  TooManyRequestsException: 'throttled',
  RequestLimitExceeded: 'throttled',
  ServiceUnavailableException: 'unavailable',
  ServerException: 'unavailable',
  InternalFailure: 'unavailable',
};

export function fromAwsError(error: unknown, ctx: ErrorContext): CloudProviderError {
  if (error instanceof CloudProviderError) return error;
  const e = errorFields(error);
  const name = text(e.name);
  const metadata = asObject(e.$metadata);
  const status = typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
  const code = name && name !== 'Error' ? name : text(e.code);
  let kind: CloudErrorKind = (code && AWS_KINDS[code]) || (status ? kindFromHttpStatus(status) : 'unknown');
  if (isNetworkCode(e.code) || isNetworkCode(name)) kind = 'network';
  const retryable = e.$retryable ? true : undefined;
  return build(ctx, kind, text(e.message) ?? String(code ?? 'unknown error'), status, code, retryable);
}

// ---- Google (gax over HTTP/JSON): GaxiosError {status, code} or GoogleError {code: gRPC} --

const GRPC_STATUS: Record<number, [CloudErrorKind, number]> = {
  1: ['unavailable', 499], // CANCELLED
  2: ['unknown', 500],
  3: ['invalid-input', 400],
  4: ['unavailable', 504], // DEADLINE_EXCEEDED
  5: ['not-found', 404],
  6: ['conflict', 409],
  7: ['forbidden', 403],
  8: ['throttled', 429], // RESOURCE_EXHAUSTED
  9: ['invalid-input', 400], // FAILED_PRECONDITION
  10: ['conflict', 409], // ABORTED
  11: ['invalid-input', 400],
  12: ['invalid-input', 501], // UNIMPLEMENTED
  13: ['unavailable', 500],
  14: ['unavailable', 503],
  15: ['unknown', 500],
  16: ['unauthenticated', 401],
};

/** The `{ error: { message, status } }` body of a Google API error, wherever gaxios put it. */
function googleBody(e: Loose): { message?: string; status?: string } {
  const candidates = [asObject(e.response).data, e.message];
  for (const candidate of candidates) {
    let body: unknown = candidate;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        continue;
      }
    }
    const error = asObject(asObject(body).error);
    if (text(error.message) || text(error.status)) return { message: text(error.message), status: text(error.status) };
  }
  return {};
}

export function fromGoogleError(error: unknown, ctx: ErrorContext): CloudProviderError {
  if (error instanceof CloudProviderError) return error;
  const e = errorFields(error);
  const body = googleBody(e);
  const detail = body.message ?? text(e.message) ?? 'unknown error';
  // Transport errors (gaxios): HTTP status in `status`, or a socket code in `code`.
  if (isNetworkCode(e.code)) return build(ctx, 'network', detail, undefined, String(e.code));
  const httpStatus = typeof e.status === 'number' ? e.status : undefined;
  if (httpStatus !== undefined) {
    return build(ctx, kindFromHttpStatus(httpStatus), detail, httpStatus, body.status);
  }
  // API errors decoded by gax: a gRPC status code.
  if (typeof e.code === 'number' && GRPC_STATUS[e.code]) {
    const [kind, status] = GRPC_STATUS[e.code]!;
    return build(ctx, kind, detail, status, `grpc-${e.code}`);
  }
  // google-auth-library failures (no default credentials, refresh rejected).
  if (/credential|token|auth/i.test(detail)) return build(ctx, 'unauthenticated', detail);
  return build(ctx, 'unknown', detail, undefined, text(e.code));
}

// ---- Azure (core-rest-pipeline RestError, @azure/identity errors) ----------------------

export function fromAzureError(error: unknown, ctx: ErrorContext): CloudProviderError {
  if (error instanceof CloudProviderError) return error;
  const e = errorFields(error);
  const name = text(e.name);
  const code = text(e.code);
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const detail = text(e.message) ?? 'unknown error';
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError' || name === 'AggregateAuthenticationError') {
    return build(ctx, 'unauthenticated', detail, status, name);
  }
  if (isNetworkCode(code) || (status === undefined && name === 'RestError')) {
    return build(ctx, 'network', detail, undefined, code);
  }
  if (status !== undefined) return build(ctx, kindFromHttpStatus(status), detail, status, code);
  return build(ctx, 'unknown', detail, undefined, code ?? name);
}
