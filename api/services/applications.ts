// Applications written once: which spec each environment document runs (its inline app, its
// Application's as applied now or in the catalog, or, for one that changes by promotion, the
// revision it is on), the environments that track an application, and the deploys that carry
// an applied change to those of them that run.
import type { ApplicationDocument } from '../../domain/application.js';
import { formatPath, type Path } from '../../domain/diff.js';
import {
  type AppSpec, checkOverrides, type Environment, type EnvironmentDocument, environmentFromDocument, type EnvironmentUpdates, updatesOf,
} from '../../domain/environment.js';
import type { ApplicationRecord } from '../../store/applications.js';
import type { Catalog } from '../../store/catalog.js';
import type { EnvironmentRecord } from '../../store/environments.js';
import { EnvironmentBusyError } from '../../store/locks.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest } from '../errors.js';
import { OperationAlreadyRunningError } from '../starter.js';
import { deploy } from './environments.js';

export interface ResolvedEnvironment {
  env: Environment;
  updates: EnvironmentUpdates;
  /** The spec comes from its Application (rather than an inline app or the revision it stays on). */
  fromApplication: boolean;
}

/**
 * The environment a document describes with the spec it will run. `applied`: Application
 * documents of the same request, by name. `at(...path)` names a field of this document.
 */
export async function resolveEnvironment(
  catalog: Catalog, doc: EnvironmentDocument, applied: ReadonlyMap<string, ApplicationDocument>, at: (...path: Path) => string,
): Promise<ResolvedEnvironment> {
  const name = doc.spec.application;
  const updates = updatesOf(doc);
  const known = applied.get(name)?.spec ?? (await applicationSpec(catalog, name));
  if (doc.spec.app !== undefined) {
    if (known) {
      throw new ApiError(422, 'invalid_reference', `application "${name}" is defined by its Application document; environment "${doc.metadata.name}" names it without an inline app`, [
        { path: at('spec', 'app'), message: `application "${name}" has an Application document: remove spec.app` },
      ]);
    }
    return { env: environmentFromDocument(doc), updates, fromApplication: false };
  }
  if (!known) {
    throw new ApiError(422, 'invalid_reference', `no Application named "${name}": apply one (kind: Application) or give the environment an inline spec.app`, [
      { path: at('spec', 'application'), message: 'no such application' },
    ]);
  }
  // An environment that changes by promotion stays on its revision; a new one starts at the application's.
  const existing = await catalog.environments.get(doc.metadata.name);
  const stays = updates === 'promotion' && existing?.currentRevision !== undefined && existing.updates !== 'inline';
  const spec = stays ? (await catalog.revisions.require(existing.currentRevision!)).spec : known;
  const problems = checkOverrides(spec, doc.spec.overrides);
  if (problems.length > 0) throw badRequest(problems.map((p) => ({ path: at('spec', 'overrides', ...p.path), message: p.message })));
  return { env: environmentFromDocument(doc, spec), updates, fromApplication: !stays };
}

/** The spec an application is at in the catalog, if it has an Application. */
export async function applicationSpec(catalog: Catalog, name: string): Promise<AppSpec | undefined> {
  const application = await catalog.applications.get(name);
  return application && (await catalog.revisions.require(application.currentRevision)).spec;
}

/** The environments that take the application's changes directly. */
export async function trackingEnvironments(catalog: Pick<Catalog, 'environments'>, application: string): Promise<EnvironmentRecord[]> {
  return (await catalog.environments.list({ application })).filter((e) => e.updates === 'track');
}

export interface CarriedChange {
  environment: string;
  operationId?: string;
  /** Why no deploy was started. */
  message?: string;
}

/**
 * Deploys an applied change to the tracking environments that run (one never deployed waits
 * for its first `flotilla deploy`). A deploy that cannot start (the environment is busy, a
 * freeze window) is said, not thrown: the change itself is applied.
 */
export async function carryToTracking(deps: ApiDeps, environments: readonly string[], by: string): Promise<CarriedChange[]> {
  const carried: CarriedChange[] = [];
  for (const name of environments) {
    const env = await deps.catalog.environments.get(name);
    if (!env?.deployed || env.deployed.revision === env.currentRevision) continue;
    if (env.stopped) {
      carried.push({ environment: name, message: 'not deployed: it is stopped (flotilla start, then flotilla deploy)' });
      continue;
    }
    try {
      carried.push({ environment: name, operationId: await deploy(deps, env, undefined, by) });
    } catch (error) {
      if (!(error instanceof ApiError || error instanceof EnvironmentBusyError || error instanceof OperationAlreadyRunningError)) throw error;
      carried.push({ environment: name, message: `not deployed: ${error.message}` });
    }
  }
  return carried;
}

export async function applicationView(catalog: Catalog, application: ApplicationRecord) {
  const environments = await catalog.environments.list({ application: application.name });
  return {
    ...application,
    environments: environments.map((e) => ({
      name: e.binding.name, tier: e.binding.tier, cluster: e.binding.cluster, updates: e.updates,
      ...(e.currentRevision ? { currentRevision: e.currentRevision } : {}), ...(e.deployed ? { deployedRevision: e.deployed.revision } : {}),
    })),
  };
}

/** Removes an application that no environment names (409 naming them otherwise). */
export async function removeApplication(catalog: Catalog, name: string): Promise<void> {
  await catalog.applications.require(name);
  const users = (await catalog.environments.list({ application: name })).map((e) => e.binding.name);
  if (users.length > 0) {
    throw new ApiError(409, 'application_in_use', `application "${name}" is used by ${users.length} environment(s): ${users.join(', ')}; tear them down first`);
  }
  await catalog.applications.remove(name);
}

/** "documents[2].spec.app" for document i of n. */
export function documentPath(count: number, i: number, ...path: Path): string {
  return formatPath([...(count > 1 ? [`documents[${i}]`] : []), ...path]);
}
