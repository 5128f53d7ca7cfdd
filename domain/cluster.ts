import { z } from 'zod';
import { Tier } from './environment.js';
import { API_VERSION, DnsLabel, Labels } from './names.js';
import { AdoptableNamespace } from './placement.js';

export const PROVIDERS = ['eks', 'gke', 'aks', 'kubeconfig'] as const;
export const Provider = z.enum(PROVIDERS);
export type Provider = z.infer<typeof Provider>;

export const CLUSTER_STATUSES = ['onboarding', 'ready', 'degraded', 'unreachable', 'offboarded'] as const;
export const ClusterStatus = z.enum(CLUSTER_STATUSES);
export type ClusterStatus = z.infer<typeof ClusterStatus>;

/**
 * How to reach a cluster. Cloud connections name the cluster in its account; the cloud
 * credentials themselves are the worker's ambient ones (never stored here). A kubeconfig
 * connection refers to a secret in the catalog by name: the document never carries it.
 */
export const EksConnection = z.strictObject({
  provider: z.literal('eks'),
  region: z.string().min(1),
  clusterName: z.string().min(1),
  /** Role to assume for this cluster's API; the worker's own identity when omitted. */
  roleArn: z.string().startsWith('arn:').optional(),
});
export const GkeConnection = z.strictObject({
  provider: z.literal('gke'),
  project: z.string().min(1),
  location: z.string().min(1),
  clusterName: z.string().min(1),
});
export const AksConnection = z.strictObject({
  provider: z.literal('aks'),
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  clusterName: z.string().min(1),
});
export const KubeconfigConnection = z.strictObject({
  provider: z.literal('kubeconfig'),
  /** Name of the catalog secret holding the kubeconfig document. */
  kubeconfigSecret: DnsLabel,
  context: z.string().min(1).optional(),
});
export const ClusterConnection = z.discriminatedUnion('provider', [EksConnection, GkeConnection, AksConnection, KubeconfigConnection]);
export type ClusterConnection = z.infer<typeof ClusterConnection>;
export type EksConnection = z.infer<typeof EksConnection>;
export type GkeConnection = z.infer<typeof GkeConnection>;
export type AksConnection = z.infer<typeof AksConnection>;
export type KubeconfigConnection = z.infer<typeof KubeconfigConnection>;

/**
 * What an admin of the cluster decides about what runs on it (domain/placement.ts): tiers it
 * accepts beyond its `tier` label's, and existing namespaces Flotilla may deploy into although it
 * did not create them.
 */
export const ClusterPlacementSpec = z.strictObject({
  allowedTiers: z.array(Tier).default([]),
  adoptableNamespaces: z.array(AdoptableNamespace).default([]),
});
export type ClusterPlacementSpec = z.infer<typeof ClusterPlacementSpec>;

/** What a user declares about a cluster. */
export const ClusterSpec = z.strictObject({
  region: z.string().min(1).optional(),
  labels: Labels.default({}),
  connection: ClusterConnection,
  ...ClusterPlacementSpec.shape,
});
export type ClusterSpec = z.infer<typeof ClusterSpec>;

/** The `kind: Cluster` document of `flotilla apply -f`. */
export const ClusterDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Cluster'),
  metadata: z.strictObject({ name: DnsLabel }),
  spec: ClusterSpec,
});
export type ClusterDocument = z.infer<typeof ClusterDocument>;
