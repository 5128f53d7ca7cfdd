// A schedule's run writes its clone as the API writes one (api/services/clones.ts: one place
// plans, checks and writes a clone), with the schedule's secrets from the catalog.
import { ApplicationFailure } from '@temporalio/common';
import { ApiError } from '../api/errors.js';
import { checkClone, planClone, writeClone } from '../api/services/clones.js';
import type { Catalog } from '../store/catalog.js';
import { type HelmDeps, helmRenderer } from './charts.js';
import { scheduleScope } from '../store/secrets.js';
import type { ScheduleActivities } from './schedule-types.js';

export function createScheduleActivities({ catalog, helm }: { catalog: Catalog; helm?: HelmDeps }): ScheduleActivities {
  return {
    async previousClones({ name, requestedBy }) {
      const clones = await catalog.clones.list({ name, active: true });
      return clones.filter((c) => c.createdBy === requestedBy).map((c) => ({ cloneId: c.id, state: c.state }));
    },

    async writeScheduledClone({ schedule, cloneId, clone, requestedBy, at }) {
      if (await catalog.clones.get(cloneId)) return { written: false };
      const secrets: Record<string, string> = {};
      const scope = scheduleScope(schedule);
      for (const { name } of await catalog.secrets.list(scope)) {
        const value = await catalog.secrets.get(scope, name);
        if (value !== undefined) secrets[name] = value;
      }
      // The clone's charts are judged by their render, made here (the worker holds helm).
      const deps = { catalog, now: () => new Date(at), renderer: helmRenderer(helm, catalog) };
      try {
        const planned = await planClone(deps, { ...clone, secrets });
        await checkClone(deps, planned);
        await writeClone(deps, planned, cloneId, requestedBy);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        // What the API would have answered, as the run's reason (issues name fields, never values).
        const issues = Array.isArray(error.details) ? (error.details as { rule?: string; object?: string; path?: string; field?: string; message?: string }[]) : [];
        const detail = issues.map((i) => (i.rule ? `${i.rule} (${i.object ?? ''} ${i.field ?? ''}): ${i.message ?? ''}` : `${i.path ?? ''}: ${i.message ?? ''}`)).join('; ');
        throw ApplicationFailure.nonRetryable(`${error.message}${detail ? ` (${detail})` : ''}`, error.code === 'rule_violations' ? 'RuleViolation' : 'InvalidCloneRequest');
      }
      return { written: true };
    },
  };
}
