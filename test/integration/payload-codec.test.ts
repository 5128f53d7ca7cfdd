// Every payload Temporal stores is encrypted (temporal/payload-codec.ts): a real promotion on
// the tier's Temporal server, through the codec-enabled client and an in-process worker (its
// activities read and write the catalog, an approval stage is rejected by an update, so no
// cluster is touched), read back with the temporal CLI (what anyone with access to Temporal
// sees): every payload is binary/encrypted under the tier's active key, and the environments'
// names are nowhere in the history. The API's codec endpoint gives the plaintext back to an admin — directly, and to the
// temporal CLI's own codec client (--codec-endpoint) — and refuses a viewer.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readKeyRingFile } from '../../temporal/key-ring.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { promotionStateQuery, rejectUpdate } from '../../workflows/messages.js';
import { promote } from '../../workflows/promote.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { startLiveApi, type LiveApi } from '../support/live-api.js';
import { createEnvironments, shopSpec } from '../support/promotion-env.js';
import { encodingOf, type JsonPayload, payloadEntries, payloadsOf, tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const exec = promisify(execFile);
const temporal = inject('toolchain').temporal;
const address = inject('temporalAddress');
const namespace = inject('temporalNamespace');
const [a, b] = inject('clusters') as [ReturnType<typeof inject<'clusters'>>[number], ReturnType<typeof inject<'clusters'>>[number]];
const run = Math.random().toString(36).slice(2, 8);
/** The known inputs: only the workflow's payloads carry them (the workflow id and task queue do not). */
const envName = `sealed-${run}`;
const target = `sealed-target-${run}`;
const workflowId = `codec-it-${Math.random().toString(36).slice(2, 8)}`;
const taskQueue = `codec-it-${Math.random().toString(36).slice(2, 8)}`;

const show = async (...extra: string[]) =>
  (await exec(temporal, ['workflow', 'show', '--address', address, '--namespace', namespace, '-w', workflowId, '-o', 'json', ...extra], { maxBuffer: 64 * 1024 * 1024 })).stdout;
const text = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

describe('payload encryption on the real Temporal server', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let rawHistory = '';

  beforeAll(async () => {
    tc = await testCatalog([a, b]);
    await createEnvironments(tc.catalog, [{ name: envName, tier: 'prod', cluster: a.name }, { name: target, tier: 'prod', cluster: b.name }], shopSpec('1.0.0', ['web']));
    client = await tierClient();
    // The worker takes its key ring from FLOTILLA_PAYLOAD_KEYS, as worker/main.ts does.
    worker = await runFlotillaWorker({ address, namespace, taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue);
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await client?.connection.close();
    await tc?.close();
  });

  it('a promotion runs to its end with every payload encrypted under the active key, and its inputs nowhere in plaintext', async () => {
    const handle = await client.workflow.start(promote, {
      taskQueue, workflowId, args: [{ source: envName, stages: [{ name: 'prod', targets: [target], approval: true }], requestedBy: 'codec-requester' }],
    });
    // Query, update and result: each answer is encrypted by the worker and read by this client.
    for (let i = 0; (await handle.query(promotionStateQuery)).phase !== 'awaiting-approval'; i++) {
      if (i > 600) throw new Error('the promotion never reached its approval stage');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const afterReject = await handle.executeUpdate(rejectUpdate, { args: [{ by: 'codec-approver', role: 'release-manager', comment: `not now, ${envName}` }] });
    expect(afterReject.stages[0]!.targets[0]!.environment).toBe(target);
    expect(await handle.result()).toMatchObject({ source: envName, outcome: 'rejected' });

    rawHistory = await show();
    const history = JSON.parse(rawHistory) as { events: Record<string, { markerName?: string }>[] };
    // The SDK's own bookkeeping, written by its core without the codec: the patch markers and
    // the TemporalChangeVersion search attribute hold patch ids (workflows/patches.ts), no data;
    // a local activity's marker data says which activity ran when (its result is a payload like
    // any other, encrypted; its input is never in the history).
    const markerOf = (path: string) => history.events[Number(path.split('.')[1])]!.markerRecordedEventAttributes!.markerName;
    const sdkOwned = ({ path }: { path: string }) =>
      /^events\.\d+\.upsertWorkflowSearchAttributesEventAttributes\.searchAttributes\.indexedFields\.TemporalChangeVersion$/.test(path) ||
      (/^events\.\d+\.markerRecordedEventAttributes\.details\./.test(path) && markerOf(path) === 'core_patch') ||
      (/^events\.\d+\.markerRecordedEventAttributes\.details\.data\./.test(path) && markerOf(path) === 'core_local_activity');
    const entries = payloadEntries(history);
    const localActivityData = (data: string) => {
      try {
        return Object.keys(JSON.parse(data) as object).sort().join(',') === 'activity_id,activity_type,attempt,backoff,complete_time,original_schedule_time,seq';
      } catch {
        return false;
      }
    };
    expect(entries.filter(sdkOwned).filter(({ payload }) => !/^(\{"id":"[a-z-]+","deprecated":false\}|\["[a-z", -]+\])$/.test(text(payload.data)) && !localActivityData(text(payload.data))).map((e) => e.path)).toEqual([]);
    // The catalog steps did run as local activities, their results encrypted.
    expect(entries.some((e) => /markerRecordedEventAttributes\.details\.result\./.test(e.path) && markerOf(e.path) === 'core_local_activity')).toBe(true);
    const payloads = entries.filter((e) => !sdkOwned(e)).map((e) => e.payload);
    // Input, each activity's input and result, the update's input and result, the result.
    expect(payloads.length).toBeGreaterThan(10);
    const active = readKeyRingFile(inject('payloadKeys')).active;
    expect(entries.filter((e) => !sdkOwned(e) && encodingOf(e.payload) !== 'binary/encrypted').map((e) => e.path)).toEqual([]);
    expect(new Set(payloads.map((p) => `${encodingOf(p)} ${text(p.metadata?.['encryption-key-id'])}`))).toEqual(new Set([`binary/encrypted ${active}`]));
    for (const known of [envName, target, 'codec-requester', 'codec-approver', 'not now']) {
      expect(rawHistory).not.toContain(known);
      expect(payloads.map((p) => text(p.data)).join('\n')).not.toContain(known);
    }
  });

  it("the API's codec endpoint decrypts a payload of that history for an admin, and refuses a viewer", async () => {
    expect(rawHistory).not.toBe('');
    const started = (JSON.parse(rawHistory) as { events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: JsonPayload[] } } }[] })
      .events.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
    const input = started.input!.payloads![0]!;
    const res = await fetch(`${api.base}/v1/codec/decode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json', 'x-namespace': namespace },
      body: JSON.stringify({ payloads: [input] }),
    });
    expect(res.status).toBe(200);
    const [plain] = ((await res.json()) as { payloads: JsonPayload[] }).payloads;
    expect(text(plain!.metadata!.encoding)).toBe('json/plain');
    expect(JSON.parse(text(plain!.data))).toEqual({ source: envName, stages: [{ name: 'prod', targets: [target], approval: true }], requestedBy: 'codec-requester' });

    const viewer = (await tc.catalog.tokens.create({ name: `codec-viewer-${run}`, role: 'viewer' })).token;
    const refused = await fetch(`${api.base}/v1/codec/decode`, {
      method: 'POST', headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body: JSON.stringify({ payloads: [input] }),
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain(envName);
  });

  it('the temporal CLI shows the plaintext through the codec endpoint (--codec-endpoint, --codec-auth)', async () => {
    const decoded = payloadsOf(JSON.parse(await show('--codec-endpoint', `${api.base}/v1/codec`, '--codec-auth', `Bearer ${api.admin}`)));
    expect(decoded.filter((p) => encodingOf(p) === 'binary/encrypted')).toEqual([]);
    expect(JSON.parse(text(decoded[0]!.data))).toMatchObject({ source: envName, requestedBy: 'codec-requester' });
    expect(decoded.map((p) => text(p.data)).join('\n')).toContain(`not now, ${envName}`);
    const audit = await tc.catalog.audit.query({ limit: 500 });
    expect(audit.items.some((e) => e.action === 'payload.decode' && e.result === 'ok' && e.target === `temporal/${namespace}`)).toBe(true);
  });
});
