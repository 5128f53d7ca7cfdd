// Charts and plain manifests in an application (issue 14): a Helm chart from an OCI registry (or
// an archive uploaded to Flotilla, by its sha256) with values, and bundles of plain YAML
// documents. A revision pins each chart's digest, so what a revision means never changes when a
// tag moves. Values an environment may set for itself are declared (environmentValues), like
// environmentConfig. Pure.
import { z } from 'zod';
import { parseAllDocuments } from 'yaml';
import type { ValidationIssue, Validated } from './documents.js';
import type { Manifest } from './manifest.js';
import { DnsLabel } from './names.js';

export const Sha256 = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be a digest sha256:<64 hex digits>');

/** A dotted path into a chart's values: "ingress.host", "replicaCount". */
export const ValuesPath = z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a dotted path into the values, such as "ingress.host"');

export const Chart = z.strictObject({
  /** The chart's name in the application (and its release name unless `release`). */
  name: DnsLabel,
  /** oci://REGISTRY/REPOSITORY/CHART, or … */
  oci: z.string().regex(/^oci:\/\/[^\s@]+$/, 'must be an oci:// reference without a digest (pin it with `digest`)').optional(),
  /** … with a version (a tag); resolved to `digest` when the application is applied. */
  version: z.string().min(1).max(128).optional(),
  /** An archive uploaded to Flotilla, by its content (sha256 of the .tgz). */
  archive: Sha256.optional(),
  /** The chart archive's digest, pinned by the revision. */
  digest: Sha256.optional(),
  release: DnsLabel.optional(),
  values: z.record(z.string(), z.unknown()).optional(),
  /** Values paths each environment may set for itself (overrides.chartValues); anything else differing is drift. */
  environmentValues: z.array(ValuesPath).optional(),
}).superRefine((c, ctx) => {
  if ((c.oci === undefined) === (c.archive === undefined)) ctx.addIssue({ code: 'custom', path: ['oci'], message: 'give exactly one of oci (with version or digest) or archive' });
  if (c.oci !== undefined && c.archive === undefined && c.version === undefined && c.digest === undefined) ctx.addIssue({ code: 'custom', path: ['version'], message: 'an oci chart needs a version or a digest' });
  if (c.archive !== undefined && c.version !== undefined) ctx.addIssue({ code: 'custom', path: ['version'], message: 'an uploaded archive has no version: it is its digest' });
});
export type Chart = z.infer<typeof Chart>;

/** Plain YAML documents, inline or an uploaded bundle (by sha256; the revision holds its documents too). */
export const ManifestBundle = z.strictObject({
  name: DnsLabel,
  documents: z.array(z.record(z.string(), z.unknown())).min(1).max(500).optional(),
  bundle: Sha256.optional(),
}).superRefine((b, ctx) => {
  // A revision holds an uploaded bundle's documents beside its digest (the API fills them in).
  if (b.documents === undefined && b.bundle === undefined) ctx.addIssue({ code: 'custom', path: ['documents'], message: 'give documents, or the digest of an uploaded bundle' });
  b.documents?.forEach((d, i) => {
    if (typeof d.apiVersion !== 'string' || typeof d.kind !== 'string') ctx.addIssue({ code: 'custom', path: ['documents', i], message: 'a Kubernetes object needs apiVersion and kind' });
    const name = (d.metadata as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name.length === 0) ctx.addIssue({ code: 'custom', path: ['documents', i, 'metadata', 'name'], message: 'a Kubernetes object needs metadata.name' });
  });
});
export type ManifestBundle = z.infer<typeof ManifestBundle>;

/** overrides.chartValues: per chart, values at declared environmentValues paths. */
export const ChartValues = z.record(DnsLabel, z.record(ValuesPath, z.unknown()));
export type ChartValues = z.infer<typeof ChartValues>;

/** Overrides' chart values may only name declared charts and their environmentValues paths. */
export function checkChartValues(charts: readonly Chart[], values: ChartValues | undefined): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const byName = new Map(charts.map((c) => [c.name, c]));
  for (const [chart, paths] of Object.entries(values ?? {})) {
    const declared = byName.get(chart);
    if (!declared) {
      issues.push({ path: ['chartValues', chart], message: `chart "${chart}" is not in the spec` });
      continue;
    }
    for (const path of Object.keys(paths)) {
      if (!(declared.environmentValues ?? []).includes(path)) {
        issues.push({ path: ['chartValues', chart, path], message: `values path "${path}" of chart "${chart}" is not declared environment-specific (environmentValues)` });
      }
    }
  }
  return issues;
}

/** The chart's values with the environment's overrides set at their dotted paths (a new object). */
export function mergedValues(chart: Chart, overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const out = structuredClone(chart.values ?? {}) as Record<string, unknown>;
  for (const [path, value] of Object.entries(overrides)) {
    const keys = path.split('.');
    let at = out;
    for (const key of keys.slice(0, -1)) {
      const next = at[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) at[key] = {};
      at = at[key] as Record<string, unknown>;
    }
    at[keys.at(-1)!] = value;
  }
  return out;
}

/** The most documents one bundle may hold. */
export const MAX_BUNDLE_DOCUMENTS = 500;

/**
 * A bundle to upload: a YAML stream (or JSON) of Kubernetes objects, each with apiVersion, kind
 * and metadata.name; empty documents between separators are skipped. Issues name documents[i].
 */
export function parseBundle(text: string): Validated<Manifest[]> {
  const issues: ValidationIssue[] = [];
  const objects: Manifest[] = [];
  // Silent: the parser's warnings quote the offending line, which may carry a credential.
  parseAllDocuments(text, { logLevel: 'error' }).forEach((doc, i) => {
    const at = `documents[${i}]`;
    if (doc.errors.length > 0) {
      issues.push({ path: at, message: `YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      issues.push({ path: at, message: `YAML: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (value === null || value === undefined) return;
    const object = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
    if (typeof value !== 'object' || Array.isArray(value)) issues.push({ path: at, message: 'must be a Kubernetes object' });
    else if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') issues.push({ path: at, message: 'a Kubernetes object needs apiVersion and kind' });
    else if (typeof object.metadata?.name !== 'string' || object.metadata.name.length === 0) issues.push({ path: `${at}.metadata.name`, message: 'a Kubernetes object needs metadata.name' });
    else objects.push(value as Manifest);
  });
  if (issues.length === 0 && objects.length === 0) issues.push({ path: 'documents', message: 'no documents found' });
  if (objects.length > MAX_BUNDLE_DOCUMENTS) issues.push({ path: 'documents', message: `at most ${MAX_BUNDLE_DOCUMENTS} documents` });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: objects };
}
