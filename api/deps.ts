// What the API is built over. Everything with I/O is injected: the catalog, the way to start
// operations (Temporal), cloud adapters for discovery, the logger.
import type { PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';
import type { CloudAdapters } from '../providers/cloud/adapters.js';
import type { ClusterDirectory } from '../providers/cluster-directory.js';
import type { FleetEventHub } from './services/events.js';
import type { Catalog } from '../store/catalog.js';
import type { RateLimitOptions } from './http/rate-limit.js';
import type { ScheduleClient } from './schedule-client.js';
import type { OperationStarter } from './starter.js';

export interface AppDeps {
  catalog: Catalog;
  /** Starts (and describes) workflows; the Temporal client in production. */
  operations: OperationStarter;
  /** Temporal Schedules of clones and drills; /v1/schedules answers 503 without it. */
  schedules?: ScheduleClient;
  /** Cloud adapters for discovery; kubeconfig discovery reads catalog secrets by itself. */
  cloud?: Omit<CloudAdapters, 'readKubeconfig'>;
  /**
   * How the API reaches a registered cluster to read it (logs, as the agent). By default the
   * catalog's connections through `cloud` (kubeconfig clusters need no adapter).
   */
  clusters?: ClusterDirectory;
  logger?: Logger;
  /** Body size limit (default 1 MB). */
  bodyBytes?: number;
  /** How long an Idempotency-Key claim may stay pending before a retry takes it over (default 60 s). */
  idempotencyLeaseMs?: number;
  /** Requests per window per token or address (default 600 per minute); `{ max: 0 }` disables. */
  rateLimit?: RateLimitOptions;
  /** Folder of the built dashboard; served at / when present. */
  webRoot?: string;
  /** What the dashboard links to (GET /dashboard-config.json): the Temporal UI's base URL ('off': no links) and namespace. */
  dashboard?: { temporalUi?: string; namespace?: string };
  /** The clock rules are evaluated at (freeze windows). */
  now?: () => Date;
  /** The Temporal payload codec, served at /v1/codec/{encode,decode}; those answer 503 without it. */
  codec?: CodecServerOptions;
}

/** The codec endpoint for the Temporal UI and CLI (Temporal's codec server protocol). */
export interface CodecServerOptions {
  /** The codec every Temporal client and worker of this deployment uses. */
  codec: PayloadCodec;
  /** The Temporal namespace it serves; a request whose X-Namespace names another is refused. */
  namespace?: string;
  /** Browser origins (the Temporal UI's, e.g. http://localhost:8233) allowed to call it; none by default. */
  corsOrigins?: readonly string[];
}

/** What starting an operation needs (api/services/operations.ts), also outside a request (the observer's heals). */
export type StartDeps = Pick<ApiDeps, 'catalog' | 'operations' | 'logger' | 'now'>;

/** AppDeps with defaults filled in, as routes see them. */
export interface ApiDeps {
  catalog: Catalog;
  operations: OperationStarter;
  schedules?: ScheduleClient;
  cloud: CloudAdapters;
  clusters: ClusterDirectory;
  logger: Logger;
  limits: { bodyBytes: number; idempotencyLeaseMs: number };
  now: () => Date;
  codec?: CodecServerOptions;
  /** GET /v1/events' one poller of the catalog. */
  events: FleetEventHub;
}
