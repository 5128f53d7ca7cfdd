// The toolchain's second run must reuse the cache: no part is built again.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/toolchain.js';

const exec = promisify(execFile);

describe('scripts/toolchain.sh', () => {
  it('reuses every cached part on a second run', async () => {
    // The global set-up has provisioned everything already; this is at least the second run.
    const { stderr } = await exec('bash', [join(projectRoot, 'scripts', 'toolchain.sh')]);
    for (const part of ['temporal', 'temporal-test-server', 'kwok', 'etcd', 'kubernetes', 'moto', 'toxiproxy', 'helm', 'registry', 'temporal-server']) {
      expect(stderr).toMatch(new RegExp(`\\[toolchain\\] ${part}: cached`));
    }
    expect(stderr).not.toMatch(/building/);
  });
});
