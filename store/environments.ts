// Environments: where an application runs (binding), what revision it should run and what
// runs now, and its own overrides.
import type { Selectable } from 'kysely';
import { canonicalJson } from '../domain/canonical.js';
import { type DriftPolicy, EnvironmentBinding, type EnvironmentUpdates, Overrides, type OverridesInput, type Tier } from '../domain/environment.js';
import { fromJson, nowIso, orUndefined, toIso, toJson } from './columns.js';
import { ConflictError, guard, NotFoundError } from './errors.js';
import type { EnvironmentsTable } from './schema.js';
import { environmentScope } from './secrets.js';
import { type CatalogDb, inTransaction } from './transaction.js';

export interface Deployment {
  revision: string;
  /** The overrides version deployed with the revision (absent for deploys before versions). */
  overridesVersion?: number;
  at: string;
  by: string;
}

export interface EnvironmentRecord {
  binding: EnvironmentBinding;
  overrides: Overrides;
  /** Bumped on every overrides change; each version is kept (overridesAt). */
  overridesVersion: number;
  /** The revision the environment should run: its latest spec, or what a promotion or rollback put there. */
  currentRevision?: string;
  /** The revision last deployed, and when and by whom. */
  deployed?: Deployment;
  /** What the observer does about drift. */
  driftPolicy: DriftPolicy;
  /** How it takes application changes: its own inline app, tracking its Application, or by promotion. */
  updates: EnvironmentUpdates;
  /** Set while it is stopped: what each workload ran, to start it again exactly. */
  stopped?: StoppedState;
  generation: number;
  createdAt: string;
  updatedAt: string;
}

export interface StoppedState {
  at: string;
  by: string;
  operationId: string;
  /** Replicas per workload ("Deployment/web", "StatefulSet/orders-db") before the stop. */
  replicas: Record<string, number>;
}

export interface NewEnvironment {
  binding: EnvironmentBinding;
  overrides?: OverridesInput;
  currentRevision?: string;
  /** Who set the first overrides version. */
  author?: string;
  driftPolicy?: DriftPolicy;
  updates?: EnvironmentUpdates;
}

export interface EnvironmentFilter {
  application?: string;
  tier?: Tier;
  cluster?: string;
}

export class EnvironmentRepository {
  constructor(private readonly db: CatalogDb) {}

  async create(input: NewEnvironment): Promise<EnvironmentRecord> {
    const binding = EnvironmentBinding.parse(input.binding);
    const at = nowIso();
    const row: Selectable<EnvironmentsTable> = {
      name: binding.name,
      application: binding.application,
      tier: binding.tier,
      residency: binding.residency ?? null,
      cluster: binding.cluster,
      namespace: binding.namespace,
      current_revision: input.currentRevision ?? null,
      deployed_revision: null,
      deployed_at: null,
      deployed_by: null,
      deployed_overrides_version: null,
      overrides: toJson(Overrides.parse(input.overrides ?? {})),
      overrides_version: 1,
      drift_policy: input.driftPolicy ?? 'report',
      updates: input.updates ?? 'inline',
      stopped: null,
      generation: 1,
      created_at: at,
      updated_at: at,
    };
    await inTransaction(this.db, async (trx) => {
      await guard('create environment', () => trx.insertInto('environments').values(row).execute(), {
        unique: () => new ConflictError(
          `environment "${binding.name}" already exists, or namespace "${binding.namespace}" on cluster "${binding.cluster}" is taken`,
        ),
        foreignKey: () => new ConflictError(
          `environment "${binding.name}" refers to cluster "${binding.cluster}"${input.currentRevision ? ` or revision ${input.currentRevision}` : ''}, which does not exist`,
        ),
      });
      await guard('create environment', () => trx.insertInto('overrides_versions')
        .values({ environment: binding.name, version: 1, overrides: row.overrides, author: input.author ?? 'unknown', created_at: at })
        .execute());
    });
    return toRecord(row);
  }

  async get(name: string): Promise<EnvironmentRecord | undefined> {
    const row = await guard('get environment', () => this.db.selectFrom('environments').selectAll().where('name', '=', name).executeTakeFirst());
    return row && toRecord(row);
  }

  async require(name: string): Promise<EnvironmentRecord> {
    const environment = await this.get(name);
    if (!environment) throw new NotFoundError('environment', name);
    return environment;
  }

  async list(filter: EnvironmentFilter = {}): Promise<EnvironmentRecord[]> {
    const rows = await guard('list environments', () => {
      let query = this.db.selectFrom('environments').selectAll().orderBy('name');
      if (filter.application) query = query.where('application', '=', filter.application);
      if (filter.tier) query = query.where('tier', '=', filter.tier);
      if (filter.cluster) query = query.where('cluster', '=', filter.cluster);
      return query.execute();
    });
    return rows.map(toRecord);
  }

  /** Points the environment at a new spec revision (which must already be stored). */
  setCurrentRevision(name: string, revision: string, expect: { generation?: number } = {}): Promise<EnvironmentRecord> {
    return this.update(name, { current_revision: revision }, expect);
  }

