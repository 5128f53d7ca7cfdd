// The one place that decides the organisation rules' verdict on a change: the API before it
// stores or starts anything, and the workflows' planning activities, all ask here.
import type { AppSpec, EnvironmentBinding, Overrides } from '../domain/environment.js';
import { evaluateRules, type Rules, type RulesVerdict } from '../domain/rules.js';
import type { CatalogRepositories } from './catalog.js';
import { NotFoundError } from './errors.js';

export interface VerdictTarget {
  binding: EnvironmentBinding;
  spec: AppSpec;
  overrides: Overrides;
}

export interface ChangeToJudge {
  /** `edit`: a spec or overrides change that runs nothing yet, so freeze windows do not apply. */
  kind: 'edit' | 'deploy' | 'promote' | 'clone';
  /** When the change would happen (ISO). */
  at: string;
  targets: VerdictTarget[];
  /** Cluster labels known to the caller (e.g. clusters applied in the same request); the catalog answers for the rest. */
  clusterLabels?: ReadonlyMap<string, Record<string, string>>;
  /** The rules to judge by; the catalog's current rules otherwise. */
  rules?: Rules;
}

/** The verdict; NotFoundError('cluster', name) when a target's cluster is not registered. */
export async function changeVerdict(catalog: Pick<CatalogRepositories, 'rules' | 'clusters'>, change: ChangeToJudge): Promise<RulesVerdict> {
  const rules = change.rules ?? (await catalog.rules.current()).rules;
  const targets = [];
  for (const target of change.targets) {
    const name = target.binding.cluster;
    const labels = change.clusterLabels?.get(name) ?? (await catalog.clusters.get(name))?.labels;
    if (!labels) throw new NotFoundError('cluster', name);
    targets.push({ ...target, cluster: { name, labels } });
  }
  const judged = change.kind === 'edit' ? { ...rules, freezeWindows: [] } : rules;
  return evaluateRules(judged, { kind: change.kind === 'edit' ? 'deploy' : change.kind, at: change.at, targets });
}

/** One line per violation, for failures and logs. */
export function describeViolations(verdict: RulesVerdict): string {
  return verdict.violations.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ');
}
