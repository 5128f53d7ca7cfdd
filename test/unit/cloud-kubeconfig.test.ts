import { describe, expect, it } from 'vitest';
import { CloudProviderError } from '../../providers/cloud/errors.js';
import { kubeconfigAccess, kubeconfigContexts, parseKubeconfig } from '../../providers/cloud/kubeconfig.js';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n').toString('base64');
const CERT = Buffer.from('cert').toString('base64');
const KEY = Buffer.from('key').toString('base64');
const SECRET = 'sha256~very-secret-token';

function doc(user: string, extra = ''): string {
  return `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: ${CA}
- name: dev-cluster
  cluster:
    server: https://dev.example.com
    certificate-authority-data: ${CA}
    tls-server-name: api.dev.internal
contexts:
- name: prod
  context: { cluster: prod-cluster, user: prod-user, namespace: apps }
- name: dev
  context: { cluster: dev-cluster, user: dev-user }
users:
- name: prod-user
  user:
${user}
- name: dev-user
  user:
    token: dev-token
${extra}`;
}

describe('parseKubeconfig', () => {
  it('reads the current context: server (no trailing slash), CA, namespace, token', () => {
    expect(parseKubeconfig(doc(`    token: ${SECRET}`))).toEqual({
      context: 'prod', cluster: 'prod-cluster', user: 'prod-user', namespace: 'apps',
      server: 'https://10.0.0.1:6443', caData: CA, tlsServerName: undefined,
      auth: { kind: 'token', token: SECRET },
    });
  });

  it('reads a named context and its tls-server-name', () => {
    expect(parseKubeconfig(doc(`    token: x`), 'dev')).toMatchObject({ context: 'dev', server: 'https://dev.example.com', tlsServerName: 'api.dev.internal', auth: { kind: 'token', token: 'dev-token' } });
  });

  it('reads client certificates, and exec plugins as external', () => {
    expect(parseKubeconfig(doc(`    client-certificate-data: ${CERT}\n    client-key-data: ${KEY}`)).auth).toEqual({ kind: 'client-certificate', certData: CERT, keyData: KEY });
    expect(parseKubeconfig(doc(`    exec: { command: kubelogin, apiVersion: client.authentication.k8s.io/v1beta1 }`)).auth).toEqual({ kind: 'external', via: 'exec plugin "kubelogin"' });
    expect(parseKubeconfig(doc('    {}')).auth).toEqual({ kind: 'none' });
  });

  it('uses the only context when there is no current-context', () => {
    const single = `clusters: [{name: c, cluster: {server: 'https://x', certificate-authority-data: ${CA}}}]\ncontexts: [{name: only, context: {cluster: c}}]\n`;
    expect(parseKubeconfig(single)).toMatchObject({ context: 'only', auth: { kind: 'none' } });
  });

  it.each([
    ['', undefined, /document is empty/],
    ['a: [1, 2', undefined, /not valid YAML \(line \d+, column \d+\)/],
    ['- 1\n- 2', undefined, /not a mapping/],
    ['clusters: 3', undefined, /malformed: clusters: /],
    [doc('    token: x'), 'staging', /context "staging" not found \(contexts: prod, dev\)/],
    [doc('    token: x').replace('current-context: prod\n', ''), undefined, /has no current-context; name one of: prod, dev/],
    [doc('    token: x').replace('cluster: prod-cluster,', 'cluster: gone,'), undefined, /refers to cluster "gone", which is not in the document/],
    [doc('    token: x').replace('user: prod-user,', 'user: nobody,'), undefined, /refers to user "nobody", which is not in the document/],
    [doc('    client-certificate: /home/me/cert.pem\n    client-key: /home/me/key.pem'), undefined, /user "prod-user" refers to files; store a self-contained kubeconfig/],
    [doc(`    client-certificate-data: ${CERT}`), undefined, /has client-certificate-data but no client-key-data/],
    [doc('    username: admin\n    password: hunter2'), undefined, /basic authentication/],
    [doc('    token: x').replace(`certificate-authority-data: ${CA}\n- name: dev`, 'certificate-authority: /etc/ca.crt\n- name: dev'), undefined, /refers to a CA file/],
    [doc('    token: x').replace('server: https://10.0.0.1:6443/', 'server: http://10.0.0.1:8080'), undefined, /server must be an https URL/],
    [doc('    token: x').replace('server: https://10.0.0.1:6443/', 'server: not a url'), undefined, /server "not a url" is not a URL/],
    [doc('    token: x').replace(`certificate-authority-data: ${CA}\n- name: dev`, 'insecure-skip-tls-verify: true\n- name: dev'), undefined, /insecure-skip-tls-verify/],
  ])('refuses bad documents with a clear message (%#)', (text, context, message) => {
    expect(() => parseKubeconfig(text, context)).toThrow(message);
  });

  it('never puts credentials in its errors', () => {
    const broken = doc(`    token: ${SECRET}\n    client-certificate: /x`);
    expect(() => parseKubeconfig(broken)).toThrow(/refers to files/);
    const yamlError = (() => {
      try {
        parseKubeconfig(`users:\n- name: u\n  user: {token: ${SECRET}, : ]`);
      } catch (error) {
        return String(error);
      }
      return '';
    })();
    expect(yamlError).toMatch(/not valid YAML/);
    expect(yamlError).not.toContain(SECRET);
  });
});

