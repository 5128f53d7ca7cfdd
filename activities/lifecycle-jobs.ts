// The lifecycle-job activity: run the jobs of one hook of an environment's revision and wait for
// them. Built by activities/deploy.ts over its helpers (load, render with secrets, apply into the
// environment's namespace), so the jobs see the same ConfigMap and Secret as its services.
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Environment, LifecycleHook } from '../domain/environment.js';
import { DEFAULT_JOB_TIMEOUT_SECONDS, DEPLOY_HOOKS } from '../domain/jobs.js';
import type { Manifest } from '../domain/manifest.js';
import type { RenderedChart } from '../domain/chart-objects.js';
import type { AppliedObject } from '../providers/kubernetes/apply.js';
import type { KubeClient } from '../providers/kubernetes/client.js';
import { clearFailedJobs, jobLogTail, type JobRef } from '../providers/kubernetes/jobs.js';
import { JobFailedError, RolloutFailedError, RolloutTimeoutError, waitForRollouts } from '../providers/kubernetes/rollout.js';
import type { Catalog } from '../store/catalog.js';
import type { LifecycleJobActivities } from './lifecycle-jobs-types.js';

export interface Loaded {
  environment: Environment;
  revision: string;
  overridesVersion?: number;
  manifests: Manifest[];
  /** The renders of the revision's charts (when it has charts). */
  charts?: RenderedChart[];
}

export interface LifecycleJobDeps {
  catalog: Catalog;
  load(name: string, revision?: string, overridesVersion?: number): Promise<Loaded>;
  /** The revision's manifests with its Secrets filled from the catalog. */
  materialized(loaded: Loaded): Promise<Manifest[]>;
  applyInto(binding: Environment['binding'], manifests: Manifest[], options: { force?: true }): Promise<AppliedObject[]>;
  /** The Jobs of one lifecycle moment: the spec's and its charts' Helm hooks. */
  hookJobs(loaded: Loaded, hook: LifecycleHook, runId?: string): Manifest[];
  withClient<T>(cluster: string, work: (client: KubeClient, context: Context) => Promise<T>): Promise<T>;
}

/** Lines of the failed pod's log in the failure. */
export const LOG_TAIL_LINES = 20;
/** The wait outlasts the jobs' own deadline (activeDeadlineSeconds) by this much, so Kubernetes says why first. */
const WAIT_MARGIN_SECONDS = 60;
/** How long a job's pod may sit in an image-pull loop before the hook fails. */
const STUCK_AFTER_MS = 60_000;
/**
 * What a deploy hook's jobs need in place before they run: the namespace, the ConfigMap and
 * Secrets they read, and, for a chart's hooks, its ServiceAccounts and CRDs (Helm installs CRDs
 * before any hook; a CRD the cluster refuses stops the deploy before a hook has run).
 */
const READ_BY_JOBS = new Set(['Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'CustomResourceDefinition']);

export function createLifecycleJobActivities(deps: LifecycleJobDeps): LifecycleJobActivities {
  const { catalog, load, materialized, applyInto, withClient, hookJobs } = deps;

  return {
    async runLifecycleJob({ environment, revision, overridesVersion, hook, runId, force }) {
      let target = { revision, overridesVersion };
      if (revision === undefined) {
        const deployed = (await catalog.environments.get(environment))?.deployed;
        if (!deployed) return { hook, jobs: [] };
        target = { revision: deployed.revision, overridesVersion: deployed.overridesVersion };
      }
      const loaded = await load(environment, target.revision, target.overridesVersion);
      const { binding } = loaded.environment;
      const jobs = hookJobs(loaded, hook, runId);
      if (jobs.length === 0) return { hook, revision: loaded.revision, jobs: [] };

      // A deploy hook may come before anything of the revision is there (a first deploy): it
      // brings the namespace, the ConfigMap and the Secrets its jobs read, as the databases phase
      // does. A stop or a teardown finds them in place and applies its jobs only.
      const revisionObjects = await materialized(loaded);
      const secretValues = revisionObjects.flatMap((m) => Object.values((m as { stringData?: Record<string, string> }).stringData ?? {}));
      const refs: JobRef[] = jobs.map((j) => ({ namespace: j.metadata.namespace!, name: j.metadata.name }));
      const timeoutSeconds = Math.max(...jobs.map((j) => (j.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds ?? DEFAULT_JOB_TIMEOUT_SECONDS));

      // First what the jobs read (and, on a first deploy, the namespace and the agent's binding in
      // it, without which the agent may not even look for earlier runs).
      if (DEPLOY_HOOKS.includes(hook)) await applyInto(binding, revisionObjects.filter((m) => READ_BY_JOBS.has(m.kind)), force ? { force: true } : {});
      // A run of the same name that failed (an earlier deploy of this revision) runs again; one that completed does not.
      await withClient(binding.cluster, (client, context) => clearFailedJobs(client, refs, { signal: context.cancellationSignal }));
      await applyInto(binding, jobs, force ? { force: true } : {});
      return withClient(binding.cluster, async (client, context) => {
        try {
          await waitForRollouts(client, refs.map((r) => ({ kind: 'Job' as const, ...r })), {
            timeoutMs: (timeoutSeconds + WAIT_MARGIN_SECONDS) * 1000,
            stuckAfterMs: STUCK_AFTER_MS,
            pollMs: 500,
            watch: true,
            signal: context.cancellationSignal,
            onProgress: (r) => context.heartbeat({ hook, jobs: r.map(({ name, ready, desired, problems }) => ({ name, ready, desired, ...(problems?.length ? { problems } : {}) })) }),
          });
        } catch (error) {
          if (error instanceof JobFailedError) {
            const tail = await jobLogTail(client, { namespace: error.job.namespace, name: error.job.name }, { lines: LOG_TAIL_LINES, signal: context.cancellationSignal })
              .catch((e: unknown) => ({ pod: '?', container: '?', lines: [] as string[], error: e instanceof Error ? e.message : String(e) }));
            throw failed(hook, error.job.name, error.message, tail, secretValues);
          }
          if (error instanceof RolloutFailedError) throw failed(hook, undefined, error.message, undefined, secretValues);
          if (error instanceof RolloutTimeoutError) throw failed(hook, undefined, `job timeout (${timeoutSeconds}s) passed: ${error.message}`, undefined, secretValues);
          throw error;
        }
        return { hook, revision: loaded.revision, jobs: refs.map((r) => r.name) };
      });
    },
  };
}

/** The non-retryable failure of a hook: what failed, and the last lines its pod wrote (secret values masked). */
function failed(hook: string, job: string | undefined, why: string, tail: { pod: string; lines: string[]; error?: string } | undefined, secrets: readonly string[]): ApplicationFailure {
  const mask = (text: string) => secrets.filter((v) => v.length >= 4).reduce((t, v) => t.split(v).join('***'), text);
  let message = `${hook} job failed: ${why}`;
  if (tail && tail.lines.length > 0) message += `\nlast ${tail.lines.length} line(s) of pod ${tail.pod}:\n${tail.lines.join('\n')}`;
  else if (tail?.error) message += ` (its log could not be read: ${tail.error})`;
  else if (tail) message += ` (pod ${tail.pod} wrote no log)`;
  return ApplicationFailure.create({
    message: mask(message),
    type: 'LifecycleJobFailed',
    nonRetryable: true,
    details: [{ hook, ...(job ? { job } : {}), ...(tail ? { pod: tail.pod } : {}) }],
  });
}
