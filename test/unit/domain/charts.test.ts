// Charts and manifest bundles in an application (issue 14, domain): what a chart must name,
// what overrides may set (declared environmentValues only), values merged at dotted paths, and
// that specs without charts keep their revision id.
import { describe, expect, it } from 'vitest';
import { mergedValues } from '../../../domain/charts.js';
import { validate } from '../../../domain/documents.js';
import { AppSpec, checkOverrides, Overrides } from '../../../domain/environment.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const chart = { name: 'shop', oci: 'oci://127.0.0.1:5000/charts/shop', version: '1.2.0', values: { replicaCount: 2, ingress: { host: 'dev.shop.example' } }, environmentValues: ['ingress.host'] };

describe('charts in an application', () => {
  it('an application of a chart alone is valid; one with nothing is not', () => {
    expect(validate(AppSpec, { services: [], charts: [chart] }).ok).toBe(true);
    expect(validate(AppSpec, { services: [] })).toEqual({ ok: false, issues: [{ path: 'services', message: 'an application needs at least one service, chart or manifest bundle' }] });
  });

  it('a chart names exactly one source, an oci one a version or digest, never a digest in the reference', () => {
    const issues = (input: unknown) => {
      const r = validate(AppSpec, { services: [], charts: [input] });
      return r.ok ? [] : r.issues;
    };
    expect(issues({ name: 'a', oci: 'oci://r/c' })).toEqual([{ path: 'charts[0].version', message: 'an oci chart needs a version or a digest' }]);
    expect(issues({ name: 'a', oci: 'oci://r/c', archive: DIGEST })).toEqual([{ path: 'charts[0].oci', message: 'give exactly one of oci (with version or digest) or archive' }]);
    expect(issues({ name: 'a', oci: 'oci://r/c@sha256:1', version: '1' })[0]?.path).toBe('charts[0].oci');
    expect(issues({ name: 'a', archive: 'sha256:xyz' })[0]).toEqual({ path: 'charts[0].archive', message: 'must be a digest sha256:<64 hex digits>' });
    expect(issues({ name: 'a', oci: 'oci://r/c', digest: DIGEST })).toEqual([]);
  });

  it('a manifest bundle holds objects with apiVersion, kind and a name, or names an uploaded bundle', () => {
    const r = validate(AppSpec, { services: [], manifests: [{ name: 'extras', documents: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }] }] });
    expect(r).toEqual({ ok: false, issues: [{ path: 'manifests[0].documents[0].metadata.name', message: 'a Kubernetes object needs metadata.name' }] });
    expect(validate(AppSpec, { services: [], manifests: [{ name: 'extras', bundle: DIGEST }] }).ok).toBe(true);
  });

  it('overrides may set only declared environmentValues of declared charts', () => {
    const spec = AppSpec.parse({ services: [], charts: [chart] });
    expect(checkOverrides(spec, Overrides.parse({ chartValues: { shop: { 'ingress.host': 'shop.example' } } }))).toEqual([]);
    expect(checkOverrides(spec, Overrides.parse({ chartValues: { shop: { replicaCount: 5 }, other: { a: 1 } } }))).toEqual([
      { path: ['chartValues', 'shop', 'replicaCount'], message: 'values path "replicaCount" of chart "shop" is not declared environment-specific (environmentValues)' },
      { path: ['chartValues', 'other'], message: 'chart "other" is not in the spec' },
    ]);
  });

  it('merges overrides at their dotted paths into a copy of the values', () => {
    const parsed = AppSpec.parse({ services: [], charts: [chart] }).charts![0]!;
    expect(mergedValues(parsed, { 'ingress.host': 'shop.example', 'ingress.tls.enabled': true })).toEqual({ replicaCount: 2, ingress: { host: 'shop.example', tls: { enabled: true } } });
    expect(parsed.values).toEqual({ replicaCount: 2, ingress: { host: 'dev.shop.example' } });
  });
});
