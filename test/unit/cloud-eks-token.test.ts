// The EKS token checked against an independent SigV4 implementation (node:crypto), so a
// wrong canonical request, scope or signed header list would show as a signature mismatch.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEksToken, decodeEksToken, EKS_TOKEN_PREFIX, stsHost } from '../../providers/cloud/eks-token.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2025-03-04T05:06:07Z');

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The signature AWS would compute for this presigned URL, given the header it must carry. */
function expectedSignature(url: URL, headers: Record<string, string>, secret: string): string {
  const params = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalQuery = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  const signed = url.searchParams.get('X-Amz-SignedHeaders')!;
  const canonicalHeaders = signed.split(';').map((h) => `${h}:${headers[h]!.trim()}\n`).join('');
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, signed, sha256('')].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date')!;
  const [, day, region, service] = url.searchParams.get('X-Amz-Credential')!.split('/');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('createEksToken', () => {
  it('is k8s-aws-v1. + base64url (no padding) of a presigned STS GetCallerIdentity URL', async () => {
    const { token, expiresAt } = await createEksToken({ clusterName: 'prod', region: 'eu-west-1', credentials, signingDate });
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    expect(token.slice(EKS_TOKEN_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]+$/);
    const url = decodeEksToken(token);
    expect(`${url.origin}${url.pathname}`).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20250304/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20250304T050607Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    });
    expect(expiresAt).toEqual(new Date(signingDate.getTime() + 14 * 60_000));
  });

  it('signs host and x-k8s-aws-id as AWS SigV4 does', async () => {
    const { token } = await createEksToken({ clusterName: 'prod', region: 'eu-west-1', credentials, signingDate });
    const url = decodeEksToken(token);
    const headers = { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'prod' };
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, headers, credentials.secretAccessKey));
    // Bound to the cluster: the same URL presented for another cluster does not verify.
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(expectedSignature(url, { ...headers, 'x-k8s-aws-id': 'other' }, credentials.secretAccessKey));
  });

  it('carries a session token, encoded and signed', async () => {
    const sessionToken = 'FwoGZXIvYXdzE+abc/def==';
    const { token } = await createEksToken({ clusterName: 'prod', region: 'us-east-1', credentials: { ...credentials, sessionToken }, signingDate });
    const url = decodeEksToken(token);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(sessionToken);
    expect(url.search).toContain('X-Amz-Security-Token=FwoGZXIvYXdzE%2Babc%2Fdef%3D%3D');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, { host: 'sts.us-east-1.amazonaws.com', 'x-k8s-aws-id': 'prod' }, credentials.secretAccessKey));
  });

  it('does not outlive temporary credentials', async () => {
    const expiration = new Date(signingDate.getTime() + 5 * 60_000);
    const { expiresAt } = await createEksToken({ clusterName: 'prod', region: 'eu-west-1', credentials: { ...credentials, sessionToken: 's', expiration }, signingDate });
    expect(expiresAt).toEqual(expiration);
  });

  it('uses the regional STS host, including China', () => {
    expect(stsHost('ap-southeast-2')).toBe('sts.ap-southeast-2.amazonaws.com');
    expect(stsHost('us-gov-west-1')).toBe('sts.us-gov-west-1.amazonaws.com');
    expect(stsHost('cn-north-1')).toBe('sts.cn-north-1.amazonaws.com.cn');
  });

  it('names bad input', async () => {
    await expect(createEksToken({ clusterName: 'prod', region: 'Ireland', credentials })).rejects.toThrow(/"Ireland" is not an AWS region/);
    await expect(createEksToken({ clusterName: '', region: 'eu-west-1', credentials })).rejects.toThrow(/cluster name is empty/);
    expect(() => decodeEksToken('Bearer abc')).toThrow(/must start with "k8s-aws-v1."/);
    expect(() => decodeEksToken('k8s-aws-v1.abc=')).toThrow(/base64url without padding/);
  });
});
