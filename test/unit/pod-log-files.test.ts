// The local fleet's pod log files (local/pod-logs.ts): the CRI format KWOK insists on, one record
// per line, times that keep the order of lines written in one millisecond. That KWOK and kubectl
// read them is test/integration/logs.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendLogLines, criTimestamp, serviceLogPath, serviceLogsName } from '../../local/pod-logs.js';

describe('pod log files', () => {
  it('appends each line (split at newlines) as `<RFC3339Nano> <stream> F <line>`', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flotilla-pod-logs-')), 'web.log');
    writeFileSync(file, '');
    const at = new Date('2026-12-06T21:00:00.123Z');
    appendLogLines(file, ['GET / 200', 'two\nlines'], { at });
    appendLogLines(file, 'oops', { stream: 'stderr', at: new Date('2026-12-06T21:00:01Z') });
    const records = readFileSync(file, 'utf8').split('\n');
    expect(records.map((r) => r.replace(/^\S+ /, 'T '))).toEqual(['T stdout F GET / 200', 'T stdout F two', 'T stdout F lines', 'T stderr F oops', '']);
    const times = records.slice(0, 4).map((r) => r.split(' ')[0]!);
    for (const t of times) expect(t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
    expect(times[0]!.startsWith('2026-12-06T21:00:00.123')).toBe(true);
    // Same millisecond: still strictly increasing.
    expect([...times].sort()).toEqual(times);
    expect(new Set(times).size).toBe(4);
  });

  it('starts a new millisecond at its own nanoseconds', () => {
    expect(criTimestamp(new Date('2030-01-02T03:04:05.006Z'))).toBe('2030-01-02T03:04:05.006000000Z');
  });

  it('names one file and one ClusterLogs per namespace and service, beside the cluster\'s kubeconfig', () => {
    expect(serviceLogPath('/fleet/clusters/c1/kubeconfig.yaml', { namespace: 'shop', service: 'web' })).toBe('/fleet/clusters/c1/pod-logs/shop/web.log');
    expect(serviceLogsName({ namespace: 'shop', service: 'web' })).toBe('web.shop');
  });
});
