// Clone activities: the clone's plan read again from the catalog and judged by the rules now,
// its record moved along its life, and its environment forgotten when it is torn down.
import { ApplicationFailure } from '@temporalio/common';
import type { Catalog } from '../store/catalog.js';
import { changeVerdict } from '../store/change-verdict.js';
import { NotFoundError } from '../store/errors.js';
import type { CloneActivities } from './clone-types.js';

export function createCloneActivities({ catalog }: { catalog: Catalog }): CloneActivities {
  const requireClone = (cloneId: string) => catalog.clones.require(cloneId).catch((error: unknown) => {
    if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFound');
    throw error;
  });

  return {
    async planClone({ cloneId, at }) {
      const clone = await requireClone(cloneId);
      const base = {
        cloneId, clone: clone.name, source: clone.source, revision: clone.sourceRevision, cluster: clone.cluster,
        purpose: clone.purpose, state: clone.state, data: clone.data,
        ...(clone.ttlSeconds !== undefined ? { ttlSeconds: clone.ttlSeconds } : {}),
        ...(clone.expiresAt !== undefined ? { expiresAt: clone.expiresAt } : {}),
      };
      const { rules } = await catalog.rules.current();
      const strictDataPolicy = rules.dataPolicy === 'strict';
      const environment = await catalog.environments.get(clone.name);
      if (!environment) {
        // Already forgotten (torn down): nothing left to judge.
        return { ...base, namespace: clone.name, strictDataPolicy, verdict: { allowed: true, violations: [], warnings: [], approval: { required: 0, fourEyes: false, tiers: [] } } };
      }
      const { spec } = await catalog.revisions.require(clone.sourceRevision);
      // The source's tier for the scrubbedCopies rule; a source gone since is judged as prod (the strictest).
      const sourceTier = (await catalog.environments.get(clone.source))?.binding.tier ?? 'prod';
      let verdict;
      try {
        verdict = await changeVerdict(catalog, {
          kind: 'clone', at, targets: [{ binding: environment.binding, spec, overrides: environment.overrides }], rules,
          copy: { sourceTier, databases: clone.data },
        });
      } catch (error) {
        if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`cluster "${clone.cluster}" is not registered`, 'UnknownCluster');
        throw error;
      }
      return { ...base, namespace: environment.binding.namespace, strictDataPolicy, verdict };
    },

    async markClone({ cloneId, state, message, dataResult, expiresAt }) {
      await catalog.clones.update(cloneId, { state, ...(message !== undefined ? { message } : {}), ...(dataResult ? { dataResult } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) });
    },

    async forgetCloneEnvironment({ cloneId, reason }) {
      const clone = await requireClone(cloneId);
      await catalog.transaction(async (tx) => {
        // Its history, status and secrets go with it (remove, and the catalog's cascades).
        if (await tx.environments.get(clone.name)) await tx.environments.remove(clone.name);
        await tx.clones.update(cloneId, { state: 'torn-down', message: reason });
      });
    },
  };
}
