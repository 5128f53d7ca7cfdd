// Drift: how a cluster's live objects differ from their revision's render. Pure.
//
// Only what Flotilla renders is compared: every field the rendered manifest sets must have the
// same value live (the API server's defaults and other controllers' status are not Flotilla's);
// lists of named things (containers, env, ports) are matched by their keys, so a container
// added by hand or an env var removed shows as such. An object the render has and the cluster
// has not is `deleted`; a live object carrying the environment's labels that the render has not
// is `extra`. Who made a change is read from the object's managedFields where the API server
// recorded it. Fields that other controllers own by design are ignored by declared rules
// (DRIFT_IGNORE_RULES), never silently.
import { sameQuantity } from './quantity.js';
import { LABEL, MANAGED_BY, SECRETS_CHECKSUM_ANNOTATION } from './labels.js';
import type { Manifest } from './manifest.js';

/** A live object as the observer keeps it: a manifest with its metadata as the cluster has it. */
export interface LiveManifest extends Manifest {
  metadata: Manifest['metadata'] & {
    ownerReferences?: unknown[];
    managedFields?: ManagedFieldsEntry[];
    [field: string]: unknown;
  };
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
  fieldsV1?: unknown;
}

/** One segment of a field path: a field name, or the element of a list matched by its keys. */
export type PathSegment = string | { readonly [key: string]: string | number };

export interface FieldDrift {
  /** e.g. `spec.template.spec.containers[name=web].image` */
  path: string;
  /** The rendered value; absent when the live object has an element the render has not. */
  expected?: unknown;
  /** The live value; absent when the field or element is missing live. */
  actual?: unknown;
  /** Who last wrote the field, from managedFields (not Flotilla). */
  changedBy?: string;
  changedAt?: string;
}

export type DriftReason = 'modified' | 'deleted' | 'extra';

export interface ObjectDrift {
  kind: string;
  namespace?: string;
  name: string;
  reason: DriftReason;
  /** For `modified`: every differing field. */
  fields: FieldDrift[];
  /** For `extra`: who created or labelled it, when managedFields tell. */
  changedBy?: string;
  changedAt?: string;
}

/** Fields another controller owns by design, so a difference there is not drift. */
export interface DriftIgnoreRule {
  kinds: readonly string[];
  path: string;
  /** `autoscaled`: only while a HorizontalPodAutoscaler targets the object. */
  when: 'always' | 'autoscaled';
  why: string;
}

export const DRIFT_IGNORE_RULES: readonly DriftIgnoreRule[] = [
  { kinds: ['Deployment', 'StatefulSet'], path: 'spec.replicas', when: 'autoscaled', why: 'a HorizontalPodAutoscaler sets the replicas' },
  // Versions of the catalog secrets a pod uses: changes with every `secret set`, before the
  // deploy that rolls it out; a hand edit of it changes nothing a person would call drift.
  { kinds: ['Deployment', 'StatefulSet', 'DaemonSet'], path: `spec.template.metadata.annotations.${SECRETS_CHECKSUM_ANNOTATION}`, when: 'always', why: 'the secrets checksum follows the catalog' },
  // Secret values are filled in at apply time from the catalog; the render holds none.
  { kinds: ['Secret'], path: 'data', when: 'always', why: 'values come from the catalog at deploy time' },
  { kinds: ['Secret'], path: 'stringData', when: 'always', why: 'values come from the catalog at deploy time' },
];

/**
 * Kinds compared. Namespaces are the bootstrap account's and may be adopted ones; Jobs are
 * migrations and lifecycle jobs that run once and may be cleaned up. CronJobs are the spec's.
 */
const COMPARED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Service', 'ConfigMap', 'Secret', 'Ingress', 'CronJob']);

/** Keys that identify an element of a list, tried in order (a dotted key reads a nested field: volumeClaimTemplates). */
const LIST_KEYS: readonly (readonly string[])[] = [['name'], ['metadata.name'], ['containerPort', 'protocol'], ['port', 'protocol'], ['containerPort'], ['port'], ['mountPath'], ['key']];

function keyValue(element: unknown, key: string): unknown {
  let value: unknown = element;
  for (const part of key.split('.')) value = isRecord(value) ? value[part] : undefined;
  return value;
}

