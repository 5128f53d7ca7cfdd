// The API process.
import { z } from 'zod';
import { StaticClusterDirectory } from '../providers/cluster-directory.js';
import { readSettings, TemporalSettings } from '../worker/config.js';
import { createApp } from './app.js';

const settings = readSettings(
  TemporalSettings.extend({
    FLOTILLA_KUBECONFIG_DIR: z.string().optional(),
    PORT: z.coerce.number().int().min(1).max(65535).default(8080), HOST: z.string().default('0.0.0.0'),
  }),
);

const directory = settings.FLOTILLA_KUBECONFIG_DIR
  ? StaticClusterDirectory.fromFolder(settings.FLOTILLA_KUBECONFIG_DIR)
  : new StaticClusterDirectory();
const app = createApp({
  listClusters: async () => directory.names().map((name) => ({ name, provider: 'kubeconfig', labels: {}, status: 'registered' })),
});
const server = app.listen(settings.PORT, settings.HOST, () => {
  console.log(`api on http://${settings.HOST}:${settings.PORT}/v1`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
