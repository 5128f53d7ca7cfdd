import type { Manifest } from '../../domain/manifest.js';

/** A namespace and a Deployment of `replicas` pods, the smallest thing worth rolling out. */
export function webDeployment(namespace: string, name = 'web', replicas = 2, image = 'nginx:1.27'): Manifest[] {
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'flotilla' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: {
        replicas,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
        template: {
          metadata: { labels },
          spec: { containers: [{ name, image, ports: [{ containerPort: 80 }] }] },
        },
      },
    },
  ];
}
