// The API client: every request carries the bearer token kept in localStorage; a 401 anywhere
// signs out (the login screen then says why). Errors carry the API's own message
// ({ error: { code, message, details } }) so the page can say what to do.
const TOKEN_KEY = 'flotilla-token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

type Listener = (reason: string) => void;
const signOutListeners = new Set<Listener>();

export const auth = {
  token: (): string | null => localStorage.getItem(TOKEN_KEY),
  set(token: string): void {
    localStorage.setItem(TOKEN_KEY, token);
  },
  signOut(reason = ''): void {
    localStorage.removeItem(TOKEN_KEY);
    for (const l of signOutListeners) l(reason);
  },
  onSignOut(listener: Listener): () => void {
    signOutListeners.add(listener);
    return () => signOutListeners.delete(listener);
  },
};

export const REFUSED = 'The API refused the token (401): it is wrong, expired or revoked. Enter a valid API token.';

export function authHeaders(token = auth.token()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = `${res.status} ${res.statusText}`;
  let details: unknown;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; details?: unknown } };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      details = body.error.details;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(res.status, code, message, details);
}

export interface Answer<T> { status: number; body: T | undefined; etag: string | null }

/** A request to the API; 304 answers with no body. Throws ApiError for other non-2xx answers. */
export async function request<T>(method: string, path: string, options: { body?: unknown; etag?: string | null; token?: string; signal?: AbortSignal } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(options.token ?? auth.token()) };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.etag) headers['if-none-match'] = options.etag;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: options.signal, cache: 'no-store' });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'unreachable', 'The Flotilla API does not answer. Is it running? (./scripts/dev.sh starts it.) Retrying…');
  }
  if (res.status === 401 && !options.token) {
    auth.signOut(REFUSED);
    throw await errorOf(res);
  }
  if (res.status === 304) return { status: 304, body: undefined, etag: res.headers.get('etag') };
  if (!res.ok) throw await errorOf(res);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : undefined, etag: res.headers.get('etag') };
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request<T>('GET', path, { signal })).body as T;
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return (await request<T>('POST', path, { body })).body as T;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed: ${error.message}. Ask an admin for a token with the needed role or tiers.`;
    if (error.status === 404) return `Not found: ${error.message}.`;
    if (error.status >= 500) return `The API failed (${error.status}): ${error.message}. Check the API's log; retrying.`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
