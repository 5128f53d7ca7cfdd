// Every workflow the worker runs; the worker bundles this file.
export { onboardCluster } from './onboard-cluster.js';
export { deployEnvironment } from './deploy-environment.js';
export { promote } from './promote.js';
