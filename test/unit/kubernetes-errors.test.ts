// Which failures of the Kubernetes layer Temporal should retry.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApplyConflictError, parseApplyConflicts } from '../../providers/kubernetes/apply.js';
import { UnknownKindError } from '../../providers/kubernetes/client.js';
import { classifyError, KubeApiError, parseStatus, type KubeStatus } from '../../providers/kubernetes/errors.js';
import { JobFailedError, RolloutTimeoutError } from '../../providers/kubernetes/rollout.js';

function status(code: number, reason: string, message = 'm', details?: KubeStatus['details']): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, details });
}

/** As the generated client-node APIs throw them: the body is the JSON text. */
function apiException(code: number, reason: string, details?: KubeStatus['details'], headers: Record<string, string> = {}) {
  return new ApiException(code, 'Unknown API Status Code!', status(code, reason, `${reason} happened`, details), headers);
}

function networkError(code: string): Error {
  // node-fetch's FetchError for a system error.
  return Object.assign(new Error(`request to https://127.0.0.1:1/api failed, reason: connect ${code}`), { type: 'system', code, errno: code });
}

const conflict409 = { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "other" using apps/v1', field: '.spec.replicas' }] };

describe('classifyError', () => {
  it.each([
    [500, 'InternalError', true],
    [502, 'BadGateway', true],
    [503, 'ServiceUnavailable', true],
    [504, 'Timeout', true],
    [429, 'TooManyRequests', true],
    [408, 'Timeout', true],
    [410, 'Expired', true],
    [409, 'Conflict', true],
    [400, 'BadRequest', false],
    [401, 'Unauthorized', false],
    [403, 'Forbidden', false],
    [404, 'NotFound', false],
    [405, 'MethodNotAllowed', false],
    [413, 'RequestEntityTooLarge', false],
    [415, 'UnsupportedMediaType', false],
    [422, 'Invalid', false],
    [501, 'NotImplemented', false],
  ])('HTTP %i %s → retryable %s', (code, reason, retryable) => {
    expect(classifyError(apiException(code, reason))).toMatchObject({ retryable, reason, status: code, message: `${code} ${reason}: ${reason} happened` });
  });

  it('calls a 409 of a server-side apply a conflict that retrying cannot solve', () => {
    expect(classifyError(apiException(409, 'Conflict', conflict409))).toMatchObject({ retryable: false, reason: 'ApplyConflict' });
    expect(classifyError(apiException(409, 'Conflict'), { apply: true })).toMatchObject({ retryable: false, reason: 'ApplyConflict' });
  });

  it('does not retry an apply naming a field the schema lacks (the server answers a bare 500)', () => {
    const body = JSON.stringify({ kind: 'Status', status: 'Failure', code: 500, message: 'failed to create typed patch object (ns/typo; /v1, Kind=Service): .spec.portz: field not declared in schema' });
    expect(classifyError(new ApiException(500, 'x', body, {}))).toMatchObject({ retryable: false, reason: 'Invalid', status: 500, message: expect.stringMatching(/^500 InternalError: failed to create typed patch object/) });
  });

  it('does not retry AlreadyExists: creating again fails again', () => {
    expect(classifyError(apiException(409, 'AlreadyExists'))).toMatchObject({ retryable: false, reason: 'AlreadyExists' });
  });

  it('retries writes into a namespace that is still terminating', () => {
    const e = apiException(403, 'Forbidden', { causes: [{ reason: 'NamespaceTerminating', message: 'namespace x is being terminated' }] });
    expect(classifyError(e)).toMatchObject({ retryable: true, reason: 'NamespaceTerminating', status: 403 });
  });

  it('passes on how long the server asked to wait', () => {
    expect(classifyError(apiException(429, 'TooManyRequests', { retryAfterSeconds: 3 }))).toMatchObject({ retryable: true, retryAfterMs: 3000 });
    expect(classifyError(apiException(503, 'ServiceUnavailable', undefined, { 'retry-after': '2' }))).toMatchObject({ retryAfterMs: 2000 });
  });

  it('reads the status of an ApiException without a Status body', () => {
    expect(classifyError(new ApiException(401, 'Unauthorized', undefined, {}))).toMatchObject({ retryable: false, reason: 'Unauthorized', status: 401 });
    expect(classifyError(new ApiException(503, 'x', '<html>proxy</html>', {}))).toMatchObject({ retryable: true, reason: 'ServiceUnavailable' });
  });

  it('reads KubeApiError, whose message names the request', () => {
    const body = status(422, 'Invalid', 'ConfigMap "a_b" is invalid');
    const e = new KubeApiError(422, parseStatus(body), body, {}, 'PATCH', '/api/v1/namespaces/x/configmaps/a_b');
    expect(e.message).toBe('PATCH /api/v1/namespaces/x/configmaps/a_b: 422 Invalid: ConfigMap "a_b" is invalid');
    expect(classifyError(e)).toMatchObject({ retryable: false, reason: 'Invalid', status: 422 });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'])('retries network error %s', (code) => {
    expect(classifyError(networkError(code))).toMatchObject({ retryable: true, reason: code });
    expect(classifyError(new Error('fetch failed', { cause: networkError(code) }))).toMatchObject({ retryable: true, reason: code });
  });

  it('retries timeouts and dropped sockets', () => {
    expect(classifyError(Object.assign(new Error('network timeout at: https://x'), { type: 'request-timeout' }))).toMatchObject({ retryable: true, reason: 'Timeout' });
    expect(classifyError(new Error('socket hang up'))).toMatchObject({ retryable: true, reason: 'NetworkError' });
  });

  it('does not retry certificate errors or cancellation', () => {
    expect(classifyError(networkError('DEPTH_ZERO_SELF_SIGNED_CERT'))).toMatchObject({ retryable: false, reason: 'TLSError' });
    expect(classifyError(networkError('CERT_HAS_EXPIRED'))).toMatchObject({ retryable: false, reason: 'TLSError' });
    expect(classifyError(new DOMException('The operation was aborted.', 'AbortError'))).toMatchObject({ retryable: false, reason: 'Aborted' });
  });

  it("uses the layer's own errors' verdicts", () => {
    const conflict = new ApplyConflictError([{ object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' }, conflicts: [{ manager: 'other', field: '.spec.replicas', message: '' }] }]);
    expect(classifyError(conflict)).toMatchObject({ retryable: false, reason: 'ApplyConflict', status: 409 });
    expect(conflict.message).toContain('Deployment ns/web: .spec.replicas owned by "other"');
    expect(classifyError(new RolloutTimeoutError([], 1000))).toMatchObject({ retryable: false, reason: 'RolloutTimeout' });
    const job = { kind: 'Job' as const, namespace: 'ns', name: 'migrate', desired: 1, updated: 1, ready: 0, done: false, failure: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } };
    expect(classifyError(new JobFailedError(job))).toMatchObject({ retryable: false, reason: 'JobFailed', message: 'Job ns/migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit' });
    expect(classifyError(new UnknownKindError('example.com/v1', 'Widget'))).toMatchObject({ retryable: false, reason: 'NoKindMatch' });
  });

  it('retries what it does not know, as Temporal does by default', () => {
    expect(classifyError(new Error('something odd'))).toMatchObject({ retryable: true, reason: 'Unknown', message: 'something odd' });
    expect(classifyError('a string')).toMatchObject({ retryable: true, reason: 'Unknown' });
  });
});

describe('parseApplyConflicts', () => {
  it('lists each conflicting manager and field of a 409 apply Status', () => {
    const e = apiException(409, 'Conflict', {
      causes: [
        { reason: 'FieldManagerConflict', message: 'conflict with "other" using apps/v1', field: '.spec.replicas' },
        { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" with subresource "scale" using apps/v1', field: '.spec.template.spec.containers[name="web"].image' },
      ],
    });
    expect(parseApplyConflicts(e)).toEqual([
      { manager: 'other', field: '.spec.replicas', message: 'conflict with "other" using apps/v1' },
      { manager: 'kubectl-edit', field: '.spec.template.spec.containers[name="web"].image', message: 'conflict with "kubectl-edit" with subresource "scale" using apps/v1' },
    ]);
  });

  it('is undefined for anything but a 409', () => {
    expect(parseApplyConflicts(apiException(422, 'Invalid'))).toBeUndefined();
    expect(parseApplyConflicts(new Error('x'))).toBeUndefined();
  });
});
