// stsAssumeRole (providers/cloud/eks-roles.ts): the AWS SDK's fromTemporaryCredentials calling
// STS AssumeRole for a connection's roleArn, signed with the worker's own credentials, in the
// cluster's region; here against a local stand-in for STS that records what it was asked.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stsAssumeRole } from '../../providers/cloud/eks-roles.js';

const requests: { body: URLSearchParams; authorization: string }[] = [];
let server: Server;
let endpoint: string;

const answer = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAROLEKEY000000001</AccessKeyId>
      <SecretAccessKey>role-secret-key</SecretAccessKey>
      <SessionToken>role-session-token</SessionToken>
      <Expiration>2030-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111111111111:assumed-role/flotilla-import/flotilla</Arn>
      <AssumedRoleId>AROA00000000000000001:flotilla</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ body: new URLSearchParams(Buffer.concat(chunks).toString('utf8')), authorization: req.headers.authorization ?? '' });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('stsAssumeRole', () => {
  it("assumes the role with the worker's credentials, in the cluster's region, and hands back the role's", async () => {
    const assumeRole = stsAssumeRole({ endpoint, masterCredentials: { accessKeyId: 'AKIAWORKER0000000001', secretAccessKey: 'worker-secret' } });
    const provider = assumeRole('arn:aws:iam::111111111111:role/flotilla-import', 'eu-west-1');
    if (typeof provider !== 'function') throw new Error('expected a credential provider');
    const credentials = await provider();
    expect(credentials).toMatchObject({
      accessKeyId: 'ASIAROLEKEY000000001', secretAccessKey: 'role-secret-key', sessionToken: 'role-session-token', expiration: new Date('2030-01-01T00:00:00Z'),
    });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(Object.fromEntries(request!.body)).toEqual({
      Action: 'AssumeRole', Version: '2011-06-15', RoleArn: 'arn:aws:iam::111111111111:role/flotilla-import', RoleSessionName: 'flotilla', DurationSeconds: '3600',
    });
    expect(request!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAWORKER0000000001\/\d{8}\/eu-west-1\/sts\/aws4_request,/);
  });

  it('takes a session name and lifetime', async () => {
    requests.length = 0;
    const provider = stsAssumeRole({ endpoint, masterCredentials: { accessKeyId: 'AKIAWORKER0000000001', secretAccessKey: 'worker-secret' }, sessionName: 'flotilla-prod', durationSeconds: 900 })(
      'arn:aws:iam::222222222222:role/ops', 'us-east-1',
    );
    if (typeof provider !== 'function') throw new Error('expected a credential provider');
    await provider();
    expect(requests[0]!.body.get('RoleSessionName')).toBe('flotilla-prod');
    expect(requests[0]!.body.get('DurationSeconds')).toBe('900');
    expect(requests[0]!.authorization).toContain('/us-east-1/sts/aws4_request');
  });
});
