// A rendered environment as Flotilla's render would emit it, small enough for KWOK clusters:
// per service a ConfigMap, a Secret, a ServiceAccount, a Service and a Deployment, all with
// the environment's selector labels.
import type { Manifest } from '../../domain/manifest.js';
import { environmentLabels } from '../../providers/kubernetes/labels.js';

export interface EnvironmentSpec {
  environment: string;
  namespace: string;
  services: string[];
  replicas?: number;
}

export function serviceObjects(spec: EnvironmentSpec, service: string): Manifest[] {
  const { namespace } = spec;
  const labels = { ...environmentLabels(spec.environment), 'app.kubernetes.io/name': service };
  const selector = { 'app.kubernetes.io/name': service, 'flotilla.dev/environment': spec.environment };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${service}-config`, namespace, labels }, data: { SERVICE: service } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${service}-secret`, namespace, labels }, type: 'Opaque', stringData: { TOKEN: `${service}-token` } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: service, namespace, labels } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace, labels }, spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: service, namespace, labels },
      spec: {
        replicas: spec.replicas ?? 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: service,
            containers: [{
              name: service,
              image: `registry.example.com/${service}:1.0.0`,
              ports: [{ containerPort: 8080 }],
              envFrom: [{ configMapRef: { name: `${service}-config` } }, { secretRef: { name: `${service}-secret` } }],
            }],
          },
        },
      },
    },
  ];
}

/** The environment's namespace (labelled too) and every service's objects. */
export function renderEnvironment(spec: EnvironmentSpec): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: spec.namespace, labels: { ...environmentLabels(spec.environment) } } },
    ...spec.services.flatMap((service) => serviceObjects(spec, service)),
  ];
}

/** kind/name pairs, as kubectl takes them. */
export function kubectlNames(manifests: readonly Manifest[]): string[] {
  return manifests.filter((m) => m.kind !== 'Namespace').map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`);
}
