// The real Helm engine and a real OCI registry on localhost (issue 14, groundwork): a chart
// pushed with `helm push` is pulled back by version with the same digest, and `helm template`
// renders it (from the registry, and from the pulled archive) into the same objects, its test
// hook left out.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOciRegistry, type OciRegistry } from '../../local/oci-registry.js';
import { pullChart, templateChart } from '../../providers/helm/cli.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');

describe('helm and an OCI registry', () => {
  let registry: OciRegistry;
  let dir: string;
  let pushedDigest: string;
  const helm = toolchain.helm!;

  beforeAll(async () => {
    expect(toolchain.helm, 'helm is provisioned by scripts/toolchain.sh').toBeDefined();
    dir = mkdtempSync(join(tmpdir(), 'helm-it-'));
    registry = await startOciRegistry({ executable: toolchain.registry!, dir: join(dir, 'registry') });
    await exec(helm, ['create', join(dir, 'shop')]);
    await exec(helm, ['package', join(dir, 'shop'), '--version', '1.2.0', '--destination', dir]);
    const { stdout, stderr } = await exec(helm, ['push', join(dir, 'shop-1.2.0.tgz'), `oci://${registry.host}/charts`, '--plain-http']);
    pushedDigest = /Digest: (sha256:[0-9a-f]{64})/.exec(stdout + stderr)![1]!;
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('pulls a pushed chart back by version with the digest the push reported', async () => {
    const pulled = await pullChart({ helm, plainHttp: true, ref: `oci://${registry.host}/charts/shop`, version: '1.2.0', dir: mkdtempSync(join(dir, 'pull-')) });
    expect(pulled.digest).toBe(pushedDigest);
    expect(pulled.archive).toMatch(/shop-1\.2\.0\.tgz$/);
  });

  it('renders the chart with values, from the registry and from the archive alike, without its test hook', async () => {
    const values = { replicaCount: 3, image: { tag: '1.27' } };
    const fromRegistry = await templateChart({ helm, plainHttp: true, chart: `oci://${registry.host}/charts/shop`, version: '1.2.0', release: 'web', namespace: 'shop-dev', values });
    expect(fromRegistry.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['ServiceAccount/web-shop', 'Service/web-shop', 'Deployment/web-shop']);
    const deployment = fromRegistry.find((m) => m.kind === 'Deployment') as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } } | undefined;
    expect(deployment?.spec.replicas).toBe(3);
    expect(deployment?.spec.template.spec.containers[0]?.image).toBe('nginx:1.27');
    const fromArchive = await templateChart({ helm, chart: join(dir, 'shop-1.2.0.tgz'), release: 'web', namespace: 'shop-dev', values });
    expect(fromArchive).toEqual(fromRegistry);
  });
});