describe('kubeconfigAccess', () => {
  it('gives a static token source', async () => {
    const access = kubeconfigAccess(doc(`    token: ${SECRET}`));
    expect(access).toMatchObject({ provider: 'kubeconfig', name: 'prod', server: 'https://10.0.0.1:6443', caData: CA });
    if (access.credentials.kind !== 'token') throw new Error('expected a token');
    expect(await access.credentials.token()).toEqual({ token: SECRET });
  });

  it('gives client certificates', () => {
    expect(kubeconfigAccess(doc(`    client-certificate-data: ${CERT}\n    client-key-data: ${KEY}`)).credentials).toEqual({ kind: 'client-certificate', certData: CERT, keyData: KEY });
  });

  it('refuses exec plugins as invalid input, saying what to use instead', () => {
    let error: unknown;
    try {
      kubeconfigAccess(doc('    exec: { command: aws }'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CloudProviderError);
    expect(error).toMatchObject({ provider: 'kubeconfig', kind: 'invalid-input', retryable: false });
    expect(String(error)).toMatch(/exec plugin "aws", which Flotilla does not run; use an eks, gke or aks connection/);
  });

  it('lists usable contexts for discovery', () => {
    const contexts = kubeconfigContexts(doc('    client-certificate: /x\n    client-key: /y'));
    expect(contexts.map((c) => c.context)).toEqual(['dev']);
  });
});

describe('credentials never reach stderr through the YAML parser (issue 10, finding 6)', () => {
  /** Everything written to stderr and every process warning while `fn` runs (warnings arrive on a later tick). */
  async function captureStderr(fn: () => void): Promise<string> {
    const seen: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const onWarning = (w: Error) => seen.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      seen.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      fn();
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.stderr.write = write;
      process.off('warning', onWarning);
    }
    return seen.join('\n');
  }
  // An unknown tag on the token line: the parser's warning quotes the line.
  const tagged = doc(`    token: !vault ${SECRET}`);

  it('parseKubeconfig and kubeconfigContexts say nothing on stderr', async () => {
    const out = await captureStderr(() => {
      try {
        parseKubeconfig(tagged);
      } catch { /* refusing it is fine; speaking is not */ }
      try {
        kubeconfigContexts(tagged);
      } catch { /* as above */ }
    });
    expect(out).not.toContain(SECRET);
    expect(out).toBe('');
  });

  it('a multi-document apply with a credential under an unknown tag says nothing on stderr', async () => {
    const { parseDocuments } = await import('../../domain/documents.js');
    const out = await captureStderr(() => {
      parseDocuments(`apiVersion: flotilla.dev/v1\nkind: Cluster\nmetadata: { name: x }\nspec:\n  token: !vault ${SECRET}\n`);
    });
    expect(out).not.toContain(SECRET);
  });
});
