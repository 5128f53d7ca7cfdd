// What the observer watches in each environment namespace: the kinds Flotilla renders, the
// pods they run (restarts, problems) and HorizontalPodAutoscalers (whose replicas are not
// drift). Each cached object keeps only what status and drift read.
import type { LiveObject } from '../providers/kubernetes/read.js';
import { LABEL, MANAGED_BY } from '../domain/labels.js';

export interface WatchedKind {
  apiVersion: string;
  kind: string;
  /** Only Flotilla's objects; HPAs are anyone's. */
  managedOnly: boolean;
  slim?: (object: LiveObject) => LiveObject;
}

export const MANAGED_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;

/** Secret values never enter the observer's memory, only that the Secret is there and its labels. */
const withoutValues = ({ data: _data, stringData: _stringData, ...rest }: LiveObject): LiveObject => rest as LiveObject;

/** Pods: labels, owner and status; their managedFields and specs are large and unused. */
const podEssentials = (pod: LiveObject): LiveObject => {
  const { managedFields: _m, ...metadata } = pod.metadata;
  return { apiVersion: pod.apiVersion, kind: pod.kind, metadata, status: pod.status } as LiveObject;
};

export const WATCHED_KINDS: readonly WatchedKind[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', managedOnly: true },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', managedOnly: true },
  // Charts' DaemonSets (drift).
  { apiVersion: 'apps/v1', kind: 'DaemonSet', managedOnly: true },
  { apiVersion: 'v1', kind: 'Service', managedOnly: true },
  { apiVersion: 'v1', kind: 'ConfigMap', managedOnly: true },
  { apiVersion: 'v1', kind: 'Secret', managedOnly: true, slim: withoutValues },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', managedOnly: true },
  // The application's CronJobs (drift); not the Jobs they or the deploy hooks start, which come and go.
  { apiVersion: 'batch/v1', kind: 'CronJob', managedOnly: true },
  { apiVersion: 'v1', kind: 'Pod', managedOnly: true, slim: podEssentials },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', managedOnly: false },
];
