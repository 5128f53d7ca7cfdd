// The fleet dashboard (web/, built to web/dist and served by the API) in headless Chromium,
// against the real API, worker, observer process and Temporal dev server over a real catalog
// and two real clusters: the login screen (a refused token says so, a revoked one brings it
// back); the grid shows every cluster and environment with its health, and filters; a hand edit
// (kubectl scale) turns its cell to drift without a reload (also by polling when the event
// stream is cut), and the environment page shows the field, the values and who changed them; an
// environment's logs are tailed live; a viewer sees a waiting promotion but no Approve button;
// a release-manager other than the requester approves it from the dashboard and it completes.
// FLOTILLA_SCREENSHOTS=DIR saves the grid, an environment page, the running promotion and the
// operations there (`FLOTILLA_SCREENSHOTS=docs npx vitest run --project integration test/browser` refreshes the README's).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultWebRoot } from '../../api/app.js';
import { FAULT_IMAGES } from '../../local/kwok-faults.js';
import { appendLogLines, serviceLogFile } from '../../local/pod-logs.js';
import { createEnvironment } from '../../store/changes.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { dashboardContext, launchChromium } from '../support/browser.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { startObserverProcess, type WorkerProcess as ObserverProcess } from '../support/worker-process.js';
import { createEnvironments, deployAll, setSpec, shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');
type Cluster = ReturnType<typeof inject<'clusters'>>[number];
const [us, eu] = inject('clusters') as [Cluster, Cluster];
const run = Math.random().toString(36).slice(2, 6);
const taskQueue = `browser-${run}`;
const staging = 'shop-staging';
const prodUs = 'shop-prod-us';
const prodEu = 'shop-prod-eu';
const billing = 'billing-dev';
/** A dev environment whose second revision's search service crash-loops (a KWOK fault image): that deploy fails, its tile is red. */
const search = 'search-dev';
const TEMPORAL_UI = 'http://127.0.0.1:8233';
const shots = process.env.FLOTILLA_SCREENSHOTS;

interface PromotionBody { phase: string; stages: { name: string; phase: string; approval?: { approvedBy?: string } }[] }

describe('the fleet dashboard', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let observer: ObserverProcess;
  let browser: Browser;
  const tokens = { alice: '', bob: '', vera: '' };
  let promotionId: Promise<string> | undefined;

  const screenshot = async (page: Page, name: string) => {
    if (!shots) return;
    mkdirSync(shots, { recursive: true });
    // As tall as the page's content: a small viewport, then the full page.
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: viewport.width, height: 300 });
    await page.screenshot({ path: join(shots, `dashboard-${name}.png`), fullPage: true, animations: 'disabled' });
    await page.setViewportSize(viewport);
  };
  const kubectl = (cluster: Cluster, args: string[]) => exec(toolchain.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args]);
  const envState = async (name: string) =>
    (await api.request<{ clusters: { environments: { name: string; health: string; drifted: boolean }[] }[] }>('GET', '/v1/fleet')).body.clusters.flatMap((c) => c.environments).find((e) => e.name === name);
  const promotion = async (id: string) => (await api.request<PromotionBody>('GET', `/v1/promotions/${id}`)).body;

  /** A promotion of staging to both prod environments: eu first, then us after an approval (four eyes); started by alice. */
  const waitingPromotion = () => (promotionId ??= (async () => {
    const started = await api.request<{ operationId: string }>('POST', '/v1/promotions', {
      token: tokens.alice,
      body: { source: staging, stages: [{ name: 'eu', targets: [prodEu] }, { name: 'us', targets: [prodUs], approval: true }], rolloutTimeoutSeconds: 120 },
    });
    expect(started.status).toBe(202);
    const id = started.body.operationId;
    await until(`${id} awaiting approval`, async () => (await promotion(id)).phase === 'awaiting-approval', 120_000);
    return id;
  })());

  beforeAll(async () => {
    const t0 = Date.now();
    tc = await testCatalog([us, eu]);
    for (const c of [us, eu]) await tc.catalog.clusters.updateStatus(c.name, { status: 'ready' });
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue, { webRoot: defaultWebRoot, dashboard: { temporalUi: TEMPORAL_UI, namespace: inject('temporalNamespace') } });
    for (const [name, role] of [['alice', 'release-manager'], ['bob', 'release-manager'], ['vera', 'viewer']] as const) {
      tokens[name] = (await tc.catalog.tokens.create({ name, role })).token;
    }
    await createEnvironments(tc.catalog, [
      { name: staging, tier: 'staging', cluster: us.name },
      { name: prodUs, tier: 'prod', cluster: us.name, overrides: { replicas: { web: 2 } } },
      { name: prodEu, tier: 'prod', cluster: eu.name, residency: 'eu' },
    ], shopSpec('1.0.0'));
    await createEnvironment(tc.catalog, {
      binding: { name: billing, application: 'billing', tier: 'dev', cluster: eu.name, namespace: billing },
      spec: shopSpec('0.9.1', ['ledger', 'invoices', 'worker']),
      author: 'setup',
    });
    await createEnvironment(tc.catalog, { binding: { name: search, application: 'search', tier: 'dev', cluster: us.name, namespace: search }, spec: shopSpec('3.1.0', ['search', 'indexer']), author: 'setup' });
    await deployAll(client, taskQueue, [staging, prodUs, prodEu, billing, search], 'v1');
    const crashing = shopSpec('3.2.0', ['search', 'indexer']);
    crashing.services[0]!.image = FAULT_IMAGES.crashLoop;
    await setSpec(tc.catalog, search, crashing);
    // Not awaited: it fails once its rollout times out, the old pod still serving beside the crashing one.
    await client.workflow.start(deployEnvironment, { taskQueue, workflowId: `setup-${search}-v2`, args: [{ environment: search, requestedBy: 'setup', rolloutTimeoutSeconds: 10 }] });
    await setSpec(tc.catalog, staging, shopSpec('1.1.0'));
    await deployAll(client, taskQueue, [staging], 'v2');
    observer = startObserverProcess({
      FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, FLOTILLA_OBSERVER_ID: `observer-browser-${run}`,
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), FLOTILLA_TASK_QUEUE: taskQueue,
    });
    await observer.ready;
    await until('every environment observed healthy', async () => {
      const states = await Promise.all([staging, prodUs, prodEu, billing].map(envState));
      const crashing = await envState(search);
      return states.every((s) => s?.health === 'healthy' && !s.drifted) && (crashing?.health === 'degraded' || crashing?.health === 'unavailable');
    }, 60_000).catch(async (error: unknown) => {
      throw new Error(`${String(error)}: ${JSON.stringify(await Promise.all([staging, prodUs, prodEu, billing, search].map(envState)))}`);
    });
    browser = await launchChromium(inject('chromium'));
    console.error(`[browser] set up in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  });
  afterAll(async () => {
    await browser?.close();
    await observer?.kill('SIGTERM');
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
  });

  it('signs in with a token (a refused one says so) and shows every cluster and environment in the grid', async () => {
    const context = await dashboardContext(browser, api.base);
    const page = await context.newPage();
    // A deep link loads the app too (the API answers index.html outside /v1).
    await page.goto('/environments/shop-staging');
    await page.getByLabel('API token').fill('flt_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('refused (401)');
    await page.getByLabel('API token').fill(api.admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('env-title').waitFor();
    await page.getByRole('banner').getByRole('link', { name: 'Fleet', exact: true }).click();

    const grid = page.getByTestId('fleet-grid');
    await grid.waitFor();
    for (const c of [us, eu]) {
      const row = page.getByTestId(`cluster-row-${c.name}`);
      await expect.poll(() => row.getAttribute('data-reachability')).toBe('reachable');
      expect(await row.textContent()).toContain(`geo=${c.labels.geo}`);
    }
    for (const [env, cluster] of [[staging, us], [prodUs, us], [prodEu, eu], [billing, eu]] as const) {
      const cell = page.getByTestId(`cluster-row-${cluster.name}`).getByTestId(`env-cell-${env}`);
      expect(await cell.getAttribute('data-health')).toBe('healthy');
      expect(await cell.getAttribute('data-drifted')).toBe('false');
    }
    // The tier columns in order, and the summary.
    const broken = await page.getByTestId(`cluster-row-${us.name}`).getByTestId(`env-cell-${search}`).getAttribute('data-health');
    expect(['degraded', 'unavailable']).toContain(broken);
    expect(await grid.locator('thead th').allTextContents()).toEqual(['Cluster', 'dev', 'staging', 'prod']);
    expect(await page.getByTestId('fleet-summary').textContent()).toMatch(/2 clusters.*5 environments.*4 healthy/);
    // Filters: the tier, the health and a label selector, each applied by the API.
    await page.getByTestId('filter-tier').selectOption('prod');
    await expect.poll(() => page.locator('[data-testid^="env-cell-"]').count()).toBe(2);
    await page.getByTestId('filter-tier').selectOption('');
    await page.getByTestId('filter-health').selectOption(broken!);
    await expect.poll(() => page.locator('[data-testid^="env-cell-"]').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-testid')))).toEqual([`env-cell-${search}`]);
    await page.getByTestId('filter-health').selectOption('');
    await page.getByTestId('filter-selector').fill('geo=eu');
    await page.getByTestId('filter-selector').press('Enter');
    await expect.poll(() => page.locator('[data-testid^="cluster-row-"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page.locator('[data-testid^="env-cell-"]').count()).toBe(5);

    // A token revoked while signed in: the next answer (401) goes back to the login screen, saying why.
    const temp = await api.request<{ token: string; id: string }>('POST', '/v1/tokens', { body: { name: `temp-${run}`, role: 'viewer' } });
    expect(temp.status, JSON.stringify(temp.body)).toBe(201);
    const other = await dashboardContext(browser, api.base, temp.body.token);
    const page2 = await other.newPage();
    await page2.goto('/');
    await page2.getByTestId('fleet-grid').waitFor();
    expect(await page2.getByTestId('who').textContent()).toContain('viewer');
    expect((await api.request('DELETE', `/v1/tokens/${temp.body.id}`)).status).toBeLessThan(300);
    await page2.getByTestId('login-notice').waitFor({ timeout: 20_000 });
    expect(await page2.getByTestId('login-notice').textContent()).toContain('refused the token (401)');
    await other.close();
    await context.close();
  });

  it('turns a cell to drift without a reload when a deployment is scaled by hand', async () => {
    const context = await dashboardContext(browser, api.base, tokens.vera);
    const page = await context.newPage();
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto('/');
    const cell = page.getByTestId(`env-cell-${prodUs}`);
    await cell.waitFor();
    expect(await cell.getAttribute('data-drifted')).toBe('false');
    await expect.poll(() => page.getByTestId('live-state').textContent()).toContain('live');
    // A second browser whose event stream is cut (a proxy that drops it): the 10 s poll still gets there.
    const cut = await dashboardContext(browser, api.base, tokens.vera);
    await cut.route('**/v1/events', (route) => route.abort());
    const polling = await cut.newPage();
    await polling.goto('/');
    await polling.getByTestId(`env-cell-${prodUs}`).waitFor();
    await expect.poll(() => polling.getByTestId('live-state').textContent()).toContain('polling');

    const t0 = Date.now();
    await kubectl(us, ['-n', prodUs, 'scale', 'deployment/web', '--replicas=5']);
    await page.waitForSelector(`[data-testid="env-cell-${prodUs}"][data-drifted="true"]`, { timeout: 30_000 });
    const ms = Date.now() - t0;
    await polling.waitForSelector(`[data-testid="env-cell-${prodUs}"][data-drifted="true"]`, { timeout: 15_000 });
    const pollMs = Date.now() - t0;
    await cut.close();
    expect(loads).toBe(1);
    expect(await cell.getByTestId('drift-badge').textContent()).toContain('drift');
    expect(await page.getByTestId(`env-cell-${staging}`).getAttribute('data-drifted')).toBe('false');
    console.error(`[browser] drift shown ${ms} ms after kubectl scale (live stream), ${pollMs} ms without it (polling)`);
    await screenshot(page, 'fleet');

    // The environment page: the field, expected and actual values, and who changed it.
    await cell.click();
    const drift = page.getByTestId('drift');
    await drift.waitFor();
    const row = drift.locator('tr', { hasText: 'spec.replicas' });
    expect(await row.locator('td.expected').textContent()).toBe('2');
    expect(await row.locator('td.actual').textContent()).toBe('5');
    expect(await row.getByTestId('changed-by').textContent()).toBe('kubectl');
    expect(loads).toBe(1);
    await page.getByTestId('services').waitFor();
    await screenshot(page, 'environment');

    // Put it back: the cell turns clean again, still without a reload.
    await kubectl(us, ['-n', prodUs, 'scale', 'deployment/web', '--replicas=2']);
    await page.getByTestId('no-drift').waitFor({ timeout: 30_000 });
    await page.getByRole('banner').getByRole('link', { name: 'Fleet', exact: true }).click();
    await page.waitForSelector(`[data-testid="env-cell-${prodUs}"][data-drifted="false"]`, { timeout: 30_000 });
    expect(loads).toBe(1);
    await context.close();
  });

  it("tails an environment's logs live", async () => {
    const file = await serviceLogFile(toolchain.kubectl, eu.kubeconfigPath, { namespace: billing, service: 'ledger' });
    appendLogLines(file, ['ledger started', 'GET /healthz 200']);
    const context = await dashboardContext(browser, api.base, tokens.vera);
    const page = await context.newPage();
    await page.goto(`/environments/${billing}?tab=logs`);
    const logs = page.getByTestId('logs');
    await logs.getByText('GET /healthz 200').first().waitFor({ timeout: 30_000 });
    expect(await logs.textContent()).toContain(`[${eu.name}/ledger-`);
    // A line written now arrives while the page follows.
    await expect.poll(() => page.getByTestId('logs-state').textContent(), { timeout: 10_000 }).toBe('live');
    appendLogLines(file, `POST /ledger/entries 201 ${run}`);
    await logs.getByText(`POST /ledger/entries 201 ${run}`).first().waitFor({ timeout: 30_000 });
    await context.close();
  });

  it('shows a viewer the waiting promotion without Approve or Reject', async () => {
    const id = await waitingPromotion();
    const context = await dashboardContext(browser, api.base, tokens.vera);
    const page = await context.newPage();
    await page.goto(`/promotions/${id}`);
    await page.getByTestId('approval').waitFor();
    expect(await page.getByTestId('promotion-phase').textContent()).toBe('awaiting-approval');
    expect(await page.getByTestId('approval-not-allowed').textContent()).toContain('may not approve');
    expect(await page.getByTestId('approve').count()).toBe(0);
    expect(await page.getByTestId('reject').count()).toBe(0);
    // The requester (four eyes) gets no buttons either, and is told why.
    const own = await dashboardContext(browser, api.base, tokens.alice);
    const alicePage = await own.newPage();
    await alicePage.goto(`/promotions/${id}`);
    await alicePage.getByTestId('approval-own').waitFor();
    expect(await alicePage.getByTestId('approve').count()).toBe(0);
    await own.close();
    await context.close();
  });

  it('lets a release-manager other than the requester approve a waiting promotion, which then completes', async () => {
    const id = await waitingPromotion();
    const context = await dashboardContext(browser, api.base, tokens.bob);
    const page = await context.newPage();
    await page.goto('/operations?kind=promotion');
    const link = page.getByTestId(`operation-${id}`).getByTestId('temporal-link');
    expect(await link.getAttribute('href')).toBe(`${TEMPORAL_UI}/namespaces/${inject('temporalNamespace')}/workflows/${id}`);
    await page.getByRole('link', { name: id }).click();
    const approve = page.getByTestId('approve');
    await approve.waitFor();
    expect(await page.getByTestId(`stage-eu`).getAttribute('data-phase')).toBe('succeeded');
    expect(await page.getByTestId(`stage-us`).getAttribute('data-phase')).toBe('awaiting-approval');
    expect(await page.getByTestId('requested-by').textContent()).toBe('alice');
    await screenshot(page, 'promotion');
    await page.getByPlaceholder('comment (optional)').fill('checked eu, go');
    await approve.click();
    await page.getByTestId('approved-by').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('approved-by').textContent()).toBe('bob');
    await page.waitForSelector('[data-testid="promotion-phase"]:text-is("completed")', { timeout: 120_000 });
    expect(await page.getByTestId(`target-${prodUs}`).getAttribute('data-phase')).toBe('succeeded');
    expect(await page.getByTestId('approve').count()).toBe(0);
    await page.getByRole('banner').getByRole('link', { name: 'Operations', exact: true }).click();
    await page.waitForSelector(`[data-testid="operation-${id}"] .state-completed`, { timeout: 30_000 });
    await screenshot(page, 'operations');
    const final = await promotion(id);
    expect(final).toMatchObject({ phase: 'completed', stages: [{ name: 'eu', phase: 'succeeded' }, { name: 'us', phase: 'succeeded', approval: { approvedBy: 'bob' } }] });
    await context.close();
  });

  it('stops and starts an environment from its page (a token that may); the grid shows it stopped, live', async () => {
    const viewer = await dashboardContext(browser, api.base, tokens.vera);
    const looking = await viewer.newPage();
    await looking.goto(`/environments/${billing}`);
    await looking.getByTestId('env-title').waitFor();
    expect(await looking.getByTestId('stop-button').count()).toBe(0);
    await viewer.close();

    const context = await dashboardContext(browser, api.base, tokens.alice);
    const page = await context.newPage();
    await page.goto(`/environments/${billing}`);
    await page.getByTestId('stop-button').click();
    await page.getByTestId('stopped-badge').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('stopped-since').textContent()).toContain('alice');
    await page.getByRole('banner').getByRole('link', { name: 'Fleet', exact: true }).click();
    await page.waitForSelector(`[data-testid="env-cell-${billing}"][data-stopped="true"]`, { timeout: 30_000 });
    expect((await kubectl(eu, ['-n', billing, 'get', 'deployment', 'ledger', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('0');

    await page.getByTestId(`env-cell-${billing}`).click();
    await page.getByTestId('start-button').click();
    await page.getByTestId('stop-button').waitFor({ timeout: 60_000 });
    expect((await kubectl(eu, ['-n', billing, 'get', 'deployment', 'ledger', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('1');
    await context.close();
  });
});