export interface DriftInput {
  /** The render of the environment's deployed revision with its deployed overrides. */
  expected: readonly Manifest[];
  /** Every live object carrying the environment's labels, plus every rendered object found by name. */
  live: readonly LiveManifest[];
  /** Names of objects a HorizontalPodAutoscaler targets, as `Kind/name`. */
  autoscaled?: ReadonlySet<string>;
  rules?: readonly DriftIgnoreRule[];
}

export function objectKey(o: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Every object that differs, sorted by kind, namespace and name. */
export function detectDrift({ expected, live, autoscaled = new Set(), rules = DRIFT_IGNORE_RULES }: DriftInput): ObjectDrift[] {
  const liveByKey = new Map(live.map((o) => [objectKey(o), o]));
  const expectedKeys = new Set<string>();
  const out: ObjectDrift[] = [];
  for (const want of expected) {
    if (!COMPARED_KINDS.has(want.kind)) continue;
    const key = objectKey({ kind: want.kind, metadata: { namespace: want.metadata.namespace, name: want.metadata.name } });
    expectedKeys.add(key);
    const have = liveByKey.get(key);
    const ref = { kind: want.kind, namespace: want.metadata.namespace, name: want.metadata.name };
    if (!have) {
      out.push({ ...ref, reason: 'deleted', fields: [] });
      continue;
    }
    const ignored = ignoredPaths(want.kind, rules, autoscaled.has(`${want.kind}/${want.metadata.name}`));
    const fields = compareObject(want as unknown as Record<string, unknown>, have as unknown as Record<string, unknown>, ignored);
    if (fields.length === 0) continue;
    out.push({ ...ref, reason: 'modified', fields: fields.map((f) => ({ ...f.drift, ...whoChanged(have.metadata.managedFields, f.segments) })) });
  }
  for (const have of live) {
    if (!COMPARED_KINDS.has(have.kind) || expectedKeys.has(objectKey(have))) continue;
    // Owned objects (ReplicaSets, EndpointSlices, Pods) inherit labels from what Flotilla rendered.
    if ((have.metadata.ownerReferences?.length ?? 0) > 0) continue;
    if (have.metadata.labels?.[LABEL.managedBy] !== MANAGED_BY) continue;
    out.push({ kind: have.kind, namespace: have.metadata.namespace, name: have.metadata.name, reason: 'extra', fields: [], ...creator(have.metadata.managedFields) });
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name));
}

function ignoredPaths(kind: string, rules: readonly DriftIgnoreRule[], autoscaled: boolean): Set<string> {
  return new Set(rules.filter((r) => r.kinds.includes(kind) && (r.when === 'always' || autoscaled)).map((r) => r.path));
}

interface Difference {
  segments: PathSegment[];
  drift: FieldDrift;
}

function compareObject(want: Record<string, unknown>, have: Record<string, unknown>, ignored: Set<string>): Difference[] {
  const out: Difference[] = [];
  for (const [field, value] of Object.entries(want)) {
    if (field === 'status') continue;
    compareValue(value, have[field], [field], ignored, out);
  }
  return out;
}

function compareValue(want: unknown, have: unknown, segments: PathSegment[], ignored: Set<string>, out: Difference[]): void {
  const path = formatPath(segments);
  if (ignored.has(path)) return;
  // The API server drops empty lists and maps: an empty one rendered is one absent live.
  if (isEmpty(want) && (have === undefined || have === null || isEmpty(have))) return;
  if (Array.isArray(want)) return compareList(want, have, segments, ignored, out);
  if (isRecord(want)) {
    if (!isRecord(have)) {
      out.push({ segments, drift: { path, expected: want, ...(have === undefined ? {} : { actual: have }) } });
      return;
    }
    for (const [field, value] of Object.entries(want)) compareValue(value, have[field], [...segments, field], ignored, out);
    return;
  }
  if (!sameScalar(want, have, segments)) out.push({ segments, drift: { path, expected: want, ...(have === undefined ? {} : { actual: have }) } });
}

