// The EKS bearer token, made exactly as aws-iam-authenticator (and `aws eks get-token`) make
// it: a SigV4-presigned STS GetCallerIdentity URL that also signs the header
// `x-k8s-aws-id: <cluster>`, base64url without padding, prefixed `k8s-aws-v1.`. The API
// server replays the URL to STS to learn who the caller is; nothing is sent from here.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { BearerToken } from './access.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** The presigned URL's own expiry; EKS checks X-Amz-Date against its 15 minutes instead. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** EKS accepts a token for 15 minutes after signing; report one minute less, as the CLI does. */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials expire; the token cannot outlive them. */
  expiration?: Date;
}

export interface EksTokenInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentials;
  /** Signing time; now when omitted. */
  signingDate?: Date;
}

export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function isAwsRegion(region: string): boolean {
  return AWS_REGION_PATTERN.test(region);
}

/** The regional STS endpoint EKS expects to find in the token. */
export function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

export async function createEksToken(input: EksTokenInput): Promise<BearerToken> {
  if (!input.clusterName) throw new Error('EKS token: cluster name is empty');
  if (!isAwsRegion(input.region)) throw new Error(`EKS token: "${input.region}" is not an AWS region (e.g. eu-west-1)`);
  const signingDate = input.signingDate ?? new Date();
  const host = stsHost(input.region);
  const signer = new SignatureV4({ service: 'sts', region: input.region, credentials: input.credentials, sha256: Sha256 });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, [CLUSTER_ID_HEADER]: input.clusterName },
  });
  const signed = await signer.presign(request, { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate });
  const url = `https://${host}/?${queryString(signed.query ?? {})}`;
  const lifetimeEnd = signingDate.getTime() + EKS_TOKEN_LIFETIME_MS;
  const credentialsEnd = input.credentials.expiration?.getTime() ?? Infinity;
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: new Date(Math.min(lifetimeEnd, credentialsEnd)),
  };
}

/** Reads a token back into its presigned URL (for checks and tests; it holds a signature). */
export function decodeEksToken(token: string): URL {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) throw new Error(`EKS token must start with "${EKS_TOKEN_PREFIX}"`);
  const body = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new Error('EKS token is not base64url without padding');
  return new URL(Buffer.from(body, 'base64url').toString('utf8'));
}

// SigV4 signs the RFC 3986-encoded query; URLSearchParams would encode differently (e.g. '+').
function queryString(query: Record<string, string | string[] | null | undefined>): string {
  return Object.keys(query)
    .sort()
    .flatMap((key) => {
      const value = query[key];
      const values = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
      return values.map((v) => `${rfc3986(key)}=${rfc3986(v)}`);
    })
    .join('&');
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
