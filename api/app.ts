// The Express app factory: request id, logs, rate limit, bearer auth, the /v1 routes (each
// declared once in routes/), the OpenAPI document, one error mapper.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import type { CloudAdapters } from '../providers/cloud/adapters.js';
import { ConnectionClusterDirectory } from '../providers/cloud/directory.js';
import { IDEMPOTENCY_LEASE_MS } from '../store/idempotency.js';
import { GLOBAL_SCOPE } from '../store/secrets.js';
import { authenticate } from './auth.js';
import type { ApiDeps, AppDeps } from './deps.js';
import { errorMapper, notFound } from './errors.js';
import { codecCors } from './http/cors.js';
import { createLogger, requestLogger } from './http/logger.js';
import { DEFAULT_RATE_LIMIT, FixedWindows, rateLimit } from './http/rate-limit.js';
import { requestId } from './http/request-id.js';
import { buildOpenApi } from './openapi.js';
import { mountRoute } from './route.js';
import { ROUTES } from './routes/index.js';
import { FleetEventHub } from './services/events.js';

export type { AppDeps } from './deps.js';
export const API_VERSION = '1.0.0';
/** The dashboard's build (web/, built by scripts/web-build.sh during setup). */
// web/dist at the package's root: one folder up from api/ in the sources, two from dist/api/ once compiled.
export const defaultWebRoot = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../web/dist/' : '../../web/dist/', import.meta.url));
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * What the dashboard reads at start (GET /dashboard-config.json, public): where the Temporal UI
 * is, to link each operation to its workflow. From deps.dashboard, else FLOTILLA_TEMPORAL_UI_URL
 * (or the dev server's UI on FLOTILLA_TEMPORAL_UI_PORT, 8233) and the codec's namespace or
 * TEMPORAL_NAMESPACE; FLOTILLA_TEMPORAL_UI_URL=off hides the links.
 */
export function dashboardConfig(deps: Pick<AppDeps, 'dashboard' | 'codec'>, env: NodeJS.ProcessEnv = process.env): { temporalUi?: string; namespace: string } {
  const fromEnv = env.FLOTILLA_TEMPORAL_UI_URL ?? `http://127.0.0.1:${env.FLOTILLA_TEMPORAL_UI_PORT ?? '8233'}`;
  const ui = deps.dashboard?.temporalUi ?? fromEnv;
  const namespace = deps.dashboard?.namespace ?? deps.codec?.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default';
  return { ...(ui && ui !== 'off' ? { temporalUi: ui.replace(/\/+$/, '') } : {}), namespace };
}

export function createApp(deps: AppDeps): Express {
  const logger = deps.logger ?? createLogger();
  const cloud: CloudAdapters = { ...deps.cloud, readKubeconfig: (name) => deps.catalog.secrets.require(GLOBAL_SCOPE, name) };
  const api: ApiDeps = {
    catalog: deps.catalog,
    operations: deps.operations,
    ...(deps.schedules ? { schedules: deps.schedules } : {}),
    cloud,
    clusters: deps.clusters ?? new ConnectionClusterDirectory({ connectionOf: async (name) => (await deps.catalog.clusters.get(name))?.connection, adapters: cloud }),
    logger,
    limits: { bodyBytes: deps.bodyBytes ?? BODY_LIMIT_BYTES, idempotencyLeaseMs: deps.idempotencyLeaseMs ?? IDEMPOTENCY_LEASE_MS },
    now: deps.now ?? (() => new Date()),
    codec: deps.codec,
    events: new FleetEventHub({
      catalog: deps.catalog,
      now: deps.now ?? (() => new Date()),
      onError: (error) => logger.warn({ err: error }, 'event poller failed; trying again'),
    }),
  };
  const document = buildOpenApi(ROUTES, { version: API_VERSION });
  const publicPaths = new Set(ROUTES.filter((r) => !r.action).map((r) => `${r.method} ${r.path}`));

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestId);
  app.use(requestLogger(logger));
  // The Temporal UI calls the codec endpoint from the browser: CORS for its origins only, and
  // their preflights answered before authentication (a preflight carries no token).
  app.use('/v1/codec', codecCors(deps.codec?.corsOrigins ?? []));

  const v1 = express.Router();
  const limits = deps.rateLimit ?? DEFAULT_RATE_LIMIT;
  // Public routes have literal paths (/healthz), so matching the request path is enough.
  const anonymous = { windows: new FixedWindows(limits), max: limits.max };
  v1.use(authenticate(deps.catalog, (method, path) => path === '/openapi.json' || publicPaths.has(`${method.toLowerCase()} ${path}`), anonymous));
  // Per token for valid callers; per address for public routes (shared with the anonymous count).
  v1.use(rateLimit(limits, anonymous.windows));
  v1.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  for (const route of ROUTES) mountRoute(v1, route, api);
  app.use('/v1', v1);

  // The dashboard: its files, what it needs to link operations to the Temporal UI, and
  // index.html for every other GET outside /v1 (its client-side routes, e.g. /environments/x).
  const webRoot = deps.webRoot ?? defaultWebRoot;
  const dashboard = dashboardConfig(deps);
  app.get('/dashboard-config.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(dashboard);
  });
  if (existsSync(join(webRoot, 'index.html'))) {
    app.use(express.static(webRoot, { index: 'index.html', setHeaders: (res, file) => {
      // Hashed assets never change; index.html must be read again to find new ones.
      res.setHeader('Cache-Control', /[\\/]assets[\\/]/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
    } }));
    app.get(/^(?!\/v1(\/|$)).*/, (req, res, next) => {
      if (!req.accepts('html')) return next();
      res.set('Cache-Control', 'no-cache').sendFile('index.html', { root: webRoot });
    });
  }

  app.use(notFound);
  app.use(errorMapper(logger));
  return app;
}
