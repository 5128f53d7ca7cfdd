// Error classification on the shapes each SDK throws (plain objects of the same fields).
import { describe, expect, it } from 'vitest';
import { fromAwsError, fromAzureError, fromGoogleError } from '../../providers/cloud/classify.js';
import { CloudProviderError, redact } from '../../providers/cloud/errors.js';

const aws = { provider: 'eks' as const, operation: 'describeCluster', target: 'cluster "prod" in eu-west-1' };
const gke = { provider: 'gke' as const, operation: 'getCluster' };
const aks = { provider: 'aks' as const, operation: 'get' };

describe('fromAwsError', () => {
  it.each([
    [{ name: 'ResourceNotFoundException', message: 'No cluster found for name: prod.', $metadata: { httpStatusCode: 404 } }, 'not-found', false, 404],
    [{ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 }, $retryable: { throttling: true } }, 'throttled', true, 400],
    [{ name: 'ServiceUnavailableException', message: 'down', $metadata: { httpStatusCode: 503 } }, 'unavailable', true, 503],
    [{ name: 'AccessDeniedException', message: 'User is not authorized', $metadata: { httpStatusCode: 403 } }, 'forbidden', false, 403],
    [{ name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', $metadata: { httpStatusCode: 403 } }, 'unauthenticated', false, 403],
    [{ name: 'InvalidParameterException', message: 'bad', $metadata: { httpStatusCode: 400 } }, 'invalid-input', false, 400],
    [{ name: 'SomethingNew', message: 'odd', $metadata: { httpStatusCode: 502 } }, 'unavailable', true, 502],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} }), 'network', true, undefined],
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, 'unauthenticated', false, undefined],
  ])('classifies %o', (error, kind, retryable, status) => {
    const classified = fromAwsError(error, aws);
    expect(classified).toBeInstanceOf(CloudProviderError);
    expect(classified).toMatchObject({ provider: 'eks', operation: 'describeCluster', kind, retryable, status });
  });

  it('says what was being done and to what', () => {
    const e = fromAwsError({ name: 'ResourceNotFoundException', message: 'No cluster found for name: prod.', $metadata: { httpStatusCode: 404 } }, aws);
    expect(e.message).toBe('eks describeCluster: not found cluster "prod" in eu-west-1: No cluster found for name: prod. (404 ResourceNotFoundException)');
  });

  it('passes a CloudProviderError through', () => {
    const inner = new CloudProviderError({ provider: 'eks', operation: 'x', kind: 'bad-response', message: 'm' });
    expect(fromAwsError(inner, aws)).toBe(inner);
  });
});

describe('fromGoogleError', () => {
  it('reads gaxios HTTP errors whose message is the JSON body', () => {
    const error = Object.assign(new Error('{"error":{"code":404,"message":"Not found: projects/p/locations/l/clusters/c.","status":"NOT_FOUND"}}'), {
      status: 404,
      code: 404,
      config: { headers: { Authorization: 'Bearer ya29.secret' } },
    });
    const e = fromGoogleError(error, gke);
    expect(e).toMatchObject({ kind: 'not-found', status: 404, code: 'NOT_FOUND', retryable: false });
    expect(e.message).toBe('gke getCluster: not found: Not found: projects/p/locations/l/clusters/c. (404 NOT_FOUND)');
    expect(JSON.stringify(e) + e.message).not.toContain('ya29');
  });

  it('reads gRPC status codes of GoogleError', () => {
    expect(fromGoogleError({ code: 14, message: '14 UNAVAILABLE: connection reset' }, gke)).toMatchObject({ kind: 'unavailable', status: 503, retryable: true });
    expect(fromGoogleError({ code: 7, message: '7 PERMISSION_DENIED: Required "container.clusters.get"' }, gke)).toMatchObject({ kind: 'forbidden', status: 403, retryable: false });
    expect(fromGoogleError({ code: 8, message: 'quota' }, gke)).toMatchObject({ kind: 'throttled', retryable: true });
  });

  it('reads socket errors and auth library failures', () => {
    expect(fromGoogleError({ code: 'ECONNREFUSED', message: 'request to http://127.0.0.1:1/ failed' }, gke)).toMatchObject({ kind: 'network', retryable: true });
    expect(fromGoogleError(new Error('Could not load the default credentials.'), gke)).toMatchObject({ kind: 'unauthenticated', retryable: false });
  });
});

describe('fromAzureError', () => {
  it.each([
    [{ name: 'RestError', statusCode: 404, code: 'ResourceNotFound', message: "The Resource 'x' was not found." }, 'not-found', false],
    [{ name: 'RestError', statusCode: 429, code: 'TooManyRequests', message: 'slow down' }, 'throttled', true],
    [{ name: 'RestError', statusCode: 409, code: 'OperationNotAllowed', message: 'busy' }, 'conflict', false],
    [{ name: 'RestError', code: 'REQUEST_SEND_ERROR', message: 'self-signed certificate in certificate chain' }, 'network', true],
    [{ name: 'CredentialUnavailableError', message: 'EnvironmentCredential is unavailable.' }, 'unauthenticated', false],
    [{ name: 'AuthenticationError', statusCode: 400, message: 'AADSTS7000215: Invalid client secret provided.' }, 'unauthenticated', false],
  ])('classifies %o', (error, kind, retryable) => {
    expect(fromAzureError(error, aks)).toMatchObject({ provider: 'aks', kind, retryable });
  });
});

describe('redact', () => {
  it.each([
    ['Authorization: Bearer eyJhbGciOi.abc.def', 'Authorization: Bearer [redacted]'],
    ['token k8s-aws-v1.aHR0cHM6Ly9zdHM was rejected', 'token k8s-aws-v1.[redacted] was rejected'],
    ['https://sts/?X-Amz-Credential=AKID%2F1&X-Amz-Signature=abc123&X-Amz-Security-Token=xyz', 'https://sts/?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]'],
    ['jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here', 'jwt [redacted-jwt] here'],
    ['key AKIAIOSFODNN7EXAMPLE used', 'key [redacted-access-key] used'],
    ['{"access_token":"ya29.a0Af","expires_in":3599}', '{"access_token":"[redacted]","expires_in":3599}'],
    ['password=hunter2&user=x', 'password=[redacted]&user=x'],
  ])('scrubs %s', (input, output) => {
    expect(redact(input)).toBe(output);
  });

  it('is applied to every CloudProviderError message', () => {
    const e = new CloudProviderError({ provider: 'aks', operation: 'get', kind: 'unknown', message: 'sent Bearer abc.def' });
    expect(e.message).toBe('aks get: sent Bearer [redacted]');
    expect(e.toJSON()).toEqual({ name: 'CloudProviderError', message: e.message, provider: 'aks', operation: 'get', kind: 'unknown', status: undefined, code: undefined, retryable: false });
  });
});
