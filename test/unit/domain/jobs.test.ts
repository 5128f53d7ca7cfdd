// An application's jobs: what the spec accepts (names, schedules, references, with field
// paths), that a spec without jobs keeps its revision id, the CronJob and lifecycle Job
// manifests (written out by hand), and the rules judging their images and limits.
import { describe, expect, it } from 'vitest';
import { detectDrift, type LiveManifest } from '../../../domain/drift.js';
import { AppSpec, type AppSpecInput, cronScheduleProblem, type EnvironmentBinding } from '../../../domain/environment.js';
import { hooksOf, runSuffix } from '../../../domain/jobs.js';
import { render, renderLifecycleJobs } from '../../../domain/render.js';
import { revisionOf } from '../../../domain/revision.js';
import { evaluateRules, Rules } from '../../../domain/rules.js';

const binding: EnvironmentBinding = { name: 'shop-dev', application: 'shop', tier: 'dev', cluster: 'eu-1', namespace: 'shop-dev' };
const overrides = { replicas: {}, resources: {}, hostnames: {}, config: {} };
const base: AppSpecInput = {
  services: [{ name: 'web', image: 'registry.example/web:1.0.0' }],
  databases: [{ name: 'orders-db', mode: 'container', engine: 'postgres', version: '16' }],
  config: { LOG_LEVEL: 'info' },
  secrets: ['API_TOKEN'],
};
const issues = (input: unknown) => {
  const parsed = AppSpec.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const common = { 'flotilla.dev/environment': 'shop-dev', 'flotilla.dev/application': 'shop', 'app.kubernetes.io/managed-by': 'flotilla' };

describe('jobs in the spec', () => {
  it('a spec without jobs keeps the revision id it had (the fields are optional with no default)', () => {
    const spec = AppSpec.parse(base);
    expect(spec).not.toHaveProperty('jobs');
    expect(spec).not.toHaveProperty('cronJobs');
    // The revision id of this spec before jobs existed (computed with the code of the commit before them).
    expect(revisionOf(spec)).toBe('sha256:b7ac599e4442fbaa85375229e3728daaad1664dda68a4d689abd59f58c4acbaa');
    expect(revisionOf(AppSpec.parse({ ...base, jobs: [] }))).not.toBe(revisionOf(spec));
  });

  it('accepts CronJobs and lifecycle jobs', () => {
    expect(issues({
      ...base,
      cronJobs: [{ name: 'nightly-report', schedule: '30 2 * * MON-FRI', timeZone: 'Europe/Paris', image: 'registry.example/report:2', env: { LEVEL: { config: 'LOG_LEVEL' } } }],
      jobs: [{ name: 'seed', hook: 'beforeDeploy', image: 'registry.example/seed:1', command: ['seed'], env: { TOKEN: { secret: 'API_TOKEN' } } }],
    })).toEqual([]);
  });

  it('refuses names taken by services, databases or other jobs; undeclared config and secrets; bad schedules and time zones — with their field paths', () => {
    expect(issues({
      ...base,
      cronJobs: [
        { name: 'web', schedule: '* * * * *', image: 'x:1' },
        { name: 'report', schedule: '61 * * * *', image: 'x:1', timeZone: 'Paris time' },
        { name: 'cleanup', schedule: '0 0 * *', image: 'x:1', env: { A: { config: 'NOPE' } } },
      ],
      jobs: [
        { name: 'orders-db', hook: 'afterDeploy', image: 'x:1', command: ['a'] },
        { name: 'report', hook: 'beforeStop', image: 'x:1', command: ['a'], env: { B: { secret: 'MISSING' } } },
        { name: 'x', hook: 'beforeLunch', image: 'x:1', command: ['a'] },
      ],
    })).toEqual([
      'cronJobs.1.schedule: not a cron schedule: minute "61": each value must be 0-59',
      'cronJobs.1.timeZone: must be an IANA time zone such as "Europe/Paris"',
      'cronJobs.2.schedule: not a cron schedule: needs 5 fields (minute hour day-of-month month day-of-week), has 4',
      'jobs.2.hook: Invalid option: expected one of "beforeDeploy"|"afterDeploy"|"beforeStop"|"beforeTeardown"',
    ]);
    expect(issues({
      ...base,
      cronJobs: [{ name: 'web', schedule: '* * * * *', image: 'x:1' }, { name: 'cleanup', schedule: '0 0 * * *', image: 'x:1', env: { A: { config: 'NOPE' } } }],
      jobs: [
        { name: 'orders-db', hook: 'afterDeploy', image: 'x:1', command: ['a'] },
        { name: 'cleanup', hook: 'beforeStop', image: 'x:1', command: ['a'], env: { B: { secret: 'MISSING' } } },
      ],
    })).toEqual([
      'cronJobs.0.name: duplicate name "web"',
      'cronJobs.1.env.A.config: config key "NOPE" is not declared in config',
      'jobs.0.name: duplicate name "orders-db"',
      'jobs.1.name: duplicate name "cleanup"',
      'jobs.1.env.B.secret: secret "MISSING" is not declared in secrets',
    ]);
  });

  it.each([
    ['*/15 * * * *', undefined], ['0 0 1,15 * ?', undefined], ['0 9-17/2 * JAN-MAR sun', undefined], ['@daily', undefined],
    ['@every 5m', 'unknown macro "@every 5m" (one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)'],
    ['* 24 * * *', 'hour "24": each value must be 0-23'],
    ['* * 0 * *', 'day of month "0": each value must be 1-31'],
    ['* * * FOO *', 'month "FOO": each value must be 1-12 or a name (JAN…)'],
    ['*/0 * * * *', 'minute "*/0": bad step'],
  ])('schedule %s', (schedule, problem) => {
    expect(cronScheduleProblem(schedule)).toBe(problem);
  });

  it('job names leave room for the suffixes (at most 40 characters)', () => {
    expect(issues({ ...base, jobs: [{ name: 'a'.repeat(41), hook: 'afterDeploy', image: 'x:1', command: ['a'] }] }))
      .toEqual(['jobs.0.name: must be at most 40 characters (room for the suffixes Kubernetes and Flotilla add)']);
  });
});

describe('rendering jobs', () => {
  const spec = AppSpec.parse({
    ...base,
    cronJobs: [
      {
        name: 'report', schedule: '0 3 * * *', timeZone: 'Europe/Paris', image: 'registry.example/report:2', command: ['report'], args: ['--since', '1d'],
        env: { TOKEN: { secret: 'API_TOKEN' }, MODE: 'full', LEVEL: { config: 'LOG_LEVEL' } },
        resources: { limits: { memory: '256Mi', cpu: '500m' } },
        concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 2, suspend: false,
      },
      { name: 'cleanup', schedule: '@hourly', image: 'registry.example/cleanup:1' },
    ],
    jobs: [
      { name: 'seed', hook: 'beforeDeploy', image: 'registry.example/seed:1', command: ['seed', '--all'], env: { TOKEN: { secret: 'API_TOKEN' } }, timeoutSeconds: 120 },
      { name: 'smoke', hook: 'afterDeploy', image: 'registry.example/smoke:1', command: ['smoke'], backoffLimit: 1 },
      { name: 'backup', hook: 'beforeTeardown', image: 'registry.example/backup:1', command: ['backup'] },
    ],
  });
  const revision = revisionOf(spec);
  const short = revision.replace(/^sha256:/, '').slice(0, 12);

  it('CronJobs are part of the revision, sorted by name, after the workloads; lifecycle Jobs are not', () => {
    const manifests = render({ binding, spec, overrides, revision });
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).slice(-2)).toEqual(['CronJob/cleanup', 'CronJob/report']);
    expect(manifests.filter((m) => m.kind === 'Job')).toEqual([]);
    expect(manifests.find((m) => m.metadata.name === 'report')).toEqual({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: {
        name: 'report',
        namespace: 'shop-dev',
        labels: { ...common, 'app.kubernetes.io/name': 'report', 'app.kubernetes.io/component': 'cronjob', 'flotilla.dev/revision': short },
      },
      spec: {
        schedule: '0 3 * * *',
        timeZone: 'Europe/Paris',
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 2,
        suspend: false,
        jobTemplate: {
          metadata: { labels: { ...common, 'app.kubernetes.io/name': 'report', 'app.kubernetes.io/component': 'cronjob' } },
          spec: {
            template: {
              metadata: { labels: { ...common, 'app.kubernetes.io/name': 'report', 'app.kubernetes.io/component': 'cronjob' } },
              spec: {
                restartPolicy: 'Never',
                containers: [{
                  name: 'report',
                  image: 'registry.example/report:2',
                  command: ['report'],
                  args: ['--since', '1d'],
                  env: [
                    { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'shop-config', key: 'LOG_LEVEL' } } },
                    { name: 'MODE', value: 'full' },
                    { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'shop-secrets', key: 'API_TOKEN' } } },
                  ],
                  resources: { limits: { cpu: '500m', memory: '256Mi' } },
                }],
              },
            },
          },
        },
      },
    });
    // What the spec leaves out, Kubernetes defaults.
    expect(manifests.find((m) => m.metadata.name === 'cleanup')?.spec).toEqual({
      schedule: '@hourly',
      jobTemplate: {
        metadata: { labels: { ...common, 'app.kubernetes.io/name': 'cleanup', 'app.kubernetes.io/component': 'cronjob' } },
        spec: {
          template: {
            metadata: { labels: { ...common, 'app.kubernetes.io/name': 'cleanup', 'app.kubernetes.io/component': 'cronjob' } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'cleanup', image: 'registry.example/cleanup:1', env: [] }] },
          },
        },
      },
    });
  });

  it('a deploy hook\'s Job is named by the revision, with its timeout as activeDeadlineSeconds and no TTL', () => {
    expect(renderLifecycleJobs({ binding, spec, revision, hook: 'beforeDeploy', runId: 'ignored' })).toEqual([{
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: `seed-${short}`,
        namespace: 'shop-dev',
        labels: { ...common, 'app.kubernetes.io/name': 'seed', 'app.kubernetes.io/component': 'job', 'flotilla.dev/revision': short, 'flotilla.dev/hook': 'beforeDeploy' },
      },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 120,
        template: {
          metadata: { labels: { ...common, 'app.kubernetes.io/name': 'seed', 'app.kubernetes.io/component': 'job', 'flotilla.dev/hook': 'beforeDeploy' } },
          spec: {
            restartPolicy: 'Never',
            containers: [{
              name: 'seed',
              image: 'registry.example/seed:1',
              command: ['seed', '--all'],
              env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'shop-secrets', key: 'API_TOKEN' } } }],
            }],
          },
        },
      },
    }]);
    expect(renderLifecycleJobs({ binding, spec, revision, hook: 'afterDeploy' })[0]?.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 600 });
    expect(renderLifecycleJobs({ binding, spec, revision, hook: 'beforeStop' })).toEqual([]);
  });

  it('a run-once hook\'s Job is new for each operation and deleted a day after it finishes', () => {
    const [job] = renderLifecycleJobs({ binding, spec, revision, hook: 'beforeTeardown', runId: 'teardown-shop-dev-1' });
    const suffix = runSuffix('teardown-shop-dev-1');
    expect(suffix).toMatch(/^[0-9a-z]{7}$/);
    expect(runSuffix('teardown-shop-dev-2')).not.toBe(suffix);
    expect(job?.metadata.name).toBe(`backup-${short}-${suffix}`);
    expect(job?.metadata.name.length).toBeLessThanOrEqual(63 - 6); // the controller's pod suffix still fits
    expect(job?.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 86_400 });
    expect(hooksOf(spec.jobs)).toEqual(['beforeDeploy', 'afterDeploy', 'beforeTeardown']);
  });

  it('the rules judge job and CronJob images and limits as they judge services\'', () => {
    const withLatest = AppSpec.parse({
      ...base,
      services: [{ name: 'web', image: 'registry.example/web:1.0.0', resources: { limits: { cpu: '1', memory: '1Gi' } } }],
      cronJobs: [{ name: 'report', schedule: '@daily', image: 'docker.io/report:latest', resources: { limits: { cpu: '1', memory: '1Gi' } } }],
      jobs: [{ name: 'seed', hook: 'beforeDeploy', image: 'registry.example/seed', command: ['seed'], resources: { limits: { cpu: '1' } } }],
    });
    const verdict = evaluateRules(
      Rules.parse({ requireResourceLimits: {}, forbidLatestTag: {}, allowedRegistries: { registries: ['registry.example'] } }),
      { kind: 'deploy', at: '2026-12-07T00:00:00Z', targets: [{ binding, spec: withLatest, overrides, cluster: { name: 'eu-1', labels: { tier: 'dev' } } }] },
    );
    expect(verdict.violations.map((v) => `${v.rule} ${v.object} ${v.field}`)).toEqual([
      'allowedRegistries cronjob/shop-dev/report spec.app.cronJobs[0].image',
      'forbidLatestTag cronjob/shop-dev/report spec.app.cronJobs[0].image',
      'requireResourceLimits job/shop-dev/seed spec.app.jobs[0].resources.limits.memory',
      'forbidLatestTag job/shop-dev/seed spec.app.jobs[0].image',
    ]);
  });

  it('drift compares CronJobs: the API server\'s defaults are none, a schedule edited by hand is', () => {
    const [cron] = render({ binding, spec: AppSpec.parse({ ...base, cronJobs: [{ name: 'cleanup', schedule: '@hourly', image: 'registry.example/cleanup:1' }] }), overrides, revision })
      .filter((m) => m.kind === 'CronJob');
    const container = { name: 'cleanup', image: 'registry.example/cleanup:1', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} };
    const live = (schedule: string): LiveManifest => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { ...cron!.metadata, uid: 'u1', resourceVersion: '7', generation: 1, creationTimestamp: '2026-12-07T00:00:00Z' },
      spec: {
        schedule, concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1,
        jobTemplate: {
          metadata: (cron!.spec as { jobTemplate: { metadata: unknown } }).jobTemplate.metadata,
          spec: {
            template: {
              metadata: (cron!.spec as { jobTemplate: { spec: { template: { metadata: unknown } } } }).jobTemplate.spec.template.metadata,
              spec: { restartPolicy: 'Never', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {}, terminationGracePeriodSeconds: 30, containers: [container] },
            },
          },
        },
      },
      status: { lastScheduleTime: '2026-12-07T01:00:00Z' },
    } as unknown as LiveManifest);
    expect(detectDrift({ expected: [cron!], live: [live('@hourly')] })).toEqual([]);
    expect(detectDrift({ expected: [cron!], live: [live('* * * * *')] })).toEqual([{
      kind: 'CronJob', namespace: 'shop-dev', name: 'cleanup', reason: 'modified', fields: [{ path: 'spec.schedule', expected: '@hourly', actual: '* * * * *' }],
    }]);
    expect(detectDrift({ expected: [cron!], live: [] })).toEqual([{ kind: 'CronJob', namespace: 'shop-dev', name: 'cleanup', reason: 'deleted', fields: [] }]);
  });
});