function compareList(want: unknown[], have: unknown, segments: PathSegment[], ignored: Set<string>, out: Difference[]): void {
  const path = formatPath(segments);
  const keys = listKeys(want);
  if (!keys || !Array.isArray(have)) {
    // Lists of scalars (args, command, accessModes) must match as a whole, in order.
    if (!Array.isArray(have) || JSON.stringify(want) !== JSON.stringify(have)) out.push({ segments, drift: { path, expected: want, ...(have === undefined ? {} : { actual: have }) } });
    return;
  }
  const idOf = (element: unknown): Record<string, string | number> => Object.fromEntries(keys.map((k) => [k, keyValue(element, k) as string | number]));
  const matched = new Set<number>();
  for (const element of want) {
    const id = idOf(element);
    const index = have.findIndex((h, i) => !matched.has(i) && isRecord(h) && keys.every((k) => keyValue(h, k) === id[k]));
    const at = [...segments, id];
    if (index < 0) {
      out.push({ segments: at, drift: { path: formatPath(at), expected: element } });
      continue;
    }
    matched.add(index);
    compareValue(element, have[index], at, ignored, out);
  }
  have.forEach((element, i) => {
    if (matched.has(i) || !isRecord(element)) return;
    const at = [...segments, idOf(element)];
    out.push({ segments: at, drift: { path: formatPath(at), actual: element } });
  });
}

/** The keys that identify every element of a list of objects, or undefined for other lists. */
function listKeys(list: unknown[]): readonly string[] | undefined {
  if (list.length === 0 || !list.every(isRecord)) return undefined;
  return LIST_KEYS.find((keys) => list.every((e) => keys.every((k) => keyValue(e, k) !== undefined)));
}

function sameScalar(want: unknown, have: unknown, segments: PathSegment[]): boolean {
  if (want === have) return true;
  // The API server writes quantities in its own canonical form ("0.5" → "500m").
  if (typeof want === 'string' && typeof have === 'string' && segments.some((s) => s === 'resources' || s === 'limits' || s === 'requests')) {
    return sameQuantity(want, have);
  }
  return false;
}

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'string') out += out ? `.${s}` : s;
    else out += `[${Object.entries(s).map(([k, v]) => `${k}=${v}`).join(',')}]`;
  }
  return out;
}

const FLOTILLA_MANAGERS = new Set(['flotilla', 'flotilla-bootstrap']);

/** The last writer other than Flotilla whose managed fields hold the path (or a parent of it). */
function whoChanged(entries: readonly ManagedFieldsEntry[] | undefined, segments: readonly PathSegment[]): { changedBy?: string; changedAt?: string } {
  let best: ManagedFieldsEntry | undefined;
  for (const entry of entries ?? []) {
    if (!entry.manager || FLOTILLA_MANAGERS.has(entry.manager)) continue;
    if (!ownsPath(entry.fieldsV1, segments)) continue;
    if (!best || (entry.time ?? '') > (best.time ?? '')) best = entry;
  }
  return best ? { changedBy: best.manager, ...(best.time ? { changedAt: best.time } : {}) } : {};
}

/**
 * Whether a fieldsV1 set covers the path: `f:spec` → `f:replicas`, a list element as
 * `k:{"name":"web"}`. A path that leaves the set early (a removed element, a whole new
 * sub-object) counts when its deepest present parent is owned with `.`.
 */
function ownsPath(fields: unknown, segments: readonly PathSegment[]): boolean {
  let node = fields;
  for (const segment of segments) {
    if (!isRecord(node)) return false;
    const next = typeof segment === 'string' ? node[`f:${segment}`] : elementOf(node, segment);
    if (next === undefined) return false;
    node = next;
  }
  return true;
}

function elementOf(node: Record<string, unknown>, id: { readonly [key: string]: string | number }): unknown {
  for (const [key, value] of Object.entries(node)) {
    if (!key.startsWith('k:')) continue;
    try {
      const keys = JSON.parse(key.slice(2)) as Record<string, unknown>;
      if (Object.entries(id).every(([k, v]) => keys[k] === undefined || keys[k] === v) && Object.keys(keys).some((k) => k in id)) return value;
    } catch {
      // not a key we can read
    }
  }
  return undefined;
}

/**
 * Who put an extra object there: whoever set its environment label (a `kubectl label` of a
 * stray object), else its newest writer other than Flotilla.
 */
function creator(entries: readonly ManagedFieldsEntry[] | undefined): { changedBy?: string; changedAt?: string } {
  const labelled = whoChanged(entries, ['metadata', 'labels', LABEL.environment]);
  if (labelled.changedBy) return labelled;
  const others = (entries ?? []).filter((e) => e.manager && !FLOTILLA_MANAGERS.has(e.manager));
  const newest = others.sort((a, b) => (b.time ?? '').localeCompare(a.time ?? ''))[0];
  return newest ? { changedBy: newest.manager, ...(newest.time ? { changedAt: newest.time } : {}) } : {};
}

function isEmpty(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : isRecord(value) && Object.keys(value).length === 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
