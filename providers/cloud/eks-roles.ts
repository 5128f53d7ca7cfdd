// Reaching EKS clusters through an assumed role (a connection's or discovery account's
// `roleArn`): STS AssumeRole by the AWS SDK's own credential provider, which caches the role's
// credentials and assumes the role again shortly before they expire.
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { EksAdapterOptions } from './eks.js';

export interface StsAssumeRoleOptions {
  /** The worker's own credentials; the SDK's default chain when omitted. */
  masterCredentials?: EksAdapterOptions['credentials'];
  /** STS endpoint override (moto in tests); the regional AWS endpoint when omitted. */
  endpoint?: string;
  /** Shown in CloudTrail as the session's name. */
  sessionName?: string;
  /** Lifetime of the role's credentials (900–43200 s; the role's maximum applies). */
  durationSeconds?: number;
}

/** An `assumeRole` for EksAdapterOptions: one credential provider per role and region. */
export function stsAssumeRole(options: StsAssumeRoleOptions = {}): NonNullable<EksAdapterOptions['assumeRole']> {
  return (roleArn, region) =>
    fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: options.sessionName ?? 'flotilla', DurationSeconds: options.durationSeconds ?? 3600 },
      ...(options.masterCredentials ? { masterCredentials: options.masterCredentials as Parameters<typeof fromTemporaryCredentials>[0]['masterCredentials'] } : {}),
      clientConfig: { region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) },
    });
}
