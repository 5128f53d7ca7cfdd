// The labels by which Flotilla recognises what it owns in a cluster. The names themselves
// are the domain's (render puts them on every object).
import { environmentSelector, LABEL, MANAGED_BY } from '../../domain/labels.js';

export const MANAGED_BY_LABEL = LABEL.managedBy;
export const MANAGED_BY_VALUE = MANAGED_BY;
export const ENVIRONMENT_LABEL = LABEL.environment;

export type LabelSet = Readonly<Record<string, string>>;

/** The labels every object of an environment carries, and prune selects by. */
export function environmentLabels(environment: string): LabelSet {
  return environmentSelector(environment);
}

/** An equality-based label selector string, keys sorted so it is stable. */
export function formatSelector(labels: LabelSet): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',');
}

export function isManagedByFlotilla(labels: LabelSet | undefined): boolean {
  return labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

/** The field manager of every server-side apply Flotilla makes. */
export const FIELD_MANAGER = 'flotilla';

/**
 * Whether Flotilla applied the object itself: its server-side apply shows in managedFields.
 * Labels can be copied onto anything by anyone who can write the namespace; this cannot be
 * without impersonating Flotilla's field manager, so deletions require both.
 */
export function appliedByFlotilla(metadata: { managedFields?: { manager?: string; operation?: string }[] } | undefined): boolean {
  return metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply') ?? false;
}

/** The field manager of the bootstrap account's writes (issue 10, finding 5): it creates namespaces, never applies. */
export const BOOTSTRAP_FIELD_MANAGER = 'flotilla-bootstrap';

/** Whether Flotilla's bootstrap account created the object (its create shows in managedFields). */
export function createdByFlotillaBootstrap(metadata: { managedFields?: { manager?: string; operation?: string }[] } | undefined): boolean {
  return metadata?.managedFields?.some((f) => f.manager === BOOTSTRAP_FIELD_MANAGER && f.operation === 'Update') ?? false;
}

export function matchesLabels(labels: LabelSet | undefined, selector: LabelSet): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}
