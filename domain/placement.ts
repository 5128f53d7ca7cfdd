// Where an environment may run (issue 10, finding 1). Pure: the tiers a cluster accepts, the
// namespaces a deploy may use, and which Ingress hosts a domain pattern allows.
//
//   tiers       — a cluster accepts environments of the tier its `tier` label names, plus the
//                 tiers of its `allowedTiers` (set by an admin who may write the cluster, in the
//                 scope of every tier it names). A cluster without a valid `tier` label accepts
//                 only its `allowedTiers`: none by default.
//   namespaces  — a deploy uses a namespace Flotilla created for the environment, or creates it;
//                 an existing namespace Flotilla did not create is used only when an admin listed
//                 it in the cluster's `adoptableNamespaces` (never a system namespace).
//   hosts       — `*.example.com` matches exactly one more label (`shop.example.com`, not
//                 `example.com` nor `a.shop.example.com`), as Kubernetes Ingress and TLS
//                 certificates read a wildcard; any other pattern matches only itself.
import { z } from 'zod';
import { systemNamespace, Tier, TIERS } from './environment.js';
import { DnsLabel } from './names.js';
import { own } from './own.js';

/** The cluster's side of a placement: its labels and the tiers an admin allowed beyond its label. */
export interface ClusterPlacement {
  labels: Readonly<Record<string, string>>;
  allowedTiers?: readonly Tier[];
}

/** The label that says which tier a cluster serves. */
export const TIER_LABEL = 'tier';

/** The tier a cluster's `tier` label names, if it names one. */
export function labelledTier(labels: Readonly<Record<string, string>>): Tier | undefined {
  const parsed = Tier.safeParse(own(labels, TIER_LABEL));
  return parsed.success ? parsed.data : undefined;
}

/** Every tier whose environments the cluster accepts, in TIERS order. */
export function acceptedTiers(cluster: ClusterPlacement): Tier[] {
  const accepted = new Set<Tier>(cluster.allowedTiers ?? []);
  const labelled = labelledTier(cluster.labels);
  if (labelled) accepted.add(labelled);
  return TIERS.filter((t) => accepted.has(t));
}

/** Why a cluster refuses environments of `tier`, or undefined when it accepts them. */
export function tierRefusal(tier: Tier, clusterName: string, cluster: ClusterPlacement): string | undefined {
  const accepted = acceptedTiers(cluster);
  if (accepted.includes(tier)) return undefined;
  const label = own(cluster.labels, TIER_LABEL);
  const labelled = label === undefined ? `has no ${TIER_LABEL} label` : `is labelled ${TIER_LABEL}=${label}`;
  return `tier ${tier} may not run on cluster "${clusterName}", which ${labelled} and accepts ` +
    `${accepted.length > 0 ? `only ${accepted.join(', ')}` : 'no tier'}; an admin of the cluster may add ${tier} to its allowedTiers`;
}

/** A namespace an admin may let Flotilla adopt: a DNS label that is not a system namespace. */
export const AdoptableNamespace = DnsLabel.refine((n) => !systemNamespace(n), 'is a system namespace and can never be adopted');

/** What a deploy found where the environment's namespace should be. */
export type NamespaceClaim = 'absent' | 'owned' | 'foreign';

/**
 * Why a deploy may not use the namespace, or undefined: a namespace Flotilla did not create
 * for this environment is used only when the cluster lists it as adoptable.
 */
export function namespaceRefusal(claim: NamespaceClaim, namespace: string, clusterName: string, adoptable: readonly string[]): string | undefined {
  if (claim !== 'foreign' || (!systemNamespace(namespace) && adoptable.includes(namespace))) return undefined;
  return `namespace "${namespace}" exists on cluster "${clusterName}" and was not created by Flotilla for this environment; ` +
    'an admin of the cluster may list it in adoptableNamespaces to let Flotilla deploy into it';
}

const HOST_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

/** An allowed Ingress domain: a DNS name, or `*.` and a DNS name (exactly one label in its place). */
export const DomainPattern = z.string().max(253).regex(new RegExp(`^(\\*\\.)?${HOST_LABEL}(\\.${HOST_LABEL})*$`),
  'must be a DNS name, or "*." and a DNS name (one label in place of the *)');

/** Does the domain pattern allow this host? */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return host === pattern;
  const suffix = pattern.slice(1);
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** The Ingress hosts an environment's overrides declare: [service, host], by service name. */
export function ingressHosts(hostnames: Readonly<Record<string, string>>): [string, string][] {
  return Object.keys(hostnames).sort().map((service) => [service, own(hostnames, service)!]);
}
