// Cloud provider adapters: each turns a cluster connection into a ClusterAccess (server, CA,
// credentials); toKubeConfig makes any of them usable by the Kubernetes layer.
export { cachedTokenSource, staticTokenSource, type BearerToken, type ClusterAccess, type ClusterCredentials, type TokenSource } from './access.js';
export { discover, DiscoverAccount, KubeconfigAccount, resolveAccess, type CloudAdapters } from './adapters.js';
export { AKS_SERVER_SCOPE, AksAccount, AksAdapter, type AksAdapterOptions, type AksClusterInfo } from './aks.js';
export { toDnsLabel, type ClusterCandidate } from './candidate.js';
export { ConnectionClusterDirectory, type ConnectionDirectoryOptions } from './directory.js';
export { EksAccount, EksAdapter, type EksAdapterOptions, type EksClusterInfo, type EksNodegroupInfo } from './eks.js';
export { createEksToken, decodeEksToken } from './eks-token.js';
export { stsAssumeRole, type StsAssumeRoleOptions } from './eks-roles.js';
export { CloudProviderError, type CloudErrorKind } from './errors.js';
export { GkeAccount, GkeAdapter, type GkeAdapterOptions, type GkeClusterInfo } from './gke.js';
export { toKubeConfig } from './kube-config.js';
export { importLabels, labelsFromTags, PROVIDER_LABEL, REGION_LABEL, type TagLabels } from './tags.js';
export { kubeconfigAccess, parseKubeconfig, type ParsedKubeconfig } from './kubeconfig.js';
