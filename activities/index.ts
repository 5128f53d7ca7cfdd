import type { CloudAdapters } from '../providers/cloud/adapters.js';
import { CatalogDatabaseConnector } from '../providers/databases/catalog-connector.js';
import type { DatabaseConnector } from '../providers/databases/connector.js';
import type { Catalog } from '../store/catalog.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';
import { createChartActivities, type HelmDeps } from './charts.js';
import { createCloneActivities } from './clone.js';
import { createDataCopyActivities } from './data-copy.js';
import { createDeployActivities } from './deploy.js';
import { createDiscoveryActivities } from './discovery.js';
import { createDrillActivities } from './drill.js';
import { createKubernetesActivities } from './kubernetes.js';
import { createOffboardingActivities } from './offboarding.js';
import { createOnboardingActivities } from './onboarding.js';
import { createOperationActivities } from './operations.js';
import { createPromotionActivities } from './promotion.js';
import { createScheduleActivities } from './schedule.js';
import { createStopStartActivities } from './stop-start.js';
import { createTeardownActivities } from './teardown.js';

export interface ActivityDeps extends KubernetesActivityDeps {
  catalog: Catalog;
  /** How data activities reach environments' databases; by default through the catalog (external) and the clusters' API servers (container). */
  databases?: DatabaseConnector;
  /** Folder with pg_dump and pg_restore (default FLOTILLA_PG_BIN, else the newest /usr/lib/postgresql/*\/bin). */
  pgBin?: string;
  /** The worker's cloud adapters, for discovery (activities/discovery.ts); discovery fails without them. */
  cloud?: CloudAdapters;
  /** The helm binary charts are pinned and rendered with; charts fail to deploy without it. */
  helm?: HelmDeps;
}

/** Every activity the worker registers, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const databases = deps.databases ?? new CatalogDatabaseConnector({ catalog: deps.catalog, agentClient: clusterClients(deps).agentClient });
  return {
    ...createKubernetesActivities(deps),
    ...createOnboardingActivities(deps),
    ...createOffboardingActivities(deps),
    ...createDeployActivities(deps),
    ...createPromotionActivities(deps),
    ...createOperationActivities(deps),
    ...createCloneActivities(deps),
    ...createDataCopyActivities({ catalog: deps.catalog, databases, ...(deps.pgBin ? { pgBin: deps.pgBin } : {}) }),
    ...createDrillActivities({ ...deps, databases }),
    ...createScheduleActivities(deps),
    ...createDiscoveryActivities(deps),
    ...createTeardownActivities(deps),
    ...createStopStartActivities(deps),
    ...createChartActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
