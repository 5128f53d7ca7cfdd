// The logs answer's pure parts: lines of several pods merged by time, kept within a byte budget
// (the newest), and shown to a person with their cluster and pod.
import { describe, expect, it } from 'vitest';
import { type LogLineEvent, lineBytes, mergeByTime, newestWithin, normalizeTime, plainText, sourcePrefix } from '../../../domain/log-events.js';

const line = (cluster: string, pod: string, time: string | undefined, text: string): LogLineEvent => ({
  type: 'line', environment: 'shop', cluster, pod, container: 'web', ...(time ? { time } : {}), line: text,
});

describe('merging lines by time', () => {
  it('interleaves two clusters\' pods by the time each line was written', () => {
    const us = [line('us', 'web-1', '2026-12-06T10:00:01.000000001Z', 'us 1'), line('us', 'web-1', '2026-12-06T10:00:03Z', 'us 2')];
    const eu = [line('eu', 'web-9', '2026-12-06T10:00:02.5Z', 'eu 1'), line('eu', 'web-9', '2026-12-06T10:00:04.000000000Z', 'eu 2')];
    expect(mergeByTime([us, eu]).map((l) => l.line)).toEqual(['us 1', 'eu 1', 'us 2', 'eu 2']);
  });

  it('compares nanoseconds and offsets, not the text of the times', () => {
    // 10:00:00.9 is later than 10:00:00.10; 11:00:00+01:00 is 10:00:00Z.
    expect(normalizeTime('2026-12-06T10:00:00.9Z')).toBe('2026-12-06T10:00:00.900000000Z');
    expect(normalizeTime('2026-12-06T11:00:00+01:00')).toBe('2026-12-06T10:00:00.000000000Z');
    const a = [line('a', 'p', '2026-12-06T10:00:00.10Z', 'first'), line('a', 'p', '2026-12-06T10:00:00.9Z', 'third')];
    const b = [line('b', 'q', '2026-12-06T11:00:00.5+01:00', 'second')];
    expect(mergeByTime([a, b]).map((l) => l.line)).toEqual(['first', 'second', 'third']);
  });

  it('keeps the order of equal times (each pod\'s own order first) and places a timeless line after the one before it', () => {
    const t = '2026-12-06T10:00:00Z';
    const a = [line('a', 'p', t, 'a1'), line('a', 'p', undefined, 'a2 (no time)'), line('a', 'p', t, 'a3')];
    const b = [line('b', 'q', t, 'b1')];
    expect(mergeByTime([a, b]).map((l) => l.line)).toEqual(['a1', 'a2 (no time)', 'a3', 'b1']);
  });
});

describe('the byte budget', () => {
  it('counts a line\'s UTF-8 bytes and its newline', () => {
    expect(lineBytes(line('a', 'p', undefined, 'héllo'))).toBe(7);
  });

  it('keeps the newest lines that fit, and says how many older ones were left out', () => {
    const lines = ['one', 'two', 'three', 'four'].map((t) => line('a', 'p', undefined, t));
    expect(newestWithin(lines, 11)).toEqual({ kept: lines.slice(2), dropped: 2, bytes: 11 });
    expect(newestWithin(lines, 100)).toEqual({ kept: lines, dropped: 0, bytes: 19 });
    expect(newestWithin(lines, 4)).toEqual({ kept: [], dropped: 4, bytes: 0 });
  });
});

describe('plain text', () => {
  it('prefixes each line with its cluster and pod (and container, for a pod of several), and the time when asked', () => {
    const l = line('local-prod-us', 'web-7d9f-abc', '2026-12-06T10:00:00.000000001Z', 'GET / 200');
    expect(plainText(l)).toBe('[local-prod-us/web-7d9f-abc] GET / 200');
    expect(plainText(l, { multiContainerPods: new Set(['local-prod-us/web-7d9f-abc']) })).toBe('[local-prod-us/web-7d9f-abc/web] GET / 200');
    expect(plainText(l, { timestamps: true })).toBe('2026-12-06T10:00:00.000000001Z [local-prod-us/web-7d9f-abc] GET / 200');
    expect(sourcePrefix({ cluster: 'c' })).toBe('[c]');
  });

  it('marks errors and says why the answer ended', () => {
    expect(plainText({ type: 'error', environment: 'shop', cluster: 'eu', reason: 'ECONNREFUSED', message: 'connect\nECONNREFUSED' }))
      .toBe('! [eu] ECONNREFUSED: connect ECONNREFUSED');
    expect(plainText({ type: 'end', reason: 'byte-limit', message: 'byte limit of 10 reached', lines: 2, bytes: 9, dropped: 3 }))
      .toBe('-- end: byte limit of 10 reached (2 lines, 9 bytes, 3 older lines left out)');
  });
});
