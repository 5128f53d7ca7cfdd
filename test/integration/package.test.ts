// Flotilla as users install it: `npm pack` (its prepack compiles to dist/ and builds the
// dashboard), the tarball installed with npm into an empty folder, and the installed `flotilla`
// command run with plain node: --version (package.json's), --help, and `get clusters` against an
// API (the in-process test API, on a real port). The installed package holds JavaScript only, and
// neither TypeScript nor tsx comes with it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/toolchain.js';
import { kubeconfigCluster, startTestApi, type TestApi } from '../support/api-server.js';

const exec = promisify(execFile);

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('the packed package', () => {
  let dir: string;
  let api: TestApi;
  let flotilla: string;
  const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-pack-'));
    const { stdout } = await exec('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 });
    const tarball = join(dir, stdout.trim().split('\n').at(-1)!);
    expect(existsSync(tarball), tarball).toBe(true);
    const install = join(dir, 'install');
    await exec('mkdir', ['-p', install]);
    writeFileSync(join(install, 'package.json'), JSON.stringify({ name: 'install-test', private: true }));
    // From npm's cache where it can (a fresh machine's first run fetches what npm ci did not need).
    await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: install, maxBuffer: 16 * 1024 * 1024 });
    flotilla = join(install, 'node_modules', '.bin', 'flotilla');
    api = await startTestApi();
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('packed-eu-1', { tier: 'prod' }) })).status).toBe(202);
    // About 90 s on a quiet machine (tsc and Vite in prepack, then npm install); CI saw over 300 s under load.
  }, 600_000);
  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    exec(process.execPath, [flotilla, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir, ...env } });

  it('installs JavaScript only, without TypeScript or tsx, and its `flotilla` runs with plain node', async () => {
    const installed = join(dir, 'install', 'node_modules', 'flotilla');
    const files = filesUnder(installed);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files).toContain('dist/cli/bin.js');
    expect(files).toContain('dist/worker/main.js');
    expect(files).toContain('dist/api/main.js');
    expect(files).toContain('web/dist/index.html');
    for (const tool of ['tsx', 'typescript', 'vite']) expect(existsSync(join(dir, 'install', 'node_modules', tool)), tool).toBe(false);
    expect((await run(['--version'])).stdout.trim()).toBe(version);
    const help = await run(['--help']);
    expect(help.stdout).toContain('Usage: flotilla [options] [command]');
    expect(help.stdout).toContain('push [options] <what> <file>');
  });

  it('`flotilla get clusters` answers from an API', async () => {
    const { stdout } = await run(['get', 'clusters'], { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: api.admin });
    expect(stdout.split('\n')[0]).toMatch(/^NAME\s+/);
    expect(stdout).toMatch(/^packed-eu-1\s+/m);
  });
});
