// The real Helm engine, as its CLI: `helm pull` resolves a chart reference to the digest a
// revision pins, `helm template` renders a chart with values into plain objects. Values go in a
// file (never on the command line, where they would show in a process list); the render is
// parsed into manifests, test hooks dropped, other hooks kept with their annotation.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from '../../domain/manifest.js';

const exec = promisify(execFile);

export const HOOK_ANNOTATION = 'helm.sh/hook';

export interface HelmOptions {
  helm: string;
  /** Talk plain HTTP to the registry (a registry on localhost). */
  plainHttp?: boolean;
  signal?: AbortSignal;
}

export interface PulledChart {
  /** The chart archive's registry digest (sha256:…): what a revision pins. */
  digest: string;
  /** The archive on disk (in `dir`). */
  archive: string;
}

/** Pulls oci://REGISTRY/REPO/CHART at a version or digest into `dir`; the archive and its digest. */
export async function pullChart(options: HelmOptions & { ref: string; version?: string; dir: string }): Promise<PulledChart> {
  const args = ['pull', options.ref, '--destination', options.dir, ...(options.version ? ['--version', options.version] : []), ...(options.plainHttp ? ['--plain-http'] : [])];
  const { stdout, stderr } = await exec(options.helm, args, { signal: options.signal, maxBuffer: 16 * 1024 * 1024 });
  const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(`${stdout}\n${stderr}`)?.[1];
  if (!digest) throw new Error(`helm pull ${options.ref} named no digest: ${(stdout + stderr).trim().slice(0, 500)}`);
  const archive = readdirSync(options.dir).find((f) => f.endsWith('.tgz'));
  if (!archive) throw new Error(`helm pull ${options.ref} left no chart archive in ${options.dir}`);
  return { digest, archive: join(options.dir, archive) };
}

/**
 * Renders a chart (an archive path, or an oci:// reference with `version`) as `release` in
 * `namespace` with `values`; the objects in the order Helm prints them, test hooks left out.
 */
export async function templateChart(options: HelmOptions & { chart: string; version?: string; release: string; namespace: string; values: Record<string, unknown> }): Promise<Manifest[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-helm-'));
  try {
    const valuesFile = join(dir, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(options.values), { mode: 0o600 });
    const args = [
      'template', options.release, options.chart, '--namespace', options.namespace, '--values', valuesFile, '--include-crds',
      ...(options.version ? ['--version', options.version] : []), ...(options.plainHttp ? ['--plain-http'] : []),
    ];
    const { stdout } = await exec(options.helm, args, { signal: options.signal, maxBuffer: 64 * 1024 * 1024 });
    return parseRender(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The objects of a `helm template` output; test hooks (helm.sh/hook: test…) are not deployed. */
export function parseRender(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null && typeof m === 'object' && typeof m.kind === 'string')
    .filter((m) => !(m.metadata.annotations?.[HOOK_ANNOTATION] ?? '').split(',').some((h) => h.trim().startsWith('test')));
}
