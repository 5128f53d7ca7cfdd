// A cloud's tags as Flotilla labels (providers/cloud/tags.ts): every result a valid Kubernetes
// label, the cloud's own tags left out, collisions reported, and what the user gives winning.
import { describe, expect, it } from 'vitest';
import { Labels } from '../../domain/names.js';
import { importLabels, labelsFromTags } from '../../providers/cloud/tags.js';

describe('labelsFromTags', () => {
  it('keeps valid tags as they are, lower-casing keys', () => {
    expect(labelsFromTags({ tier: 'prod', geo: 'eu', Team: 'Payments', 'cost.centre_id': 'cc-42' })).toEqual({
      labels: { tier: 'prod', geo: 'eu', team: 'Payments', 'cost.centre_id': 'cc-42' },
      skipped: [],
    });
  });

  it('turns what Kubernetes does not allow into "-", trims the ends and cuts at 63', () => {
    const { labels } = labelsFromTags({
      'Cost Center': 'R&D / Platform',
      'kubernetes.io/cluster/prod': 'owned',
      'owner:email': 'ana@example.com',
      '__private__': '  spaced  ',
      [`k${'x'.repeat(80)}`]: `v${'y'.repeat(80)}`,
    });
    expect(labels).toEqual({
      'cost-center': 'R-D-Platform',
      'kubernetes.io-cluster-prod': 'owned',
      'owner-email': 'ana-example.com',
      private: 'spaced',
      [`k${'x'.repeat(62)}`]: `v${'y'.repeat(62)}`,
    });
    expect(Labels.safeParse(labels).success).toBe(true);
  });

  it('leaves out AWS-reserved and GKE bookkeeping tags, and tags with nothing to keep', () => {
    expect(labelsFromTags({ 'aws:cloudformation:stack-name': 'eks-prod', 'goog-managed-by': 'terraform', '%%%': 'x', app: 'shop' })).toEqual({
      labels: { app: 'shop' },
      skipped: [
        { tag: '%%%', reason: 'has no letter or digit to make a label key of' },
        { tag: 'aws:cloudformation:stack-name', reason: 'reserved for the cloud provider' },
        { tag: 'goog-managed-by', reason: 'reserved for the cloud provider' },
      ],
    });
  });

  it('an empty or all-invalid value gives an empty label value', () => {
    expect(labelsFromTags({ flag: '', note: '***' }).labels).toEqual({ flag: '', note: '' });
  });

  it('two tags that make the same key: the first in key order wins, the other is reported', () => {
    expect(labelsFromTags({ 'Team Name': 'b', 'team-name': 'a', 'TEAM:NAME': 'c' })).toEqual({
      labels: { 'team-name': 'c' },
      skipped: [
        { tag: 'Team Name', reason: 'label "team-name" already comes from tag "TEAM:NAME"' },
        { tag: 'team-name', reason: 'label "team-name" already comes from tag "TEAM:NAME"' },
      ],
    });
  });

  it('no tags, no labels', () => {
    expect(labelsFromTags(undefined)).toEqual({ labels: {}, skipped: [] });
  });
});

describe('importLabels', () => {
  it('adds the provider and region, and lets the user override any of them', () => {
    expect(importLabels('eks', 'eu-west-1', { tier: 'staging', team: 'payments' }, { tier: 'prod' })).toEqual({
      labels: { tier: 'prod', team: 'payments', 'flotilla.dev/provider': 'eks', 'topology.kubernetes.io/region': 'eu-west-1' },
      skipped: [],
    });
  });

  it('a tag cannot pass for the provider or region label', () => {
    const { labels } = importLabels('gke', 'europe-west1-b', { 'flotilla.dev/provider': 'aks' });
    expect(labels).toEqual({ 'flotilla.dev-provider': 'aks', 'flotilla.dev/provider': 'gke', 'topology.kubernetes.io/region': 'europe-west1-b' });
  });

  it('without a region, no region label', () => {
    expect(importLabels('kubeconfig', undefined, undefined).labels).toEqual({ 'flotilla.dev/provider': 'kubeconfig' });
  });
});