  /**
   * Records what now runs. `desired` also moves the revision the environment should run, so
   * desired and deployed agree after a promotion or rollback (a later plain deploy keeps it).
   */
  markDeployed(name: string, deployment: { revision: string; overridesVersion?: number; by: string; at?: string; desired?: string }, expect: { generation?: number } = {}): Promise<EnvironmentRecord> {
    return this.update(name, {
      deployed_revision: deployment.revision,
      deployed_overrides_version: deployment.overridesVersion ?? null,
      deployed_by: deployment.by,
      deployed_at: deployment.at === undefined ? nowIso() : toIso(deployment.at),
      ...(deployment.desired !== undefined ? { current_revision: deployment.desired } : {}),
    }, expect);
  }

  /** Nothing of Flotilla's runs there any more (a first deploy rolled back); `desired` as before it. */
  clearDeployed(name: string, desired: string | undefined): Promise<EnvironmentRecord> {
    return this.update(name, {
      deployed_revision: null, deployed_overrides_version: null, deployed_by: null, deployed_at: null,
      ...(desired !== undefined ? { current_revision: desired } : {}),
    }, {});
  }

  /** New overrides: a new version, kept beside the old ones, so a deploy can pin the one it used. */
  async setOverrides(name: string, overrides: OverridesInput, expect: { generation?: number; author?: string } = {}): Promise<EnvironmentRecord> {
    const text = toJson(Overrides.parse(overrides));
    return inTransaction(this.db, async (trx) => {
      const repo = new EnvironmentRepository(trx);
      const current = await repo.require(name);
      // Key order carries no meaning: the same overrides written another way are no new version.
      if (canonicalJson(current.overrides) === canonicalJson(JSON.parse(text))) return current;
      const updated = await repo.update(name, { overrides: text, overrides_version: current.overridesVersion + 1 }, expect);
      await guard('store overrides', () => trx.insertInto('overrides_versions')
        .values({ environment: name, version: updated.overridesVersion, overrides: text, author: expect.author ?? 'unknown', created_at: updated.updatedAt })
        .execute());
      return updated;
    });
  }

  async setUpdates(name: string, updates: EnvironmentUpdates, expect: { generation?: number } = {}): Promise<EnvironmentRecord> {
    return this.update(name, { updates }, expect);
  }

  /** Records (or, with undefined, clears) what a stop left the environment running. */
  async setStopped(name: string, stopped: StoppedState | undefined, expect: { generation?: number } = {}): Promise<EnvironmentRecord> {
    return this.update(name, { stopped: stopped === undefined ? null : toJson(stopped) }, expect);
  }

  async setDriftPolicy(name: string, driftPolicy: DriftPolicy, expect: { generation?: number } = {}): Promise<EnvironmentRecord> {
    return this.update(name, { drift_policy: driftPolicy }, expect);
  }

  /** The overrides as they were at a version. */
  async overridesAt(name: string, version: number): Promise<Overrides> {
    const row = await guard('read overrides', () => this.db.selectFrom('overrides_versions').select('overrides')
      .where('environment', '=', name).where('version', '=', version).executeTakeFirst());
    if (!row) throw new NotFoundError('overrides version', `${name}@${version}`);
    return fromJson(row.overrides);
  }

  /** Removes the environment with its history, live status and secrets, all or nothing. */
  async remove(name: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await guard('remove environment', () => trx.deleteFrom('secrets').where('scope', '=', environmentScope(name)).execute());
      const result = await guard('remove environment', () => trx.deleteFrom('environments').where('name', '=', name).executeTakeFirst());
      if (result.numDeletedRows === 0n) throw new NotFoundError('environment', name);
    });
  }

  private async update(name: string, set: Partial<EnvironmentsTable>, expect: { generation?: number }): Promise<EnvironmentRecord> {
    const row = await guard('update environment', () => {
      let query = this.db.updateTable('environments')
        .set((eb) => ({ ...set, updated_at: nowIso(), generation: eb('generation', '+', 1) }))
        .where('name', '=', name);
      if (expect.generation !== undefined) query = query.where('generation', '=', expect.generation);
      return query.returningAll().executeTakeFirst();
    }, {
      foreignKey: () => new ConflictError(`environment "${name}": revision ${set.current_revision ?? set.deployed_revision ?? ''} is not stored`),
    });
    if (row) return toRecord(row);
    const current = await this.require(name);
    throw new ConflictError(`environment "${name}" changed meanwhile (generation ${current.generation}); reload and retry`);
  }
}

function toRecord(row: Selectable<EnvironmentsTable>): EnvironmentRecord {
  const binding: EnvironmentBinding = {
    name: row.name,
    application: row.application,
    tier: row.tier as Tier,
    cluster: row.cluster,
    namespace: row.namespace,
  };
  if (row.residency !== null) binding.residency = row.residency;
  return {
    binding,
    overrides: fromJson(row.overrides),
    overridesVersion: row.overrides_version,
    currentRevision: orUndefined(row.current_revision),
    deployed: row.deployed_revision !== null
      ? {
        revision: row.deployed_revision,
        ...(row.deployed_overrides_version !== null ? { overridesVersion: row.deployed_overrides_version } : {}),
        at: row.deployed_at ?? row.updated_at,
        by: row.deployed_by ?? 'unknown',
      }
      : undefined,
    driftPolicy: row.drift_policy as DriftPolicy,
    updates: row.updates as EnvironmentUpdates,
    ...(row.stopped !== null ? { stopped: fromJson<StoppedState>(row.stopped) } : {}),
    generation: row.generation,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
