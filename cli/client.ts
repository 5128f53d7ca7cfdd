// The API client of the CLI: bearer auth, the API's error shape turned into exit codes.
import { CliError, EXIT, exitCodeForStatus } from './exit-codes.js';
import type { Config } from './config.js';

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

export class Client {
  constructor(private readonly config: Config, private readonly fetchImpl: typeof fetch = fetch) {}

  /** `extra` headers such as If-None-Match: a 304 answer then comes back with no body. */
  async request<T>(method: string, path: string, body?: { json?: unknown; text?: string; contentType?: string }, extra?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }> {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${this.config.token}`, accept: 'application/json' };
    let payload: string | undefined;
    if (body?.json !== undefined) {
      payload = JSON.stringify(body.json);
      headers['content-type'] = 'application/json';
    } else if (body?.text !== undefined) {
      payload = body.text;
      headers['content-type'] = body.contentType ?? 'application/yaml';
    }
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.config.server}${path}`, { method, headers, body: payload });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new CliError(`cannot reach ${this.config.server}${cause ? ` (${cause})` : ''}`, EXIT.unreachable);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok && res.status !== 304) {
      const e = (parsed as ApiErrorBody | undefined)?.error;
      throw new CliError(`${e?.message ?? `HTTP ${res.status}`}${e?.code ? ` (${e.code})` : ''}`, exitCodeForStatus(res.status), e?.details);
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /**
   * A GET whose answer is read as it comes (logs): the response once its headers are in, or the
   * API's error as a CliError. `signal` ends it.
   */
  async stream(path: string, accept: string, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.config.server}${path}`, { headers: { authorization: `Bearer ${this.config.token}`, accept }, signal });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new CliError(`cannot reach ${this.config.server}${cause ? ` (${cause})` : ''}`, EXIT.unreachable);
    }
    if (!res.ok) {
      const text = await res.text();
      let e: ApiErrorBody['error'];
      try {
        e = (JSON.parse(text) as ApiErrorBody).error;
      } catch {
        e = undefined;
      }
      throw new CliError(`${e?.message ?? `HTTP ${res.status}`}${e?.code ? ` (${e.code})` : ''}`, exitCodeForStatus(res.status), e?.details);
    }
    return res;
  }

  get<T>(path: string) {
    return this.request<T>('GET', path).then((r) => r.body);
  }
}
