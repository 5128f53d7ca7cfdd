/** A Kubernetes object as Flotilla renders and carries it: plain data, no client types. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface ObjectRef {
  namespace: string;
  name: string;
}

/** The Deployments among a set of manifests, by namespace and name. */
export function deploymentsOf(manifests: readonly Manifest[]): ObjectRef[] {
  return manifests
    .filter((m) => m.kind === 'Deployment')
    .map((m) => ({ namespace: m.metadata.namespace ?? 'default', name: m.metadata.name }));
}
