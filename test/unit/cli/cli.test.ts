// The CLI's pure parts: tables, formats, exit-code mapping, the saved config (mode 0600,
// environment overrides), and usage errors through the program itself.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, loadConfig, saveConfig } from '../../../cli/config.js';
import { CliError, EXIT, exitCodeForStatus } from '../../../cli/exit-codes.js';
import { age, parseFormat, table } from '../../../cli/output.js';
import { run } from '../../../cli/program.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), readStdin: async () => '' } };
}

describe('cli output', () => {
  it('prints kubectl-like tables', () => {
    const text = table([{ n: 'local-dev', s: 'ready' }, { n: 'eu-1', s: 'onboarding' }], [
      { header: 'name', value: (r) => r.n }, { header: 'status', value: (r) => r.s },
    ]);
    expect(text).toBe('NAME        STATUS\nlocal-dev   ready\neu-1        onboarding');
  });

  it('knows its formats and ages', () => {
    expect(parseFormat(undefined)).toBe('table');
    expect(parseFormat('yaml')).toBe('yaml');
    expect(() => parseFormat('xml')).toThrow(CliError);
    expect(age(new Date(Date.now() - 90_000).toISOString())).toBe('90s');
    expect(age(new Date(Date.now() - 3 * 86_400_000).toISOString())).toBe('3d');
  });

  it('maps HTTP statuses to exit codes', () => {
    expect([400, 401, 403, 404, 409, 422, 500].map(exitCodeForStatus)).toEqual([2, 3, 3, 4, 2, 2, 1]);
  });
});

describe('cli config', () => {
  it('saves with mode 0600 and lets the environment override', () => {
    const home = mkdtempSync(join(tmpdir(), 'flotilla-cli-'));
    const env = { HOME: home };
    const file = saveConfig({ server: 'http://127.0.0.1:8080', token: 'flt_abc' }, env);
    expect(file).toBe(configPath(env));
    expect(file).toBe(join(home, '.config', 'flotilla', 'config.json'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: 'http://127.0.0.1:8080', token: 'flt_abc' });
    expect(loadConfig(env)).toEqual({ server: 'http://127.0.0.1:8080', token: 'flt_abc' });
    expect(loadConfig({ ...env, FLOTILLA_SERVER: 'http://other:1/', FLOTILLA_TOKEN: 'flt_env' })).toEqual({ server: 'http://other:1', token: 'flt_env' });
  });

  it('without a login, commands exit 3', async () => {
    const o = io();
    expect(await run(['get', 'clusters'], o.io, { HOME: mkdtempSync(join(tmpdir(), 'flotilla-cli-')) })).toBe(EXIT.auth);
    expect(o.err.join('\n')).toContain('flotilla login');
  });
});

describe('cli usage', () => {
  it('documents exit codes in --help and exits 0', async () => {
    const o = io();
    expect(await run(['--help'], o.io, {})).toBe(0);
    expect(o.out.join('\n')).toMatch(/Exit codes:[\s\S]*5 {2}server unreachable/);
  });

  it('exits 2 on usage errors', async () => {
    for (const argv of [['get'], ['frobnicate'], ['apply'], ['get', 'clusters', '-o', 'xml'], ['get', 'pods']]) {
      const o = io();
      expect(await run(argv, o.io, { FLOTILLA_SERVER: 'http://127.0.0.1:1', FLOTILLA_TOKEN: 'flt_x' }), argv.join(' ')).toBe(EXIT.usage);
    }
  });
});
