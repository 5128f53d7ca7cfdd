// Realistic documents shared by the tests and the benchmarks.
import type { EnvironmentDocument, Tier } from '../../domain/environment.js';

/** A 12-service shop with a container PostgreSQL and an external Redis. */
export function shopEnvironment(overrides: Partial<{ name: string; tier: Tier; cluster: string; residency: string }> = {}): unknown {
  const serviceNames = ['web', 'api', 'cart', 'checkout', 'catalog', 'search', 'payments', 'shipping', 'email', 'recommend', 'auth', 'admin'];
  return {
    apiVersion: 'flotilla.dev/v1',
    kind: 'Environment',
    metadata: { name: overrides.name ?? 'shop-staging' },
    spec: {
      application: 'shop',
      tier: overrides.tier ?? 'staging',
      cluster: overrides.cluster ?? 'local-dev',
      ...(overrides.residency ? { residency: overrides.residency } : {}),
      app: {
        services: serviceNames.map((name, i) => ({
          name,
          image: `ghcr.io/acme/${name}:1.${i}.0`,
          ports: [{ name: 'http', port: 8080 }],
          replicas: 2,
          env: {
            LOG_LEVEL: { config: 'log-level' },
            FEATURE_FLAGS: { config: 'feature-flags' },
            ...(name === 'payments' ? { STRIPE_KEY: { secret: 'STRIPE_KEY' } } : {}),
            SERVICE_NAME: name,
          },
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          probes: { readiness: { httpGet: { path: '/healthz', port: 8080 } } },
          dependsOn: name === 'web' ? ['api'] : ['orders-db', 'cache'],
          ...(name === 'api' ? { migration: { command: ['./migrate', 'up'] } } : {}),
        })),
        databases: [
          { name: 'orders-db', mode: 'container', engine: 'postgres', version: '16.4', storage: '10Gi' },
          { name: 'cache', mode: 'external', engine: 'redis', connectionSecret: 'CACHE_URL' },
        ],
        config: { 'log-level': 'info', 'feature-flags': 'checkout-v2', 'public-url': 'https://staging.shop.example' },
        environmentConfig: ['public-url'],
        secrets: ['STRIPE_KEY', 'CACHE_URL'],
      },
      overrides: {
        replicas: { web: 3 },
        // Each environment its own Ingress host: two environments may never share one.
        hostnames: { web: overrides.name === undefined ? 'staging.shop.example' : `${overrides.name}.shop.example` },
        config: { 'public-url': 'https://staging.shop.example' },
      },
    },
  } satisfies Record<string, unknown>;
}

export type ShopDocument = EnvironmentDocument;
