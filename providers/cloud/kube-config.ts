// Builds a @kubernetes/client-node KubeConfig from a ClusterAccess. Token credentials are not
// copied into the config: a per-config authenticator asks the token source on every request,
// so a long-lived KubeConfig keeps working after a 15-minute EKS token expires.
import type { RequestOptions } from 'node:https';
import { KubeConfig, type User } from '@kubernetes/client-node';
import type { ClusterAccess, TokenSource } from './access.js';

/** Marks the kubeconfig user whose token comes from a Flotilla token source. */
export const TOKEN_SOURCE_AUTH_PROVIDER = 'flotilla-token-source';

/** client-node's Authenticator (not exported from its index). */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];
/** What client-node passes with each request: https or WebSocket options. */
type AuthOptions = Parameters<Authenticator['applyAuthentication']>[1];

class TokenSourceAuthenticator implements Authenticator {
  constructor(private readonly userName: string, private readonly token: TokenSource) {}

  isAuthProvider(user: User): boolean {
    return user.name === this.userName && (user.authProvider as { name?: string } | undefined)?.name === TOKEN_SOURCE_AUTH_PROVIDER;
  }

  async applyAuthentication(_user: User, opts: AuthOptions): Promise<void> {
    const { token } = await this.token();
    const options = opts as RequestOptions;
    options.headers = { ...(options.headers ?? {}), Authorization: `Bearer ${token}` };
  }
}

export function toKubeConfig(access: ClusterAccess): KubeConfig {
  const name = `${access.provider}-${access.name}`;
  const kc = new KubeConfig();
  const user: Record<string, unknown> = { name };
  switch (access.credentials.kind) {
    case 'token':
      user.authProvider = { name: TOKEN_SOURCE_AUTH_PROVIDER, config: {} };
      kc.addAuthenticator(new TokenSourceAuthenticator(name, access.credentials.token));
      break;
    case 'client-certificate':
      user.certData = access.credentials.certData;
      user.keyData = access.credentials.keyData;
      break;
    case 'none':
      break;
  }
  kc.loadFromOptions({
    clusters: [{ name, server: access.server, caData: access.caData, tlsServerName: access.tlsServerName, skipTLSVerify: false }],
    users: [user],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return kc;
}
