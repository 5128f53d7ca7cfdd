// The catalog: every repository over one database, plus all-or-nothing transactions.
import type { Kysely } from 'kysely';
import { AuditLog } from './audit.js';
import { CloneRepository } from './clones.js';
import { DrillReportRepository } from './drills.js';
import { ClusterRepository } from './clusters.js';
import type { KeyWrapper } from './crypto/key-wrapper.js';
import { LocalMasterKey } from './crypto/local-master-key.js';
import { type CatalogDialect, openCatalogDatabase } from './database.js';
import { ApplicationRepository } from './applications.js';
import { ChartRenderRepository } from './chart-renders.js';
import { UploadRepository } from './uploads.js';
import { EnvironmentRepository } from './environments.js';
import { IdempotencyRepository } from './idempotency.js';
import { EnvironmentLockRepository } from './locks.js';
import { ObservationRepository } from './observations.js';
import { OperationRepository } from './operations.js';
import { RevisionHistoryRepository } from './revision-history.js';
import { RevisionRepository } from './revisions.js';
import { RulesRepository } from './rules.js';
import type { CatalogTables } from './schema.js';
import { SecretRepository } from './secrets.js';
import { StatusRepository } from './status.js';
import { TokenRepository } from './tokens.js';

export interface CatalogRepositories {
  clusters: ClusterRepository;
  environments: EnvironmentRepository;
  applications: ApplicationRepository;
  chartRenders: ChartRenderRepository;
  uploads: UploadRepository;
  revisions: RevisionRepository;
  history: RevisionHistoryRepository;
  rules: RulesRepository;
  tokens: TokenRepository;
  audit: AuditLog;
  operations: OperationRepository;
  secrets: SecretRepository;
  status: StatusRepository;
  observations: ObservationRepository;
  idempotency: IdempotencyRepository;
  locks: EnvironmentLockRepository;
  clones: CloneRepository;
  drills: DrillReportRepository;
}

export interface Catalog extends CatalogRepositories {
  readonly dialect: CatalogDialect;
  /** For tests and tools; application code goes through the repositories. */
  readonly db: Kysely<CatalogTables>;
  /**
   * Runs `fn` with repositories bound to one transaction: it commits when `fn` resolves and
   * rolls back everything when it throws. Use only `tx` inside, never the outer catalog: on
   * SQLite the outer one waits for the transaction's connection and would deadlock.
   */
  transaction<T>(fn: (tx: CatalogRepositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface CatalogOptions {
  /** `sqlite:///path/file.db`, `sqlite::memory:` or `postgres://user:pass@host:port/db`. */
  url: string;
  /** A KeyWrapper (e.g. a KMS), or FLOTILLA_MASTER_KEY's value: 32 bytes as base64. */
  masterKey: KeyWrapper | string | undefined;
  /** Apply pending migrations on open (default true; idempotent). */
  migrate?: boolean;
}

export async function openCatalog(options: CatalogOptions): Promise<Catalog> {
  // Checked before connecting: a missing key should fail at start-up, not at the first secret.
  const keys = typeof options.masterKey === 'object' ? options.masterKey : LocalMasterKey.fromBase64(options.masterKey);
  const database = await openCatalogDatabase(options.url, { migrate: options.migrate });
  const repositories = (db: Kysely<CatalogTables>): CatalogRepositories => ({
    clusters: new ClusterRepository(db),
    environments: new EnvironmentRepository(db),
    applications: new ApplicationRepository(db),
    chartRenders: new ChartRenderRepository(db),
    uploads: new UploadRepository(db),
    revisions: new RevisionRepository(db),
    history: new RevisionHistoryRepository(db),
    rules: new RulesRepository(db),
    tokens: new TokenRepository(db),
    audit: new AuditLog(db),
    operations: new OperationRepository(db),
    secrets: new SecretRepository(db, keys),
    status: new StatusRepository(db),
    observations: new ObservationRepository(db),
    idempotency: new IdempotencyRepository(db),
    locks: new EnvironmentLockRepository(db),
    clones: new CloneRepository(db),
    drills: new DrillReportRepository(db),
  });
  return {
    ...repositories(database.db),
    dialect: database.dialect,
    db: database.db,
    transaction: (fn) => database.db.transaction().execute((trx) => fn(repositories(trx))),
    close: () => database.close(),
  };
}
