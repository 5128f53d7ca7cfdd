// Multi-table changes that must land together: an environment with its first revision, a
// spec change, a deploy. Each runs in one catalog transaction.
import type { AppSpecInput, EnvironmentBinding, OverridesInput } from '../domain/environment.js';
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
  author: string;
  operationId?: string;
}): Promise<EnvironmentWithRevision> {
  return catalog.transaction(async (tx) => {
    const { revision } = await tx.revisions.put(input.spec, { author: input.author });
    const environment = await tx.environments.create({ binding: input.binding, overrides: input.overrides, currentRevision: revision.id });
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

/** Records that a revision now runs in an environment (after a deploy, promotion or rollback). */
export function recordDeployment(catalog: Transactional, name: string, deployment: {
  revision: string;
  by: string;
  kind: Exclude<HistoryKind, 'spec-change'>;
  operationId?: string;
  at?: string;
}): Promise<EnvironmentRecord> {
  return catalog.transaction(async (tx) => {
    const environment = await tx.environments.markDeployed(name, { revision: deployment.revision, by: deployment.by, at: deployment.at });
    await tx.history.record({
      environment: name, revision: deployment.revision, author: deployment.by, kind: deployment.kind,
      operationId: deployment.operationId, at: environment.deployed?.at,
    });
    return environment;
  });
}
