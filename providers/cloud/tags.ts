// A cloud's tags (EKS and AKS tags, GKE resource labels) as Flotilla cluster labels: Kubernetes
// label keys and values (domain/names.ts), so an imported cluster can be selected by them.
//
// - keys are lower-cased; anything but letters, digits, "-", "_" and "." becomes "-" (a "/"
//   too: a tag's "prefix/" is not a DNS subdomain Flotilla vouches for), at most 63 characters,
//   starting and ending with a letter or digit;
// - values keep their case; the same character rule; at most 63; may end up empty;
// - the cloud's own tags are left out (`aws:*`, AWS-reserved; `goog-*`, GKE's bookkeeping);
// - two tags that map to one key: the first in key order wins, the other is reported.
import type { Provider } from '../../domain/cluster.js';

export interface TagLabels {
  labels: Record<string, string>;
  /** Tags that gave no label, each with why (key as the cloud wrote it). */
  skipped: { tag: string; reason: string }[];
}

/** The label naming the cluster's provider. */
export const PROVIDER_LABEL = 'flotilla.dev/provider';
/** The well-known Kubernetes topology label. */
export const REGION_LABEL = 'topology.kubernetes.io/region';

const MAX = 63;
const RESERVED = [/^aws:/i, /^goog-/i];

function clean(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, MAX)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** A tag key as a label key (no prefix), or undefined when nothing of it is usable. */
export function tagKeyToLabelKey(key: string): string | undefined {
  const label = clean(key.toLowerCase());
  return label || undefined;
}

/** A tag value as a label value (possibly empty). */
export function tagValueToLabelValue(value: string): string {
  return clean(value);
}

/** Labels from a cloud's tags; see the rules above. */
export function labelsFromTags(tags: Readonly<Record<string, string>> | undefined): TagLabels {
  const labels: Record<string, string> = {};
  const skipped: TagLabels['skipped'] = [];
  const from = new Map<string, string>();
  for (const tag of Object.keys(tags ?? {}).sort()) {
    if (RESERVED.some((r) => r.test(tag))) {
      skipped.push({ tag, reason: 'reserved for the cloud provider' });
      continue;
    }
    const key = tagKeyToLabelKey(tag);
    if (!key) {
      skipped.push({ tag, reason: 'has no letter or digit to make a label key of' });
      continue;
    }
    const earlier = from.get(key);
    if (earlier !== undefined) {
      skipped.push({ tag, reason: `label "${key}" already comes from tag "${earlier}"` });
      continue;
    }
    from.set(key, tag);
    labels[key] = tagValueToLabelValue(tags![tag]!);
  }
  return { labels, skipped };
}

/**
 * The labels of an imported cluster: its tags', then provider and region, then what the user
 * gave (each later source wins on the same key).
 */
export function importLabels(
  provider: Provider,
  region: string | undefined,
  tags: Readonly<Record<string, string>> | undefined,
  extra: Readonly<Record<string, string>> = {},
): TagLabels {
  const fromTags = labelsFromTags(tags);
  const known: Record<string, string> = { [PROVIDER_LABEL]: provider };
  const regionValue = region ? tagValueToLabelValue(region) : '';
  if (regionValue) known[REGION_LABEL] = regionValue;
  return { labels: { ...fromTags.labels, ...known, ...extra }, skipped: fromTags.skipped };
}
