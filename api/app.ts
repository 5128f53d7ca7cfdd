// The Express app factory: routes over injected dependencies, one error mapper.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { ApiError, errorMapper, notFound } from './errors.js';

export interface ClusterView {
  name: string;
  provider: string;
  labels: Record<string, string>;
  status: string;
}

export interface AppDeps {
  /** Lists the clusters Flotilla knows. */
  listClusters(): Promise<ClusterView[]>;
  /** Folder of the built dashboard; served at / when present. */
  webRoot?: string;
}

export const defaultWebRoot = fileURLToPath(new URL('../web/static/', import.meta.url));

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));

  const v1 = express.Router();
  v1.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  v1.get('/clusters', async (_req, res) => {
    res.json({ items: await deps.listClusters() });
  });
  v1.get('/clusters/:name', async (req, res) => {
    const cluster = (await deps.listClusters()).find((c) => c.name === req.params.name);
    if (!cluster) throw new ApiError(404, 'not_found', `cluster "${req.params.name}" not found`);
    res.json(cluster);
  });
  app.use('/v1', v1);

  const webRoot = deps.webRoot ?? defaultWebRoot;
  if (existsSync(webRoot)) app.use(express.static(webRoot));

  app.use(notFound);
  app.use(errorMapper);
  return app;
}
