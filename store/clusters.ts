// Clusters: execution targets, their reachability and status.
import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import { ClusterConnection, ClusterPlacementSpec, type ClusterStatus, type Provider } from '../domain/cluster.js';
import type { Tier } from '../domain/environment.js';
import { DnsLabel, Labels } from '../domain/names.js';
import { fromJson, fromJsonOrUndefined, nowIso, orUndefined, toJson } from './columns.js';
import { ConflictError, guard, NotFoundError } from './errors.js';
import type { ClustersTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

/** What onboarding reads from the cluster: allocatable totals across its nodes. */
export interface ClusterCapacity {
  nodes: number;
  cpu?: string;
  memory?: string;
  pods?: number;
}

export interface ClusterRecord {
  name: string;
  provider: Provider;
  region?: string;
  labels: Record<string, string>;
  /** Tiers it accepts beyond its `tier` label's (domain/placement.ts). */
  allowedTiers: Tier[];
  /** Existing namespaces Flotilla may deploy into although it did not create them. */
  adoptableNamespaces: string[];
  /** How to reach it; never a credential (a kubeconfig is a catalog secret, by name). */
  connection: ClusterConnection;
  status: ClusterStatus;
  statusMessage?: string;
  /** Kubernetes version, e.g. "v1.34.4". */
  version?: string;
  capacity?: ClusterCapacity;
  /** Optimistic-concurrency token: changes on every update. */
  generation: number;
  createdAt: string;
  updatedAt: string;
}

export interface NewCluster {
  name: string;
  region?: string;
  labels?: Record<string, string>;
  allowedTiers?: Tier[];
  adoptableNamespaces?: string[];
  connection: ClusterConnection;
  status?: ClusterStatus;
}

export interface ClusterFilter {
  /** Every label given must match exactly. */
  labels?: Record<string, string>;
  status?: ClusterStatus | ClusterStatus[];
  provider?: Provider;
}

export interface StatusChange {
  status: ClusterStatus;
  /** Replaces the message; omitted clears it. */
  message?: string;
  version?: string;
  capacity?: ClusterCapacity;
}

/** Preconditions of an update; a mismatch is a ConflictError. */
export interface Expect {
  generation?: number;
  status?: ClusterStatus | ClusterStatus[];
}

export class ClusterRepository {
  constructor(private readonly db: CatalogDb) {}

  async create(input: NewCluster): Promise<ClusterRecord> {
    const name = DnsLabel.parse(input.name);
    // Strict schemas: a connection with extra fields (a token, say) is refused, not stored.
    const connection = ClusterConnection.parse(input.connection);
    const placement = ClusterPlacementSpec.parse({ allowedTiers: input.allowedTiers, adoptableNamespaces: input.adoptableNamespaces });
    const at = nowIso();
    const row: Selectable<ClustersTable> = {
      name,
      provider: connection.provider,
      region: input.region ?? null,
      labels: toJson(Labels.parse(input.labels ?? {})),
      connection: toJson(connection),
      allowed_tiers: toJson(placement.allowedTiers),
      adoptable_namespaces: toJson(placement.adoptableNamespaces),
      status: input.status ?? 'onboarding',
      status_message: null,
      version: null,
      capacity: null,
      generation: 1,
      created_at: at,
      updated_at: at,
    };
    await guard('create cluster', () => this.db.insertInto('clusters').values(row).execute(), {
      unique: () => new ConflictError(`cluster "${name}" already exists`),
    });
    return toRecord(row);
  }

  async get(name: string): Promise<ClusterRecord | undefined> {
    const row = await guard('get cluster', () => this.db.selectFrom('clusters').selectAll().where('name', '=', name).executeTakeFirst());
    return row && toRecord(row);
  }

  async require(name: string): Promise<ClusterRecord> {
    const cluster = await this.get(name);
    if (!cluster) throw new NotFoundError('cluster', name);
    return cluster;
  }

  async list(filter: ClusterFilter = {}): Promise<ClusterRecord[]> {
    const statuses = filter.status === undefined ? undefined : ([] as ClusterStatus[]).concat(filter.status);
    const rows = await guard('list clusters', () => {
      let query = this.db.selectFrom('clusters').selectAll().orderBy('name');
      if (statuses) query = query.where('status', 'in', statuses);
      if (filter.provider) query = query.where('provider', '=', filter.provider);
      return query.execute();
    });
    // Label selection in code: labels are JSON, and a fleet is hundreds of rows, not millions.
    const wanted = Object.entries(filter.labels ?? {});
    return rows.map(toRecord).filter((c) => wanted.every(([k, v]) => Object.hasOwn(c.labels, k) && c.labels[k] === v));
  }

  /** Sets status (and what onboarding learned) if the preconditions hold. */
  async updateStatus(name: string, change: StatusChange, expect: Expect = {}): Promise<ClusterRecord> {
    return this.update(name, {
      status: change.status,
      status_message: change.message ?? null,
      ...(change.version !== undefined ? { version: change.version } : {}),
      ...(change.capacity !== undefined ? { capacity: toJson(change.capacity) } : {}),
    }, expect);
  }

  async setLabels(name: string, labels: Record<string, string>, expect: Expect = {}): Promise<ClusterRecord> {
    return this.update(name, { labels: toJson(Labels.parse(labels)) }, expect);
  }

  /** What an admin allows on the cluster: tiers beyond its label's, adoptable namespaces. */
  async setPlacement(name: string, placement: { allowedTiers: Tier[]; adoptableNamespaces: string[] }, expect: Expect = {}): Promise<ClusterRecord> {
    const parsed = ClusterPlacementSpec.parse(placement);
    return this.update(name, { allowed_tiers: toJson(parsed.allowedTiers), adoptable_namespaces: toJson(parsed.adoptableNamespaces) }, expect);
  }

  async setConnection(name: string, connection: ClusterConnection, region: string | undefined, expect: Expect = {}): Promise<ClusterRecord> {
    const parsed = ClusterConnection.parse(connection);
    return this.update(name, { connection: toJson(parsed), provider: parsed.provider, region: region ?? null }, expect);
  }

  /** Deletes the row; refused while environments are bound to the cluster. */
  async remove(name: string): Promise<void> {
    const result = await guard('remove cluster', () => this.db.deleteFrom('clusters').where('name', '=', name).executeTakeFirst(), {
      foreignKey: () => new ConflictError(`cluster "${name}" still has environments; remove them first`),
    });
    if (result.numDeletedRows === 0n) throw new NotFoundError('cluster', name);
  }

  private async update(name: string, set: Partial<Omit<ClustersTable, 'name' | 'generation' | 'created_at'>>, expect: Expect): Promise<ClusterRecord> {
    const statuses = expect.status === undefined ? undefined : ([] as ClusterStatus[]).concat(expect.status);
    const row = await guard('update cluster', () => {
      let query = this.db.updateTable('clusters')
        .set((eb) => ({ ...set, updated_at: nowIso(), generation: eb('generation', '+', 1) }))
        .where('name', '=', name);
      if (expect.generation !== undefined) query = query.where('generation', '=', expect.generation);
      if (statuses) query = query.where('status', 'in', statuses);
      return query.returningAll().executeTakeFirst();
    });
    if (row) return toRecord(row);
    const current = await this.require(name);
    throw new ConflictError(
      `cluster "${name}" changed meanwhile (generation ${current.generation}, status ${current.status}); reload and retry`,
    );
  }
}

function toRecord(row: Selectable<ClustersTable>): ClusterRecord {
  return {
    name: row.name,
    provider: row.provider as Provider,
    region: orUndefined(row.region),
    labels: fromJson(row.labels),
    allowedTiers: fromJson(row.allowed_tiers),
    adoptableNamespaces: fromJson(row.adoptable_namespaces),
    connection: fromJson(row.connection),
    status: row.status as ClusterStatus,
    statusMessage: orUndefined(row.status_message),
    version: orUndefined(row.version),
    capacity: fromJsonOrUndefined(row.capacity),
    generation: row.generation,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The catalog secret the API creates for a cluster's inline kubeconfig. */
export function managedKubeconfigSecret(cluster: string): string {
  if (cluster.length <= 52) return `${cluster}-kubeconfig`;
  const hash = createHash('sha256').update(cluster).digest('hex').slice(0, 8);
  return `${cluster.slice(0, 43).replace(/-+$/, '')}-${hash}-kubeconfig`;
}
