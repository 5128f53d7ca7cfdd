// `flotilla logs` against a small real HTTP server that answers as the API does (NDJSON events,
// or an error body): the request it makes from the flags, what it prints where, and its exit codes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logsPath } from '../../../cli/commands/logs.js';
import { CliError, EXIT } from '../../../cli/exit-codes.js';
import { run } from '../../../cli/program.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('flotilla logs', () => {
  let server: Server;
  let base = '';
  let handler: Handler = (_req, res) => res.end();
  const requests: { url: string; accept?: string; authorization?: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', accept: req.headers.accept, authorization: req.headers.authorization });
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function flotilla(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(['logs', ...args], { out: (t) => void out.push(t), err: (t) => void err.push(t), readStdin: async () => '' }, { FLOTILLA_SERVER: base, FLOTILLA_TOKEN: 'flt_test', HOME: '/nonexistent' });
    return { code, out, err };
  }

  const line = (cluster: string, pod: string, text: string) => ({ type: 'line', environment: 'shop-us', cluster, pod, container: 'web', time: '2026-12-06T10:00:00Z', line: text });
  /** Answers with these events, one per line, a little apart (as a stream does). */
  const events = (list: unknown[], end = true): Handler => (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let i = 0;
    const next = () => {
      if (i < list.length) {
        res.write(`${JSON.stringify(list[i++])}\n`);
        setTimeout(next, 5);
      } else if (end) res.end();
      else res.destroy();
    };
    next();
  };

  it('turns its flags into the query, and refuses malformed ones before asking', () => {
    expect(logsPath('shop-us', {})).toBe('/v1/environments/shop-us/logs');
    expect(logsPath('shop-us', { service: 'web', follow: true, since: '10m', tail: '20', allClusters: true, timeout: '1h', limitBytes: '1000' }))
      .toBe('/v1/environments/shop-us/logs?service=web&since=600&tail=20&follow=true&scope=application&timeout=3600&limitBytes=1000');
    expect(() => logsPath('x', { tail: 'ten' })).toThrow(new CliError('--tail must be a whole number (got "ten")', EXIT.usage));
    expect(() => logsPath('x', { since: 'yesterday' })).toThrow(/--since must be a duration/);
  });

  it('prints the merged lines as they come, prefixed by cluster and pod, and exits 0', async () => {
    handler = events([line('us', 'web-1', 'hello from us'), line('eu', 'web-2', 'hello from eu'), { type: 'end', reason: 'complete', message: 'all logs read', lines: 2, bytes: 28 }]);
    const got = await flotilla(['shop-us', '-s', 'web', '--all-clusters', '--tail', '5']);
    expect(got).toEqual({ code: 0, out: ['[us/web-1] hello from us', '[eu/web-2] hello from eu'], err: [] });
    expect(requests.at(-1)).toEqual({ url: '/v1/environments/shop-us/logs?service=web&tail=5&scope=application', accept: 'application/x-ndjson', authorization: 'Bearer flt_test' });
  });

  it('puts errors and a bound that ended the stream on stderr, and exits 1 when a part could not be read', async () => {
    handler = events([
      line('us', 'web-1', 'one'),
      { type: 'error', environment: 'shop-eu', cluster: 'eu', reason: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' },
      { type: 'end', reason: 'timeout', message: 'timeout of 5s reached', lines: 1, bytes: 4 },
    ]);
    const got = await flotilla(['shop-us', '-f', '--timestamps', '--timeout', '5s']);
    expect(got.out).toEqual(['2026-12-06T10:00:00Z [us/web-1] one']);
    expect(got.err).toEqual([
      '! [eu] ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
      '-- end: timeout of 5s reached (1 lines, 4 bytes)',
      'error: 1 part(s) of the logs could not be read (see above)',
    ]);
    expect(got.code).toBe(EXIT.failed);
    expect(requests.at(-1)!.url).toBe('/v1/environments/shop-us/logs?follow=true&timeout=5');
  });

  it('prints the events themselves with -o json', async () => {
    const list = [line('us', 'web-1', 'one'), { type: 'end', reason: 'complete', message: 'all logs read', lines: 1, bytes: 4 }];
    handler = events(list);
    const got = await flotilla(['shop-us', '-o', 'json']);
    expect(got.out.map((l) => JSON.parse(l) as unknown)).toEqual(list);
    expect(got.code).toBe(0);
  });

  it('exits 1 when the stream is cut off before its end event', async () => {
    handler = events([line('us', 'web-1', 'one')], false);
    const got = await flotilla(['shop-us']);
    expect(got.out).toEqual(['[us/web-1] one']);
    expect(got.err).toEqual([expect.stringMatching(/^error: the log stream broke off/)]);
    expect(got.code).toBe(EXIT.failed);
  });

  it('maps the API\'s refusals to exit codes, with the field it names', async () => {
    const refuse = (status: number, error: unknown): Handler => (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error }));
    };
    handler = refuse(403, { code: 'forbidden', message: 'this token may read tiers dev only, not prod' });
    expect(await flotilla(['shop-us'])).toEqual({ code: EXIT.auth, out: [], err: ['error: this token may read tiers dev only, not prod (forbidden)'] });
    handler = refuse(404, { code: 'not_found', message: 'environment "x" not found' });
    expect((await flotilla(['x'])).code).toBe(EXIT.notFound);
    handler = refuse(400, { code: 'invalid_request', message: 'request is invalid', details: [{ path: 'query.service', message: 'environment "shop-us" has no service "nope"' }] });
    expect(await flotilla(['shop-us', '-s', 'nope'])).toEqual({
      code: EXIT.usage, out: [], err: ['error: request is invalid (invalid_request)', '  query.service: environment "shop-us" has no service "nope"'],
    });
    const before = requests.length;
    expect((await flotilla(['shop-us', '--tail', '-3'])).code).toBe(EXIT.usage);
    expect(requests.length).toBe(before);
  });
});
