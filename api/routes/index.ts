// Every route of /v1, one list per resource. Later resources (promotions, clones, drills,
// schedules, fleet, drift, logs) add a file here and an entry below.
import type { AnyRoute } from '../route.js';
import { applicationRoutes } from './applications.js';
import { applyRoutes } from './apply.js';
import { auditRoutes } from './audit.js';
import { cloneRoutes } from './clones.js';
import { clusterRoutes } from './clusters.js';
import { codecRoutes } from './codec.js';
import { drillRoutes } from './drills.js';
import { environmentRoutes } from './environments.js';
import { eventRoutes } from './events.js';
import { fleetRoutes } from './fleet.js';
import { healthRoutes } from './health.js';
import { meRoutes } from './me.js';
import { logRoutes } from './logs.js';
import { operationRoutes } from './operations.js';
import { promotionRoutes } from './promotions.js';
import { providerRoutes } from './providers.js';
import { rulesRoutes } from './rules.js';
import { scheduleRoutes } from './schedules.js';
import { secretRoutes } from './secrets.js';
import { tokenRoutes } from './tokens.js';
import { uploadRoutes } from './uploads.js';

export const ROUTES: readonly AnyRoute[] = [
  ...healthRoutes,
  ...clusterRoutes,
  ...providerRoutes,
  ...applicationRoutes,
  ...environmentRoutes,
  ...fleetRoutes,
  ...eventRoutes,
  ...logRoutes,
  ...secretRoutes,
  ...rulesRoutes,
  ...tokenRoutes,
  ...meRoutes,
  ...auditRoutes,
  ...operationRoutes,
  ...promotionRoutes,
  ...cloneRoutes,
  ...drillRoutes,
  ...scheduleRoutes,
  ...uploadRoutes,
  ...applyRoutes,
  ...codecRoutes,
] as unknown as readonly AnyRoute[];
