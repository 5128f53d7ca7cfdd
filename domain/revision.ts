import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AppSpec } from './environment.js';

/**
 * A revision id: the SHA-256 of the spec's canonical form. Named lists (services,
 * databases) are ordered by name and secret names sorted first, since their order carries no
 * meaning; every other array (ports, commands, …) keeps its order, since it does.
 */
export function revisionOf(spec: AppSpec): string {
  return `sha256:${createHash('sha256').update(canonicalJson(normalizeSpec(spec))).digest('hex')}`;
}

/** The first 12 hex digits: short enough for a label value, long enough not to collide. */
export function shortRevision(revision: string): string {
  return revision.replace(/^sha256:/, '').slice(0, 12);
}

export function normalizeSpec(spec: AppSpec): AppSpec {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    ...spec,
    services: [...spec.services].sort(byName).map((s) => ({ ...s, dependsOn: [...s.dependsOn].sort() })),
    databases: [...spec.databases].sort(byName),
    environmentConfig: [...spec.environmentConfig].sort(),
    secrets: [...spec.secrets].sort(),
  };
}
