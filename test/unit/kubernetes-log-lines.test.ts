// A `timestamps=true` log line as the API server sends it: its time and its text apart.
import { describe, expect, it } from 'vitest';
import { splitTimestamp } from '../../providers/kubernetes/logs.js';

describe('splitTimestamp', () => {
  it('splits the RFC 3339 time (any fraction, Z or offset) from the text, spaces in the text kept', () => {
    expect(splitTimestamp('2026-12-06T21:00:00.123456789Z GET /  200')).toEqual({ time: '2026-12-06T21:00:00.123456789Z', text: 'GET /  200' });
    expect(splitTimestamp('2026-12-06T21:00:00+01:00 x')).toEqual({ time: '2026-12-06T21:00:00+01:00', text: 'x' });
    expect(splitTimestamp('2026-12-06T21:00:00Z ')).toEqual({ time: '2026-12-06T21:00:00Z', text: '' });
    expect(splitTimestamp('2026-12-06T21:00:00Z')).toEqual({ time: '2026-12-06T21:00:00Z', text: '' });
  });

  it('leaves a line without a leading time whole', () => {
    expect(splitTimestamp('GET / 200')).toEqual({ text: 'GET / 200' });
    expect(splitTimestamp('2026-12-06 21:00:00 local time')).toEqual({ text: '2026-12-06 21:00:00 local time' });
    expect(splitTimestamp('')).toEqual({ text: '' });
  });
});
