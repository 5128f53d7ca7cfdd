// Multi-table changes that must land together: an environment with its first revision, a
// spec change, a deploy. Each runs in one catalog transaction.
import type { AppSpecInput, DriftPolicy, EnvironmentBinding, EnvironmentUpdates, OverridesInput } from '../domain/environment.js';
import type { Catalog } from './catalog.js';
import type { EnvironmentRecord } from './environments.js';
import type { HistoryKind } from './revision-history.js';
import type { RevisionRecord } from './revisions.js';

type Transactional = Pick<Catalog, 'transaction'>;

export interface EnvironmentWithRevision {
  environment: EnvironmentRecord;
  revision: RevisionRecord;
}

/** Stores the spec as a revision, creates the environment on it, and records the change. */
export function createEnvironment(catalog: Transactional, input: {
  binding: EnvironmentBinding;
  spec: AppSpecInput;
  overrides?: OverridesInput;
  driftPolicy?: DriftPolicy;
  updates?: EnvironmentUpdates;
  author: string;
  operationId?: string;
}): Promise<EnvironmentWithRevision> {
  return catalog.transaction(async (tx) => {
    const { revision } = await tx.revisions.put(input.spec, { author: input.author });
    const environment = await tx.environments.create({
      binding: input.binding, overrides: input.overrides, driftPolicy: input.driftPolicy, updates: input.updates, currentRevision: revision.id, author: input.author,
    });
    await tx.history.record({ environment: environment.binding.name, revision: revision.id, author: input.author, kind: 'spec-change', operationId: input.operationId });
    return { environment, revision };
  });
}

/** A new spec for an environment; an unchanged spec changes nothing (`changed: false`). */
export function changeSpec(catalog: Transactional, name: string, spec: AppSpecInput, meta: { author: string; expectedGeneration?: number }): Promise<EnvironmentWithRevision & { changed: boolean }> {
  return catalog.transaction(async (tx) => {
    const current = await tx.environments.require(name);
    const { revision } = await tx.revisions.put(spec, { author: meta.author });
    if (current.currentRevision === revision.id) return { environment: current, revision, changed: false };
    const environment = await tx.environments.setCurrentRevision(name, revision.id, { generation: meta.expectedGeneration });
    await tx.history.record({ environment: name, revision: revision.id, author: meta.author, kind: 'spec-change' });
    return { environment, revision, changed: true };
  });
}

/**
 * Records that a revision (with an overrides version) now runs in an environment, after a
 * deploy, promotion or rollback. `desired` moves the revision the environment should run too.
 */
export function recordDeployment(catalog: Transactional, name: string, deployment: {
  revision: string;
  overridesVersion?: number;
  by: string;
  kind: Exclude<HistoryKind, 'spec-change' | 'undeploy'>;
  operationId?: string;
  at?: string;
  desired?: string;
}): Promise<EnvironmentRecord> {
  return catalog.transaction(async (tx) => {
    const environment = await tx.environments.markDeployed(name, {
      revision: deployment.revision, overridesVersion: deployment.overridesVersion, by: deployment.by, at: deployment.at, desired: deployment.desired,
    });
    await tx.history.record({
      environment: name, revision: deployment.revision, author: deployment.by, kind: deployment.kind,
      operationId: deployment.operationId, overridesVersion: deployment.overridesVersion, at: environment.deployed?.at,
    });
    return environment;
  });
}

/** A rollback removed `revision` from an environment that ran nothing before: nothing is deployed, desired as before. */
export function recordUndeploy(catalog: Transactional, name: string, change: { revision: string; by: string; operationId?: string; desired?: string }): Promise<EnvironmentRecord> {
  return catalog.transaction(async (tx) => {
    const environment = await tx.environments.clearDeployed(name, change.desired);
    await tx.history.record({ environment: name, revision: change.revision, author: change.by, kind: 'undeploy', operationId: change.operationId });
    return environment;
  });
}
