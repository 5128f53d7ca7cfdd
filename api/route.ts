// One route = one declaration: method, path, schemas, the minimum role, how it is audited,
// and its handler. The same declarations mount on Express and generate the OpenAPI document.
import { createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { canonicalJson } from '../domain/canonical.js';
import { validate, type ValidationIssue } from '../domain/documents.js';
import type { Tier } from '../domain/environment.js';
import type { AuditResult } from '../store/audit.js';
import { ANONYMOUS } from './auth.js';
import { type Action, authorize, type Principal } from './authz.js';
import type { ApiDeps } from './deps.js';
import { ApiError, badRequest, toApiError } from './errors.js';
import type { OperationReservation } from './starter.js';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** `body` already serialised (a cached answer): sent as JSON as it is. */
  json?: string;
  /** A streamed answer instead of `body` (logs): the headers go at once, then what it writes. */
  stream?: (out: ReplyStream) => Promise<void>;
}

/** Where a streamed answer writes. */
export interface ReplyStream {
  /** Resolves once the chunk is handed on (waiting while the client is slow); false when the client has gone. */
  write(chunk: string): Promise<boolean>;
  /** Aborted when the client goes away: stop reading upstream. */
  signal: AbortSignal;
}

export interface ResponseContent {
  /** Documented as this body per media type (non-JSON answers such as a stream of lines). */
  [mediaType: string]: z.ZodType;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Media types other than JSON, each with its schema (instead of `schema`). */
  content?: ResponseContent;
  /** Header name → description. */
  headers?: Record<string, string>;
}

export interface RouteContext {
  deps: ApiDeps;
  principal: Principal;
  requestId: string;
  /** The request's Content-Type, for routes that read several. */
  requestContentType?: string;
  /** A request header (case-insensitive), for routes that declare it in `headers`. */
  header(name: string): string | undefined;
  /** Refuses with 403 (audited as denied) unless the principal may do `action` on these tiers. */
  authorize(action: Action, tiers?: readonly Tier[]): void;
  /** Sets what the audit entry of this mutation names, once the handler knows it. */
  audit(update: { target?: string; operationId?: string; details?: Record<string, unknown> }): void;
  /** With an Idempotency-Key: where the operation this request starts is reserved (see startOperation). */
  reservation?: OperationReservation;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: Method;
  /** OpenAPI form, below /v1: `/clusters/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** The least role needed, checked before the input is read; none for public routes. */
  action?: Action;
  params?: P;
  query?: Q;
  body?: B;
  /** The body may be left out (then `{}` is validated). */
  bodyOptional?: boolean;
  /** Request headers the route reads (documented only; the handler checks them). */
  headers?: { name: string; description: string; required?: boolean }[];
  /** Read the body as text (YAML or JSON documents) instead of JSON; `body` then validates the text. Content type → its schema, for the document. */
  rawBody?: { content: Record<string, z.ZodType> };
  responses: Record<number, ResponseSpec>;
  /** Mutations: the audit action, and the target named from the raw request. */
  audit?: { action: string; target(raw: { params: Record<string, string>; body: unknown }): string };
  /** Honours `Idempotency-Key`: a retry with the same key and body gets the first answer. */
  idempotent?: boolean;
  handler(input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>>, ctx: RouteContext): Promise<Reply>;
}

