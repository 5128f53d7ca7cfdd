// Short-lived tokens of Flotilla's own service accounts (TokenRequest), kept in the worker's
// memory only: never in the catalog, a workflow's input or result, a log line or an error.
//
// A token is minted with the cluster's registered credential, cached per cluster, account and
// cluster identity (server, CA, TLS name, proxy), and minted again shortly before it expires.
// The identity is part of the key so that a cluster whose connection is re-pointed elsewhere
// never receives a token minted for the old one.
import { createHash } from 'node:crypto';
import type * as https from 'node:https';
import { CoreV1Api, KubeConfig, type RequestContext } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

type FetchInit = Awaited<ReturnType<KubeConfig['applyToFetchOptions']>>;

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

export interface IssuedToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface ServiceAccountTokensOptions {
  /** Lifetime asked of the API server (default 3600 s; it may shorten it, never below 600 s). */
  expirationSeconds?: number;
  /** Mint again when less than this is left (default 15 minutes: longer than any one request or watch). */
  renewBeforeMs?: number;
  now?: () => number;
}

/** Mints a token of `account` with `client` (TokenRequest: POST …/serviceaccounts/NAME/token). */
export async function requestServiceAccountToken(client: KubeClient, account: ServiceAccountRef, expirationSeconds: number): Promise<IssuedToken> {
  const answer = await client.api(CoreV1Api).createNamespacedServiceAccountToken({
    name: account.name,
    namespace: account.namespace,
    // No audiences: the API server's own, so the token is good for this API server only.
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error(`the API server issued no token for ${account.namespace}/${account.name}`);
  const expires = answer.status?.expirationTimestamp;
  return { token, expiresAt: expires ? new Date(expires).getTime() : Date.now() + expirationSeconds * 1000 };
}

/** What identifies the API server a kubeconfig reaches: tokens are never sent anywhere else. */
export function clusterIdentity(kc: KubeConfig): string {
  const c = kc.getCurrentCluster();
  if (!c) throw new Error('kubeconfig has no cluster for its current context');
  const facts = [c.server, c.caData ?? '', c.caFile ?? '', c.tlsServerName ?? '', String(c.skipTLSVerify), c.proxyUrl ?? ''];
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex');
}

/** The per-cluster token cache of one worker. */
export class ServiceAccountTokens {
  private readonly cache = new Map<string, { identity: string; issued: Promise<IssuedToken> }>();

  constructor(private readonly options: ServiceAccountTokensOptions = {}) {}

  get expirationSeconds(): number {
    return this.options.expirationSeconds ?? 3600;
  }

  /** A valid token of `account` for `cluster` at `identity`, minting one with `mint` when needed. */
  async token(cluster: string, account: ServiceAccountRef, identity: string, mint: (expirationSeconds: number) => Promise<IssuedToken>): Promise<string> {
    const key = `${cluster}\u0000${account.namespace}/${account.name}`;
    const now = (this.options.now ?? Date.now)();
    const hit = this.cache.get(key);
    if (hit && hit.identity === identity) {
      const issued = await hit.issued.catch(() => undefined);
      if (issued && issued.expiresAt - now > (this.options.renewBeforeMs ?? 15 * 60_000)) return issued.token;
      if (this.cache.get(key) !== hit) return this.token(cluster, account, identity, mint); // someone renewed meanwhile
    }
    const issued = mint(this.expirationSeconds);
    const entry = { identity, issued };
    this.cache.set(key, entry);
    // A failure is not cached: the next call mints again.
    issued.catch(() => {
      if (this.cache.get(key) === entry) this.cache.delete(key);
    });
    return (await issued).token;
  }

  /** Drops a cluster's tokens (e.g. after the API server rejected one). */
  forget(cluster: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${cluster}\u0000`)) this.cache.delete(key);
  }
}

/**
 * A KubeConfig that reaches the registered kubeconfig's API server (same server, CA, TLS name
 * and proxy) and authenticates every request with a bearer token from `tokenFor`, asked anew
 * per request, so a long activity renews its token without noticing. The registered user's
 * credentials are not copied.
 */
export class ServiceAccountKubeConfig extends KubeConfig {
  constructor(
    registered: KubeConfig,
    readonly user: string,
    private readonly tokenFor: (request: { method?: string; url?: URL }) => Promise<string>,
  ) {
    super();
    const cluster = registered.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no cluster for its current context');
    this.loadFromOptions({
      clusters: [cluster],
      users: [{ name: user }],
      contexts: [{ name: user, cluster: cluster.name, user }],
      currentContext: user,
    });
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const token = await this.tokenFor({ method: context.getHttpMethod(), url: new URL(context.getUrl()) });
    context.setHeaderParam('Authorization', `Bearer ${token}`);
  }

  override async applyToFetchOptions(opts: https.RequestOptions): Promise<FetchInit> {
    const init = await super.applyToFetchOptions(opts);
    const authorization = `Bearer ${await this.tokenFor({ method: opts.method })}`;
    const headers = init.headers as { set?: (name: string, value: string) => void } | Record<string, string> | undefined;
    if (headers && typeof headers.set === 'function') headers.set('Authorization', authorization);
    else init.headers = { ...(headers as Record<string, string> | undefined), Authorization: authorization };
    return init;
  }
}
