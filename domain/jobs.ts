// The application's jobs as Kubernetes objects: its CronJobs (part of every revision's render)
// and its lifecycle jobs (rendered per hook, applied and waited for by the workflows at that
// moment). Pure: render.ts gives the names, labels and env wiring (JobContext).
import type { CronJob, LifecycleHook, LifecycleJob } from './environment.js';
import { sortKeys } from './canonical.js';
import { LABEL } from './labels.js';
import type { Manifest } from './manifest.js';

/** How long a lifecycle job may run when it sets no timeoutSeconds (its activeDeadlineSeconds). */
export const DEFAULT_JOB_TIMEOUT_SECONDS = 600;
/** Retries of a lifecycle job's failed pod when it sets no backoffLimit. */
export const DEFAULT_JOB_BACKOFF_LIMIT = 0;
/** How long Kubernetes keeps a finished run-once job (beforeStop, beforeTeardown) before deleting it. */
export const RUN_JOB_TTL_SECONDS = 86_400;

/** On a lifecycle Job: the hook it runs at. */
export const HOOK_LABEL = 'flotilla.dev/hook';

/** Hooks of a deploy: their jobs are named by revision only, so a deploy of the same revision again finds them done. */
export const DEPLOY_HOOKS: readonly LifecycleHook[] = ['beforeDeploy', 'afterDeploy'];

/** What render.ts knows that a job's manifest needs. */
export interface JobContext {
  namespace: string;
  /** The short revision id, in names and labels. */
  revision: string;
  /** Labels every object and pod of the environment carries (environment, application, managed-by). */
  common: Record<string, string>;
  /** A container's env from a job's `env` (literals, config keys, secrets), sorted by name. */
  env: (env: CronJob['env']) => Record<string, unknown>[];
}

/** `<name>-<revision>`, and `-<run>` for a job that runs once per operation (beforeStop, beforeTeardown). */
export function lifecycleJobName(job: string, revision: string, run?: string): string {
  return run === undefined ? `${job}-${revision}` : `${job}-${revision}-${run}`;
}

/** A short, name-safe suffix for one run (an operation id can be long and hold any characters). */
export function runSuffix(runId: string): string {
  // FNV-1a, 32 bits, base 36: deterministic and pure (no crypto needed for a name).
  let hash = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    hash ^= runId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0');
}

function container(name: string, job: Pick<CronJob, 'image' | 'command' | 'args' | 'env' | 'resources'>, ctx: JobContext): Record<string, unknown> {
  return {
    name,
    image: job.image,
    ...(job.command ? { command: job.command } : {}),
    ...(job.args ? { args: job.args } : {}),
    env: ctx.env(job.env),
    ...(job.resources ? { resources: sortKeys(job.resources) } : {}),
  };
}

const podLabels = (ctx: JobContext, name: string, component: string) => ({ ...ctx.common, [LABEL.name]: name, [LABEL.component]: component });
const objectLabels = (ctx: JobContext, name: string, component: string) => ({ ...podLabels(ctx, name, component), [LABEL.revision]: ctx.revision });

/** A CronJob of the spec: batch/v1, with Flotilla's labels on it, its jobs and their pods; what the spec leaves out, Kubernetes defaults. */
export function cronJobManifest(cron: CronJob, ctx: JobContext): Manifest {
  const labels = podLabels(ctx, cron.name, 'cronjob');
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: cron.name, namespace: ctx.namespace, labels: objectLabels(ctx, cron.name, 'cronjob') },
    spec: {
      schedule: cron.schedule,
      ...(cron.timeZone ? { timeZone: cron.timeZone } : {}),
      ...(cron.concurrencyPolicy ? { concurrencyPolicy: cron.concurrencyPolicy } : {}),
      ...(cron.successfulJobsHistoryLimit !== undefined ? { successfulJobsHistoryLimit: cron.successfulJobsHistoryLimit } : {}),
      ...(cron.failedJobsHistoryLimit !== undefined ? { failedJobsHistoryLimit: cron.failedJobsHistoryLimit } : {}),
      ...(cron.suspend !== undefined ? { suspend: cron.suspend } : {}),
      jobTemplate: {
        metadata: { labels },
        spec: {
          template: {
            metadata: { labels },
            spec: { restartPolicy: 'Never', containers: [container(cron.name, cron, ctx)] },
          },
        },
      },
    },
  };
}

/**
 * A lifecycle job as a batch/v1 Job: its container is named after the job (so its pods' logs
 * are found by name), activeDeadlineSeconds is its timeout, it is not retried unless it says.
 * A run-once job (with `run`) is deleted by Kubernetes a day after it finishes; a deploy's is
 * kept until a later revision's deploy prunes it (as migrations are).
 */
export function lifecycleJobManifest(job: LifecycleJob, ctx: JobContext, run?: string): Manifest {
  const name = lifecycleJobName(job.name, ctx.revision, run);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: ctx.namespace,
      labels: { ...objectLabels(ctx, job.name, 'job'), [HOOK_LABEL]: job.hook },
    },
    spec: {
      backoffLimit: job.backoffLimit ?? DEFAULT_JOB_BACKOFF_LIMIT,
      activeDeadlineSeconds: job.timeoutSeconds ?? DEFAULT_JOB_TIMEOUT_SECONDS,
      ...(run !== undefined ? { ttlSecondsAfterFinished: RUN_JOB_TTL_SECONDS } : {}),
      template: {
        metadata: { labels: { ...podLabels(ctx, job.name, 'job'), [HOOK_LABEL]: job.hook } },
        spec: { restartPolicy: 'Never', containers: [container(job.name, job, ctx)] },
      },
    },
  };
}

/** The spec's jobs for one hook, in the order written. */
export function jobsFor(jobs: readonly LifecycleJob[] | undefined, hook: LifecycleHook): LifecycleJob[] {
  return (jobs ?? []).filter((j) => j.hook === hook);
}

/** The hooks the spec has jobs for, in LIFECYCLE_HOOKS order. */
export function hooksOf(jobs: readonly LifecycleJob[] | undefined): LifecycleHook[] {
  const present = new Set((jobs ?? []).map((j) => j.hook));
  return (['beforeDeploy', 'afterDeploy', 'beforeStop', 'beforeTeardown'] as const).filter((h) => present.has(h));
}
