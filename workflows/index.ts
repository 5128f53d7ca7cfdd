// Every workflow the worker runs; the worker bundles this file.
export { onboardCluster } from './onboard-cluster.js';
export { deployEnvironment } from './deploy-environment.js';
export { promote } from './promote.js';
export { cloneEnvironment } from './clone-environment.js';
export { cloneExpiry } from './clone-expiry.js';
export { teardownClone } from './teardown-clone.js';
export { drDrill } from './dr-drill.js';
export { complianceClone } from './compliance-clone.js';
export { teardownEnvironment } from './teardown-environment.js';
export { discoverClusters } from './discover-clusters.js';
export { offboardCluster } from './offboard-cluster.js';
export { scheduledLifecycle, startEnvironment, stopEnvironment } from './stop-start.js';
export { prepareCharts } from './prepare-charts.js';
