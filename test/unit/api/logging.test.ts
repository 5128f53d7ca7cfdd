// Logs for people and for machines: the pretty format (a pino JSON line in, one human line out,
// coloured only on a terminal), which format and level the environment picks, the level of
// request lines (debug; a server error at error), and the Temporal SDK's levels in the worker.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, logFormat, logLevel, requestLevel } from '../../../api/http/logger.js';
import { prettyLine, prettyStream } from '../../../api/http/pretty.js';
import { temporalLevel, temporalLogger } from '../../../worker/logging.js';
import { startTestApi, type TestApi } from '../../support/api-server.js';

/** 09:05:07 local time, whatever the machine's time zone. */
const time = new Date(2026, 11, 6, 9, 5, 7, 123).getTime();
const json = (entry: Record<string, unknown>) => JSON.stringify({ level: 30, time, pid: 4242, hostname: 'box', name: 'flotilla-api', ...entry });

/** A destination that keeps what it is given; `isTTY` as a terminal's stdout would say. */
function capture(isTTY: boolean) {
  const lines: string[] = [];
  return { lines, isTTY, write: (text: string) => void lines.push(text) };
}

describe('the pretty format', () => {
  it('turns a JSON line into time, level, component, message and key=value', () => {
    expect(prettyLine(json({ msg: 'api listening', url: 'http://0.0.0.0:8080/v1' }), { colors: false }))
      .toBe('09:05:07 INFO  [api] api listening url=http://0.0.0.0:8080/v1');
    expect(prettyLine(json({ level: 20, msg: 'request', requestId: 'r-1', method: 'GET', path: '/v1/clusters', status: 200, ms: 1.25, actor: 'ana' }), { colors: false }))
      .toBe('09:05:07 DEBUG [api] request requestId=r-1 method=GET path=/v1/clusters status=200 ms=1.25 actor=ana');
  });

  it('names every level, and the component from a child binding or the name', () => {
    const labels = [10, 20, 30, 40, 50, 60].map((level) => prettyLine(json({ level, msg: 'm' }), { colors: false }).split(' ')[1]);
    expect(labels).toEqual(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
    expect(prettyLine(json({ name: 'flotilla-worker', msg: 'Workflow completed', workflowId: 'onboard-local-dev' }), { colors: false }))
      .toBe('09:05:07 INFO  [worker] Workflow completed workflowId=onboard-local-dev');
    expect(prettyLine(json({ component: 'fleet', msg: 'up' }), { colors: false })).toBe('09:05:07 INFO  [fleet] up');
  });

  it('quotes values that would not read as one word, shows objects as JSON, hides Temporal constants', () => {
    expect(prettyLine(json({ msg: 'x', a: 'two words', b: 'k=v', c: '', d: { n: 1 }, e: [1, 'x'], f: true, g: null, namespace: 'default', taskQueue: 'flotilla', sdkComponent: 'worker', runId: 'abc' }), { colors: false }))
      .toBe('09:05:07 INFO  [api] x a="two words" b="k=v" c="" d={"n":1} e=[1,"x"] f=true g=null');
  });

  it('shows an error by its message, with the stack only at error level', () => {
    const err = { type: 'Error', message: 'connect ECONNREFUSED', stack: 'Error: connect ECONNREFUSED\n    at connect (net.js:1:1)\n    at main (main.js:2:2)' };
    expect(prettyLine(json({ level: 40, msg: 'Activity failed', activityType: 'applyManifests', err }), { colors: false }))
      .toBe('09:05:07 WARN  [api] Activity failed activityType=applyManifests err="connect ECONNREFUSED"');
    expect(prettyLine(json({ level: 50, msg: 'unhandled error', err: { ...err, type: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at f (a.ts:1:1)' } }), { colors: false }))
      .toBe('09:05:07 ERROR [api] unhandled error err="TypeError: x is undefined"\n    at f (a.ts:1:1)');
  });

  it('colours only when asked, and never lets a logged value drive the terminal', () => {
    const coloured = prettyLine(json({ level: 50, msg: 'boom', path: '/v1' }), { colors: true });
    expect(coloured).toBe('\x1b[2m09:05:07\x1b[0m \x1b[31mERROR\x1b[0m \x1b[34m[api]\x1b[0m boom \x1b[2mpath=\x1b[0m/v1');
    expect(prettyLine(json({ msg: 'a\x1b[2Jb', v: 'c\x1bd', w: 'e\u009bf' }), { colors: false }))
      .toBe('09:05:07 INFO  [api] a\\u001b[2Jb v="c\\u001bd" w="e\\u009bf"');
  });

  it('passes a line that is not a JSON object through', () => {
    expect(prettyLine('plain text', { colors: false })).toBe('plain text');
    expect(prettyLine('[1,2]', { colors: false })).toBe('[1,2]');
  });

  it('writes each line of a chunk, made human', () => {
    const out = capture(false);
    prettyStream(out, { colors: false }).write(`${json({ msg: 'one' })}\n${json({ msg: 'two' })}\n`);
    expect(out.lines).toEqual(['09:05:07 INFO  [api] one\n', '09:05:07 INFO  [api] two\n']);
  });
});

describe('the logger', () => {
  it('is pretty on a terminal and JSON otherwise, unless FLOTILLA_LOG_FORMAT says', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ FLOTILLA_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ FLOTILLA_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(() => logFormat({ FLOTILLA_LOG_FORMAT: 'yaml' }, true)).toThrow(/FLOTILLA_LOG_FORMAT must be json or pretty/);
  });

  it('logs at info unless FLOTILLA_LOG_LEVEL says', () => {
    expect(logLevel({})).toBe('info');
    expect(logLevel({ FLOTILLA_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevel({ LOG_LEVEL: 'warn' })).toBe('warn');
    expect(() => logLevel({ FLOTILLA_LOG_LEVEL: 'loud' })).toThrow(/FLOTILLA_LOG_LEVEL must be one of/);
  });

  it('writes JSON to a given destination, whatever the environment says (tests read it)', () => {
    const out = capture(true);
    createLogger({ destination: out, env: { FLOTILLA_LOG_FORMAT: 'pretty' } }).info({ n: 1 }, 'hello');
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ level: 30, name: 'flotilla-api', msg: 'hello', n: 1 });
  });

  it('in pretty format, colours on a terminal only, and still redacts', () => {
    const terminal = capture(true);
    const pipe = capture(false);
    for (const destination of [terminal, pipe]) {
      createLogger({ destination, format: 'pretty', name: 'flotilla-worker', env: {} }).warn({ token: 'flt_canary', cluster: 'local-dev' }, 'careful');
    }
    expect(terminal.lines[0]).toContain('\x1b[33mWARN \x1b[0m');
    expect(pipe.lines[0]).toMatch(/^\d\d:\d\d:\d\d WARN {2}\[worker\] careful token=\[redacted\] cluster=local-dev\n$/);
    expect(`${terminal.lines[0]}${pipe.lines[0]}`).not.toContain('flt_canary');
    const noColor = capture(true);
    createLogger({ destination: noColor, format: 'pretty', env: { NO_COLOR: '1' } }).info('x');
    expect(noColor.lines[0]).not.toContain('\x1b[');
  });

  it('does not log below its level', () => {
    const out = capture(false);
    const logger = createLogger({ destination: out, env: {} });
    logger.debug('hidden');
    logger.info('shown');
    expect(out.lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown']);
  });
});

describe('request lines', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const requestLines = () => api.logs.map((l) => JSON.parse(l) as { level: number; msg: string; path: string; status: number }).filter((l) => l.msg === 'request');

  it('are debug for answers, 4xx included, and error for a server error', async () => {
    expect([200, 299, 301, 400, 401, 404, 409, 499].map(requestLevel)).toEqual(Array(8).fill('debug'));
    expect([500, 502, 503].map(requestLevel)).toEqual(['error', 'error', 'error']);

    expect((await api.request('GET', '/v1/healthz', { token: null })).status).toBe(200);
    expect((await api.request('GET', '/v1/clusters', { token: null })).status).toBe(401);
    expect((await api.request('GET', '/v1/clusters/nope')).status).toBe(404);
    const list = vi.spyOn(api.catalog.clusters, 'list').mockRejectedValueOnce(new Error('the disk is gone'));
    expect((await api.request('GET', '/v1/clusters')).status).toBe(500);
    list.mockRestore();

    expect(requestLines().map((l) => [l.path, l.status, l.level])).toEqual([
      ['/v1/healthz', 200, 20],
      ['/v1/clusters', 401, 20],
      ['/v1/clusters/nope', 404, 20],
      ['/v1/clusters', 500, 50],
    ]);
    // The 500's cause is logged beside it, server side only.
    expect(api.logs.some((l) => l.includes('"unhandled error"') && l.includes('the disk is gone'))).toBe(true);
  });

  it('stay out of an info-level log: a quiet terminal', async () => {
    const out = capture(false);
    const { createApp } = await import('../../../api/app.js');
    const app = createApp({ catalog: api.catalog, operations: api.operations, webRoot: '/nonexistent', logger: createLogger({ destination: out, env: {} }) });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    expect((await fetch(`http://127.0.0.1:${port}/v1/healthz`)).status).toBe(200);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(out.lines).toEqual([]);
  });
});

describe("the Temporal SDK's log in the worker", () => {
  it("moves the SDK's chatter to debug and a workflow's completion to info", () => {
    expect(temporalLevel({ level: 'INFO', message: 'Worker state changed', meta: { sdkComponent: 'worker', state: 'RUNNING' } })).toBe('debug');
    expect(temporalLevel({ level: 'DEBUG', message: 'Workflow completed', meta: { sdkComponent: 'worker', workflowId: 'deploy-shop-1' } })).toBe('info');
    expect(temporalLevel({ level: 'DEBUG', message: 'Workflow completed as cancelled', meta: { sdkComponent: 'worker' } })).toBe('info');
    expect(temporalLevel({ level: 'WARN', message: 'Workflow failed', meta: { sdkComponent: 'worker' } })).toBe('warn');
    expect(temporalLevel({ level: 'WARN', message: 'Activity failed', meta: { sdkComponent: 'worker' } })).toBe('warn');
    expect(temporalLevel({ level: 'DEBUG', message: 'Activity completed', meta: { sdkComponent: 'worker' } })).toBe('debug');
    // Flotilla's own activity lines keep their level.
    expect(temporalLevel({ level: 'INFO', message: 'database copied', meta: { sdkComponent: 'activity' } })).toBe('info');
  });

  it('writes through the pino logger, an error as err', () => {
    const out = capture(false);
    const logger = temporalLogger(createLogger({ destination: out, name: 'flotilla-worker', env: {} }));
    logger.info('Worker state changed', { sdkComponent: 'worker', state: 'RUNNING' });
    logger.debug('Workflow completed', { sdkComponent: 'worker', workflowId: 'onboard-local-dev', workflowType: 'onboardCluster' });
    logger.warn('Activity failed', { sdkComponent: 'worker', activityType: 'applyManifests', error: new Error('connection refused') });
    const lines = out.lines.map((l) => JSON.parse(l) as Record<string, unknown> & { err?: { message: string } });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[30, 'Workflow completed'], [40, 'Activity failed']]);
    expect(lines[0]).toMatchObject({ name: 'flotilla-worker', workflowId: 'onboard-local-dev', workflowType: 'onboardCluster' });
    expect(lines[1]!.err!.message).toBe('connection refused');
  });

  it("keeps the SDK's object dumps out, even at trace: its worker options hold the payload key ring", () => {
    const out = capture(false);
    const logger = temporalLogger(createLogger({ destination: out, level: 'trace', env: {} }));
    const keyRing = { active: 'k-1', keys: { 'k-1': 'cGF5bG9hZC1rZXktY2FuYXJ5' } };
    logger.debug('Creating worker', { sdkComponent: 'worker', options: { taskQueue: 'flotilla', dataConverter: { payloadCodecs: [{ keys: keyRing }] } } });
    logger.info('database copied', { sdkComponent: 'activity', copyId: 'c-1', tables: 3 });
    expect(out.lines).toHaveLength(2);
    expect(out.lines.join('')).not.toContain('cGF5bG9hZC1rZXktY2FuYXJ5');
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ level: 20, msg: 'Creating worker', sdkComponent: 'worker' });
    expect(JSON.parse(out.lines[1]!)).toMatchObject({ level: 30, msg: 'database copied', copyId: 'c-1', tables: 3 });
  });
});
