// The catalog's public surface.
export { openCatalog, type Catalog, type CatalogOptions, type CatalogRepositories } from './catalog.js';
export { changeSpec, createEnvironment, recordDeployment } from './changes.js';
export { openCatalogDatabase, parseCatalogUrl, type CatalogDatabase, type CatalogDialect } from './database.js';
export {
  ConflictError, InvalidInputError, MasterKeyError, NotFoundError, SecretDecryptionError, StoreError,
} from './errors.js';
export type { KeyWrapper } from './crypto/key-wrapper.js';
export { LocalMasterKey, MASTER_KEY_ENV } from './crypto/local-master-key.js';
export type { AuditEntry, AuditQuery, AuditResult, NewAuditEntry } from './audit.js';
export type { ClusterCapacity, ClusterFilter, ClusterRecord, NewCluster, StatusChange } from './clusters.js';
export type { Deployment, EnvironmentFilter, EnvironmentRecord, NewEnvironment } from './environments.js';
export { OPERATION_KINDS, OPERATION_STATES, type OperationFilter, type OperationKind, type OperationRecord, type OperationState } from './operations.js';
export type { Page } from './pagination.js';
export { HISTORY_KINDS, type HistoryEntry, type HistoryKind } from './revision-history.js';
export type { RevisionRecord } from './revisions.js';
export type { RulesRecord } from './rules.js';
export { environmentScope, GLOBAL_SCOPE, type SecretInfo } from './secrets.js';
export { HEALTH_STATES, type Health, type ServiceStatus, type ServiceStatusInput } from './status.js';
export { ROLES, type Principal, type Role, type TokenRecord } from './tokens.js';
export type { Claim, StoredResponse } from './idempotency.js';
