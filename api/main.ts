// The API process: catalog, Temporal client, app. Prints the first admin token once. Refuses to
// start without the payload key ring (FLOTILLA_PAYLOAD_KEYS): its Temporal client encrypts every
// payload, and /v1/codec serves the same codec to the Temporal UI (FLOTILLA_CODEC_CORS_ORIGINS).
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { openCatalog } from '../store/catalog.js';
import { MASTER_KEY_ENV } from '../store/crypto/local-master-key.js';
import { dataConverterFromEnv } from '../temporal/data-converter.js';
import { readSettings, TemporalSettings } from '../worker/config.js';
import { activityDeps } from '../worker/deps.js';
import { createApp } from './app.js';
import { deliverBootstrapToken, ensureBootstrapToken } from './bootstrap.js';
import { createLogger } from './http/logger.js';
import { temporalStarter } from './temporal.js';
import { temporalSchedules } from './temporal-schedules.js';

const settings = readSettings(
  TemporalSettings.extend({
    FLOTILLA_CATALOG_URL: z.string().default('sqlite://.flotilla/catalog.db'),
    [MASTER_KEY_ENV]: z.string().optional(),
    FLOTILLA_RATE_LIMIT: z.coerce.number().int().min(0).default(600),
    /** How long an Idempotency-Key claim may stay pending before a retry takes it over (an API that died mid-request). */
    FLOTILLA_IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().int().min(1).default(60),
    PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    HOST: z.string().default('0.0.0.0'),
    /** Where the first admin token goes when stdout is not a terminal. */
    FLOTILLA_BOOTSTRAP_TOKEN_FILE: z.string().default('.flotilla/bootstrap-token'),
    /** Origins (scheme://host:port, comma-separated) of Temporal UIs that may call /v1/codec from the browser. */
    FLOTILLA_CODEC_CORS_ORIGINS: z.string().default('').transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean)),
  }),
);
const dataConverter = dataConverterFromEnv();

const logger = createLogger();
const catalog = await openCatalog({ url: settings.FLOTILLA_CATALOG_URL, masterKey: settings[MASTER_KEY_ENV] });
const connection = await Connection.connect({ address: settings.TEMPORAL_ADDRESS });
const client = new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE, dataConverter });

const bootstrap = await ensureBootstrapToken(catalog);
if (bootstrap) {
  // Once, to the terminal or a 0600 file; never the structured log.
  deliverBootstrapToken(bootstrap, {
    terminal: process.stdout.isTTY === true,
    file: settings.FLOTILLA_BOOTSTRAP_TOKEN_FILE,
    write: (text) => process.stdout.write(text),
    loginHint: `flotilla login --server http://127.0.0.1:${settings.PORT} --token <token>`,
  });
}

const app = createApp({
  catalog,
  operations: temporalStarter(client, settings.FLOTILLA_TASK_QUEUE),
  schedules: temporalSchedules(client, settings.FLOTILLA_TASK_QUEUE),
  logger,
  rateLimit: { max: settings.FLOTILLA_RATE_LIMIT, windowMs: 60_000 },
  idempotencyLeaseMs: settings.FLOTILLA_IDEMPOTENCY_LEASE_SECONDS * 1000,
  codec: { codec: dataConverter.payloadCodecs[0], namespace: settings.TEMPORAL_NAMESPACE, corsOrigins: settings.FLOTILLA_CODEC_CORS_ORIGINS },
  // Reads of clusters (logs) reach every provider's clusters as the worker does, with the same ambient cloud credentials.
  clusters: activityDeps({ catalog }).clusters,
});
const server = app.listen(settings.PORT, settings.HOST, () => {
  logger.info({ url: `http://${settings.HOST}:${settings.PORT}/v1` }, 'api listening');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void Promise.all([catalog.close(), connection.close()]));
  });
}
