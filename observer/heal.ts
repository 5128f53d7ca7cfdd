// Healing drift (driftPolicy: heal): the observer deploys the environment's last-deployed
// revision, with its deployed overrides, through the deploy workflow like any deploy (it takes
// the environment's lock, shows as an operation, is audited). HealPolicy decides when: never
// while an operation holds the environment or a heal is in flight, and with a growing pause
// when drift keeps coming back, so a fight with another controller cannot become a loop.
import type { ObjectDrift } from '../domain/drift.js';
import { shortRevision } from '../domain/revision.js';
import type { StartDeps } from '../api/deps.js';
import { startOperation } from '../api/services/operations.js';
import type { EnvironmentRecord } from '../store/environments.js';

/** Drift a deploy can mend: Flotilla's own objects changed or deleted. An extra object is not Flotilla's to delete. */
export function healable(drift: readonly ObjectDrift[]): ObjectDrift[] {
  return drift.filter((d) => d.reason !== 'extra');
}

export interface HealPolicyOptions {
  /** The pause before the second heal; doubled for each one after (default 30 s). */
  firstBackoffMs?: number;
  maxBackoffMs?: number;
  /** Drift-free this long, an environment starts over with no pause (default 10 min). */
  quietMs?: number;
}

const STARTING = '';

interface HealState {
  heals: number;
  lastHealAt: number;
  nextAllowedAt: number;
  inFlight?: string;
}

export class HealPolicy {
  private readonly state = new Map<string, HealState>();

  constructor(private readonly options: HealPolicyOptions = {}) {}

  /** Whether to heal now; when true, the caller starts the heal and reports it with `started`. */
  shouldHeal(environment: string, drift: readonly ObjectDrift[], now: number): boolean {
    const s = this.state.get(environment);
    if (healable(drift).length === 0) {
      if (s && s.inFlight === undefined && now - s.lastHealAt >= (this.options.quietMs ?? 600_000)) this.state.delete(environment);
      return false;
    }
    if (!s) return true;
    return s.inFlight === undefined && now >= s.nextAllowedAt;
  }

  /** A heal is being started: it counts, and the next one waits longer. */
  started(environment: string, now: number): void {
    const heals = (this.state.get(environment)?.heals ?? 0) + 1;
    const first = this.options.firstBackoffMs ?? 30_000;
    const pause = Math.min(first * 2 ** (heals - 1), this.options.maxBackoffMs ?? 1_800_000);
    this.state.set(environment, { heals, lastHealAt: now, nextAllowedAt: now + pause, inFlight: STARTING });
  }

  /** The heal's operation, once started. */
  running(environment: string, operationId: string): void {
    const s = this.state.get(environment);
    if (s) s.inFlight = operationId;
  }

  /** The heal's operation ended (or never started). */
  finished(environment: string): void {
    const s = this.state.get(environment);
    if (s) s.inFlight = undefined;
  }

  /** Heals whose operation runs (not those still starting). */
  inFlight(): { environment: string; operationId: string }[] {
    return [...this.state].flatMap(([environment, s]) => (s.inFlight && s.inFlight !== STARTING ? [{ environment, operationId: s.inFlight }] : []));
  }
}

/** The actor heals are audited and requested as. */
export const HEAL_ACTOR = 'system:observer';

/** Starts the deploy that heals the environment; resolves to its operation id. */
export async function startHeal(deps: StartDeps, environment: EnvironmentRecord, drift: readonly ObjectDrift[]): Promise<string> {
  const deployed = environment.deployed!;
  const name = environment.binding.name;
  const { operationId } = await startOperation(deps, {
    // Unique without a count: heals are rare and at most one runs per environment.
    id: `heal-${name}-${shortRevision(deployed.revision)}-${deps.now().getTime().toString(36)}`,
    kind: 'deploy',
    workflowType: 'deployEnvironment',
    input: { environment: name, revision: deployed.revision, ...(deployed.overridesVersion !== undefined ? { overridesVersion: deployed.overridesVersion } : {}), requestedBy: HEAL_ACTOR, takeOwnership: true },
    environments: [name],
    locks: [name],
    clusters: [environment.binding.cluster],
    requestedBy: HEAL_ACTOR,
  });
  await deps.catalog.audit.append({
    actor: HEAL_ACTOR, action: 'environment.heal', target: `environment/${name}`, result: 'ok', operationId,
    details: { revision: deployed.revision, objects: healable(drift).map((d) => `${d.kind}/${d.name}: ${d.reason}`) },
  });
  return operationId;
}