export type AnyRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/** Identity with inference: routes are typed by their own schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}

export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function mountRoute(router: Router, route: AnyRoute, deps: ApiDeps): void {
  const parser = route.rawBody
    ? express.text({ type: () => true, limit: deps.limits.bodyBytes })
    : express.json({ limit: deps.limits.bodyBytes });
  router[route.method](expressPath(route.path), async (req: Request, res: Response) => {
    await runRoute(route, deps, parser, req, res);
  });
}

async function runRoute(route: AnyRoute, deps: ApiDeps, parser: express.RequestHandler, req: Request, res: Response): Promise<void> {
  const principal = res.locals.principal as Principal | undefined;
  const requestId = String(res.locals.requestId ?? '');
  const entry: { target: string; operationId?: string; details: Record<string, unknown> } = { target: '', details: {} };
  let idempotency: { principal: string; key: string } | undefined;
  let reservation: OperationReservation | undefined;

  const writeAudit = async (result: AuditResult, extra: Record<string, unknown>) => {
    if (!route.audit) return;
    await deps.catalog.audit.append({
      actor: principal?.name ?? ANONYMOUS,
      action: route.audit.action,
      target: entry.target || route.audit.target({ params: req.params as Record<string, string>, body: req.body }),
      result,
      operationId: entry.operationId,
      // The actor is the owner; which of their tokens acted is kept beside it.
      details: { ...entry.details, ...extra, requestId, ...(principal?.tokenName ? { token: principal.tokenName } : {}) },
    });
  };

  try {
    if (route.action) {
      if (!principal) throw new ApiError(401, 'unauthenticated', 'a bearer token is required');
      const decision = authorize(principal, route.action);
      if (!decision.allowed) throw new ApiError(403, 'forbidden', decision.reason);
    }
    if (route.body) await readBody(parser, req, res);
    const input = parseInput(route, req);

    const key = req.get('idempotency-key');
    if (route.idempotent && key !== undefined && principal) {
      if (!IDEMPOTENCY_KEY.test(key)) throw badRequest([{ path: 'header.Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }]);
      const fingerprint = createHash('sha256').update(canonicalJson([req.method, req.baseUrl + req.path, req.body ?? null])).digest('hex');
      const claim = await deps.catalog.idempotency.claim(principal.id, key, fingerprint, deps.now().getTime(), deps.limits.idempotencyLeaseMs);
      if (claim.kind === 'mismatch') throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
      if (claim.kind === 'in-progress') throw new ApiError(409, 'idempotency_key_in_progress', 'a request with this Idempotency-Key is still running');
      if (claim.kind === 'replay') {
        const { status, body, location } = claim.response;
        res.setHeader('Idempotent-Replayed', 'true');
        if (location) res.setHeader('Location', location);
        await send(res, { status, body }, deps);
        return;
      }
      idempotency = { principal: principal.id, key };
      if (claim.resumed) deps.logger.warn({ requestId, operationId: claim.operation }, 'resuming a request whose earlier attempt was interrupted');
      reservation = {
        ...(claim.operation !== undefined ? { earlier: claim.operation } : {}),
        reserve: (operationId) => deps.catalog.idempotency.reserve(principal.id, key, operationId),
      };
    }

    const ctx: RouteContext = {
      deps,
      principal: principal ?? { id: ANONYMOUS, name: ANONYMOUS, role: 'viewer' },
      requestId,
      requestContentType: req.get('content-type'),
      header: (name) => req.get(name),
      authorize(action, tiers = []) {
        if (!principal) throw new ApiError(401, 'unauthenticated', 'a bearer token is required');
        const decision = authorize(principal, action, tiers);
        if (!decision.allowed) throw new ApiError(403, 'forbidden', decision.reason);
      },
      audit(update) {
        if (update.target !== undefined) entry.target = update.target;
        if (update.operationId !== undefined) entry.operationId = update.operationId;
        if (update.details) Object.assign(entry.details, update.details);
      },
      ...(reservation ? { reservation } : {}),
    };
    const reply = await route.handler(input, ctx);
    await writeAudit('ok', { status: reply.status });
    if (idempotency) {
      await deps.catalog.idempotency.complete(idempotency.principal, idempotency.key, {
        status: reply.status, body: reply.body, location: reply.headers?.Location,
      });
    }
    await send(res, reply, deps);
  } catch (error) {
    const mapped = toApiError(error);
    const status = mapped?.status ?? 500;
    await writeAudit(status === 403 || status === 401 ? 'denied' : 'error', { status, code: mapped?.code ?? 'internal' });
    if (idempotency) await deps.catalog.idempotency.release(idempotency.principal, idempotency.key);
    throw error;
  }
}

async function send(res: Response, reply: Reply, deps: ApiDeps): Promise<void> {
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.status(reply.status);
  if (reply.stream) await stream(res, reply.stream, deps);
  else if (reply.json !== undefined) res.type('application/json').send(reply.json);
  else if (reply.body === undefined) res.end();
  else res.json(reply.body);
}

/**
 * Sends the headers, then lets the producer write until it is done or the client goes. Once the
 * headers are out no error status can follow, so a producer reports its failures in the stream;
 * anything it throws is logged and the stream just ends.
 */
async function stream(res: Response, produce: NonNullable<Reply['stream']>, deps: ApiDeps): Promise<void> {
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  res.flushHeaders();
  const write = (chunk: string) => new Promise<boolean>((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve(false);
    if (res.write(chunk)) return resolve(true);
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed);
    };
    res.on('drain', done);
    res.on('close', done);
  });
  try {
    await produce({ write, signal: gone.signal });
  } catch (error) {
    deps.logger.error({ err: error }, 'streamed answer failed');
  } finally {
    if (!res.writableEnded) res.end();
  }
}

/** Runs the body parser inside the route, so that a malformed body of a mutation is audited too. */
function readBody(parser: express.RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    parser(req, res, (error?: unknown) => (error ? reject(error) : resolve()));
  });
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function parseInput(route: AnyRoute, req: Request): RouteInput<unknown, unknown, unknown> {
  const issues: ValidationIssue[] = [];
  const check = (schema: z.ZodType | undefined, value: unknown, at: string): unknown => {
    if (!schema) return {};
    const result = validate(schema, value, at ? [at] : []);
    if (result.ok) return result.value;
    issues.push(...result.issues);
    return undefined;
  };
  const params = check(route.params, { ...req.params }, 'path');
  const query = check(route.query, { ...(req.query as Record<string, unknown>) }, 'query');
  let body: unknown = {};
  if (route.body) {
    let raw: unknown = req.body;
    if (route.rawBody) {
      if (typeof raw !== 'string' || raw.trim() === '') throw badRequest([{ path: '(body)', message: 'a request body is required' }]);
    } else if (raw === undefined) {
      if (hasBody(req)) throw new ApiError(415, 'unsupported_media_type', 'the request body must be application/json');
      if (!route.bodyOptional) throw badRequest([{ path: '(body)', message: 'a JSON request body is required' }]);
      raw = {};
    }
    body = check(route.body, raw, '');
  }
  if (issues.length > 0) throw badRequest(issues);
  return { params, query, body };
}
