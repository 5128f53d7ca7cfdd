// What differs: between two environments (split into declared overrides and everything
// else), and between a revision's manifests and the live objects of a cluster (drift).
import { canonicalJson } from './canonical.js';
import type { Environment } from './environment.js';
import type { Manifest } from './manifest.js';
import { sameQuantity } from './quantity.js';
import { normalizeSpec } from './revision.js';

export type Path = (string | number)[];

export interface Difference {
  path: string;
  a: unknown;
  b: unknown;
}

/** Every leaf where `a` and `b` differ, with dotted paths ("services[1].image"). */
export function deepDiff(a: unknown, b: unknown, path: Path = []): Difference[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => deepDiff(a[k], b[k], [...path, k]));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((v, i) => deepDiff(v, b[i], [...path, i]));
  }
  return [{ path: formatPath(path), a, b }];
}

export interface EnvironmentDiff {
  /** Differences in declared overrides: allowed between environments of one application. */
  overrides: Difference[];
  /** Everything else: the specs themselves differ (drift between the two). */
  other: Difference[];
}

/**
 * Compares two environments' portable specs and their overrides. Zero drift between them
 * means `other` is empty. Secret values are never compared here: they are not in the spec.
 */
export function diffEnvironments(a: Environment, b: Environment): EnvironmentDiff {
  const specA = normalizeSpec(a.spec);
  const specB = normalizeSpec(b.spec);
  return {
    overrides: deepDiff(a.overrides, b.overrides).map((d) => ({ ...d, path: `overrides.${d.path}` })),
    other: deepDiff(specA, specB),
  };
}

export interface ObjectKey {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface LiveDrift {
  missing: ObjectKey[];
  extra: ObjectKey[];
  changed: { object: ObjectKey; path: string; expected: unknown; actual: unknown }[];
}

export function keyOf(m: Manifest): ObjectKey {
  return { apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name };
}

export function formatKey(k: ObjectKey): string {
  return `${k.kind}/${k.namespace ? `${k.namespace}/` : ''}${k.name}`;
}

/**
 * Drift of live objects from rendered ones. Only fields Flotilla sets are compared (the
 * server adds defaults and status), quantities compare by value, and Secret payloads are not
 * compared (their values live in the catalog). `live` should hold the objects that carry the
 * environment's labels; those not rendered are `extra`.
 */
export function diffLive(rendered: readonly Manifest[], live: readonly Manifest[]): LiveDrift {
  const id = (k: ObjectKey) => `${k.kind}|${k.namespace ?? ''}|${k.name}`;
  const liveById = new Map(live.map((m) => [id(keyOf(m)), m]));
  const renderedIds = new Set(rendered.map((m) => id(keyOf(m))));
  const drift: LiveDrift = { missing: [], extra: [], changed: [] };
  for (const want of rendered) {
    const key = keyOf(want);
    const have = liveById.get(id(key));
    if (!have) {
      drift.missing.push(key);
      continue;
    }
    const { apiVersion: _v, kind: _k, ...fields } = want;
    const compared = want.kind === 'Secret' ? { metadata: fields.metadata, type: fields.type } : fields;
    for (const c of subsetDiff(compared, have, [])) drift.changed.push({ object: key, ...c });
  }
  for (const m of live) if (!renderedIds.has(id(keyOf(m)))) drift.extra.push(keyOf(m));
  return drift;
}

function subsetDiff(want: unknown, have: unknown, path: Path): { path: string; expected: unknown; actual: unknown }[] {
  if (isRecord(want)) {
    if (!isRecord(have)) return [{ path: formatPath(path), expected: want, actual: have }];
    return Object.keys(want).flatMap((k) => subsetDiff(want[k], have[k], [...path, k]));
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return [{ path: formatPath(path), expected: want, actual: have }];
    return want.flatMap((v, i) => subsetDiff(v, have[i], [...path, i]));
  }
  if (want === have) return [];
  if (typeof want === 'string' && typeof have === 'string' && sameQuantity(want, have)) return [];
  if (typeof want === 'number' && typeof have === 'string' && sameQuantity(String(want), have)) return [];
  return [{ path: formatPath(path), expected: want, actual: have }];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function formatPath(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}
