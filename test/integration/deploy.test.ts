// deployEnvironment on the real dev server and a real local cluster, checked with kubectl:
// a first deploy (the database ready before the workloads change, prune last), an idempotent
// repeat, a revision that drops a service, and a refusal by rules. Each holds the environment
// while it runs, pins the overrides version it planned with, and reports to the operations index.
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { validateDocument } from '../../domain/documents.js';
import { environmentFromDocument, type AppSpecInput } from '../../domain/environment.js';
import { changeSpec, createEnvironment } from '../../store/changes.js';
import { environmentScope } from '../../store/secrets.js';
import { activityDeps } from '../../worker/deps.js';
import { createFlotillaWorker } from '../../worker/worker.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { recordHistory } from '../support/histories.js';
import { kubectlJson } from '../support/kubectl.js';
import { decryptHistory, tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const toolchain = inject('toolchain');
const cluster = inject('clusters')[1]!;
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `deploy-${run}`;
const envName = `shop-${run}`;
const STRIPE_KEY = `sk_live_${run}_do-not-leak`;

const app = (services: string[]): AppSpecInput => ({
  services: services.map((name) => ({
    name,
    image: `ghcr.io/acme/${name}:1.0.0`,
    ports: [{ port: 8080 }],
    replicas: 2,
    env: (name === 'payments' ? { STRIPE_KEY: { secret: 'STRIPE_KEY' } } : {}) as Record<string, { secret: string }>,
    resources: { limits: { cpu: '200m', memory: '128Mi' } },
    dependsOn: ['orders-db'],
  })),
  databases: [{ name: 'orders-db', mode: 'container', engine: 'postgres', version: '16.4', storage: '1Gi' }],
  config: { 'log-level': 'info' },
  secrets: ['STRIPE_KEY'],
});

interface List { items: { kind: string; metadata: { name: string; labels?: Record<string, string> } }[] }

interface HistoryJson {
  events: {
    eventType: string;
    activityTaskScheduledEventAttributes?: { activityType: { name: string }; input?: { payloads?: { data?: string }[] } };
    markerRecordedEventAttributes?: { markerName: string; details?: { data?: { payloads?: { data?: string }[] } } };
  }[];
}

/** Every payload of the (decrypted) history (inputs, results, failures' details), decoded: what a reader of the history sees. */
function decodedPayloads(json: string): string {
  const out: string[] = [];
  JSON.stringify(JSON.parse(json), (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') out.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return out.join('\n');
}

/** The activities of a history in order: activity tasks (with their phase), and local activities (their markers) as "NAME (local)". */
function scheduled(json: string): string[] {
  const local = (e: HistoryJson['events'][number]) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
  return (JSON.parse(json) as HistoryJson).events
    .filter((e) => e.activityTaskScheduledEventAttributes || local(e))
    .map((e) => {
      if (local(e)) {
        const data = e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data!;
        return `${(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { activity_type: string }).activity_type} (local)`;
      }
      const a = e.activityTaskScheduledEventAttributes!;
      const data = a.input?.payloads?.[0]?.data;
      const phase = data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { phase?: string }).phase : undefined;
      return phase ? `${a.activityType.name}:${phase}` : a.activityType.name;
    });
}

describe('deployEnvironment', () => {
  let tc: TestCatalog;
  let client: Client;

  beforeAll(async () => {
    tc = await testCatalog([cluster]);
    client = await tierClient();
    const doc = validateDocument({
      apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name: envName },
      spec: { application: 'shop', tier: 'staging', cluster: cluster.name, app: app(['web', 'payments', 'email']), overrides: { replicas: { web: 3 } } },
    });
    if (!doc.ok || doc.value.kind !== 'Environment') throw new Error(JSON.stringify(doc));
    const env = environmentFromDocument(doc.value);
    await createEnvironment(tc.catalog, { binding: env.binding, spec: env.spec, overrides: env.overrides, author: 'alice' });
    await tc.catalog.secrets.put(environmentScope(envName), 'STRIPE_KEY', STRIPE_KEY);
  });
  afterAll(async () => {
    await client?.connection.close();
    await tc?.close();
  });

  async function deploy(workflowId: string) {
    const { worker, connection } = await createFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue,
      deps: activityDeps({ catalog: tc.catalog, adapters: {} }),
    });
    try {
      return await worker.runUntil(async () => {
        const handle = await client.workflow.start(deployEnvironment, { taskQueue, workflowId, args: [{ environment: envName, requestedBy: 'alice', rolloutTimeoutSeconds: 120 }] });
        const result = await handle.result().catch((e: unknown) => e);
        if (process.env.FLOTILLA_RECORD_HISTORIES && workflowId.endsWith('-3')) await recordHistory('deploy-environment-prune', handle);
        // Payloads are encrypted in Temporal; what follows reads them as the codec endpoint would show them.
        return { result, history: JSON.stringify(await decryptHistory(JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown)) };
      });
    } finally {
      await connection.close();
    }
  }

  const managed = async () =>
    (await kubectlJson<List>(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'deployments,statefulsets,services,configmaps,secrets', '-n', envName, '-l', `flotilla.dev/environment=${envName}`]))
      .items.map((o) => `${o.kind}/${o.metadata.name}`).sort();

  it('renders, applies and waits: every object runs, secrets come from the catalog and never enter the history', async () => {
    const { result, history } = await deploy(`deploy-${envName}-1`);
    expect(result).toMatchObject({ environment: envName, cluster: cluster.name, changed: true, pruned: [] });
    expect(await managed()).toEqual([
      'ConfigMap/shop-config', 'Deployment/email', 'Deployment/payments', 'Deployment/web',
      'Secret/orders-db-credentials', 'Secret/shop-secrets', 'Service/email', 'Service/orders-db', 'Service/payments', 'Service/web', 'StatefulSet/orders-db',
    ]);
    const web = await kubectlJson<{ spec: { replicas: number }; status: { readyReplicas: number } }>(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'deployment', 'web', '-n', envName]);
    expect(web.spec.replicas).toBe(3);
    expect(web.status.readyReplicas).toBe(3);
    const secret = await kubectlJson<{ data: Record<string, string> }>(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'secret', 'shop-secrets', '-n', envName]);
    expect(Buffer.from(secret.data.STRIPE_KEY!, 'base64').toString()).toBe(STRIPE_KEY);
    // The history holds names, revisions and versions only: no secret value, decoded or not.
    const payloads = decodedPayloads(history);
    expect(payloads).toContain(envName);
    expect(payloads).not.toContain(STRIPE_KEY);
    expect(payloads).not.toContain(Buffer.from(STRIPE_KEY).toString('base64'));
    expect(history).not.toContain(Buffer.from(STRIPE_KEY).toString('base64'));
    // The database is applied and ready before the workloads change; what to prune is looked for
    // during the rollout wait (nothing, on a first deploy: no prune step). The catalog steps are
    // local activities, in the workflow tasks around the cluster steps.
    expect(scheduled(history)).toEqual([
      'acquireEnvironments (local)', 'reportOperation (local)', 'planDeploy (local)',
      'applyRevision:databases', 'waitForRevision:databases', 'applyRevision:all', 'waitForRevision:all', 'findPrunable',
      // The environment is freed before the end is reported: whoever sees the end may change it at
      // once; freed by an activity task, which fixes how the deploy ends before anything is freed.
      'recordDeployment (local)', 'releaseEnvironments', 'reportOperation (local)',
    ]);
    const record = await tc.catalog.environments.require(envName);
    // Deployed with the overrides version it planned with (the first one).
    expect(record.deployed).toMatchObject({ revision: record.currentRevision, by: 'alice', overridesVersion: 1 });
    expect(await tc.catalog.operations.require(`deploy-${envName}-1`)).toMatchObject({ kind: 'deploy', state: 'completed', outcome: 'completed', environments: [envName] });
    expect(await tc.catalog.locks.heldBy([envName])).toEqual([]);
  });

  it('changes nothing when the same revision is deployed again', async () => {
    const { result } = await deploy(`deploy-${envName}-2`);
    expect(result).toMatchObject({ changed: false, pruned: [], applied: { created: 0 } });
    expect((result as { applied: { configured: number } }).applied.configured).toBe(0);
  });

  it('removes exactly the objects of a service the new revision drops', async () => {
    await changeSpec(tc.catalog, envName, app(['web', 'payments']), { author: 'bob' });
    const { result } = await deploy(`deploy-${envName}-3`);
    expect((result as { pruned: string[] }).pruned.sort()).toEqual([`Deployment/${envName}/email`, `Service/${envName}/email`]);
    const objects = await managed();
    expect(objects).not.toContain('Deployment/email');
    expect(objects).not.toContain('Service/email');
    expect(objects).toContain('Deployment/web');
  });

  it('refuses a deploy that breaks organisation rules, listing each violation, and changes nothing', async () => {
    await tc.catalog.rules.put({ allowedRegistries: { registries: ['registry.internal'] } }, { by: 'admin' });
    const before = await managed();
    const recordBefore = await tc.catalog.environments.require(envName);
    const { result } = await deploy(`deploy-${envName}-4`);
    expect(result).toBeInstanceOf(WorkflowFailedError);
    let cause: unknown = result;
    while (cause instanceof Error && cause.cause) cause = cause.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('RuleViolation');
    expect((cause as ApplicationFailure).details?.[0]).toHaveLength(2);
    expect(await managed()).toEqual(before);
    expect(await tc.catalog.environments.require(envName)).toMatchObject({ deployed: recordBefore.deployed, currentRevision: recordBefore.currentRevision });
    // A refusal is a failed deploy: the index says so (with why), and the environment is free again.
    const op = await tc.catalog.operations.require(`deploy-${envName}-4`);
    expect(op).toMatchObject({ kind: 'deploy', state: 'failed', outcome: 'failed' });
    expect(op.message).toMatch(/^refused by organisation rules: allowedRegistries/);
    expect(await tc.catalog.locks.heldBy([envName])).toEqual([]);
  });
});
