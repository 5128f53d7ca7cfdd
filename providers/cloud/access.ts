// The one shape every provider resolves a cluster to: where its API server is, which CA signs
// it, and how to authenticate. The Kubernetes layer only ever sees this (through
// toKubeConfig), so EKS, GKE, AKS and plain kubeconfigs are used the same way.
import type { Provider } from '../../domain/cluster.js';

export interface BearerToken {
  token: string;
  /** When the token stops working; absent for static tokens with no known expiry. */
  expiresAt?: Date;
}

/** Returns a valid token, fetching a new one only when the cached one is about to expire. */
export type TokenSource = () => Promise<BearerToken>;

export type ClusterCredentials =
  | { kind: 'token'; token: TokenSource }
  /** base64 PEM, as in a kubeconfig's client-certificate-data / client-key-data. */
  | { kind: 'client-certificate'; certData: string; keyData: string }
  /** The API server authenticates nobody (e.g. an anonymous read-only endpoint). */
  | { kind: 'none' };

export interface ClusterAccess {
  provider: Provider;
  /** The cluster's name in its provider; used to name the kubeconfig entries. */
  name: string;
  /** https URL of the API server, without a trailing slash. */
  server: string;
  /** base64 PEM bundle of the CA that signs the API server's certificate. Absent only for a
   * kubeconfig without one: the system's trusted CAs then apply. */
  caData?: string;
  /** Overrides the TLS server name (SNI and verification), e.g. for a private endpoint. */
  tlsServerName?: string;
  credentials: ClusterCredentials;
}

export interface TokenCacheOptions {
  /** Fetch a new token this long before the cached one expires. */
  refreshBeforeMs?: number;
  now?: () => number;
}

/**
 * Caches a token until `refreshBeforeMs` before it expires. Concurrent callers share one
 * fetch; a failed fetch is not cached, so the next call tries again.
 */
export function cachedTokenSource(fetchToken: TokenSource, options: TokenCacheOptions = {}): TokenSource {
  const refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
  const now = options.now ?? Date.now;
  let cached: BearerToken | undefined;
  let inFlight: Promise<BearerToken> | undefined;
  const fresh = (t: BearerToken) => !t.expiresAt || t.expiresAt.getTime() - refreshBeforeMs > now();
  return async () => {
    if (cached && fresh(cached)) return cached;
    inFlight ??= fetchToken()
      .then((token) => {
        cached = token;
        return token;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/** A token that never changes (a kubeconfig's static token). */
export function staticTokenSource(token: string): TokenSource {
  const value: BearerToken = { token };
  return async () => value;
}

/** Strips a trailing slash and checks the URL: the one place server URLs are normalized. */
export function normalizeServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`server "${server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`server "${server}" must be an https URL`);
  }
  return server.replace(/\/+$/, '');
}

/** A loose check that a CA bundle is base64 (what every provider and kubeconfig carry). */
export function isBase64(value: string): boolean {
  return value.length > 0 && /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/.test(value);
}
