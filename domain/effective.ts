import type { AppSpec, Overrides, Resources } from './environment.js';
import { own } from './own.js';

/** A service as it runs in one environment: the spec with that environment's overrides. */
export interface EffectiveService {
  name: string;
  replicas: number;
  resources?: Resources;
  hostname?: string;
}

/** The spec with the environment's overrides applied: what actually runs there. */
export function effectiveSpec(spec: AppSpec, overrides: Overrides): AppSpec & { hostnames: Record<string, string> } {
  return {
    ...spec,
    services: spec.services.map((s) => ({
      ...s,
      replicas: own(overrides.replicas, s.name) ?? s.replicas,
      resources: own(overrides.resources, s.name) ?? s.resources,
    })),
    config: { ...spec.config, ...pick(overrides.config, spec.environmentConfig) },
    hostnames: { ...overrides.hostnames },
  };
}

function pick(values: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => keys.includes(k)));
}
