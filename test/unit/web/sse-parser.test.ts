// The dashboard's server-sent-events parser (web/src/sse-parser.ts): it reads GET /v1/events and
// the logs' live tail through fetch (EventSource cannot send the Authorization header).
import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../../web/src/sse-parser.js';

function parse(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const c of chunks) parser.push(c);
  return events;
}

describe('SseParser', () => {
  it('splits named events, skips keep-alive comments and joins data lines', () => {
    expect(parse([
      'event: hello\ndata: {"at":"2026-12-06T00:00:00Z"}\n\n',
      ': keep-alive\n\n',
      'event: fleet\ndata: {"etag":"W/\\"1\\""}\n\n',
      'data: one\ndata: two\n\n',
    ])).toEqual([
      { event: 'hello', data: '{"at":"2026-12-06T00:00:00Z"}' },
      { event: 'fleet', data: '{"etag":"W/\\"1\\""}' },
      { event: 'message', data: 'one\ntwo' },
    ]);
  });

  it('reassembles events cut anywhere across chunks, with CRLF or LF line ends', () => {
    const text = 'event: drift\r\ndata: {"environment":"shop","drifted":true,"objects":1}\r\n\r\nevent: operation\ndata:{"id":"x"}\n\n';
    const whole = parse([text]);
    for (let cut = 1; cut < text.length; cut++) expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    expect(whole).toEqual([
      { event: 'drift', data: '{"environment":"shop","drifted":true,"objects":1}' },
      { event: 'operation', data: '{"id":"x"}' },
    ]);
  });

  it('keeps an unfinished event until its blank line arrives', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    parser.push('event: line\ndata: {"line":"GET /');
    expect(events).toEqual([]);
    parser.push(' 200"}\n\n');
    expect(events).toEqual([{ event: 'line', data: '{"line":"GET / 200"}' }]);
  });
});
