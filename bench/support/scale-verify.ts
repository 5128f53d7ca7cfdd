// The independent check of bench/scale.ts: straight from the API servers with kubectl (one list
// of the application's Deployments per real server, every namespace at once), every target's
// Deployments run the new image tag, carry the new revision's label and are fully rolled out;
// and the catalog records the revision as deployed there.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LABEL } from '../../domain/labels.js';
import { shortRevision } from '../../domain/revision.js';
import type { Catalog } from '../../store/catalog.js';

const exec = promisify(execFile);

interface LiveDeployment {
  metadata: { name: string; namespace: string; generation?: number; labels?: Record<string, string> };
  spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

export interface ScaleTarget {
  environment: string;
  namespace: string;
  /** Kubeconfig file of the real API server behind its catalog entry. */
  kubeconfigPath: string;
}

/** What is wrong, per target (empty: all at `revision`); `deployments` per target expected. */
export async function verifyTargets(opts: {
  kubectl: string;
  catalog: Catalog;
  application: string;
  targets: readonly ScaleTarget[];
  deployments: readonly string[];
  tag: string;
  revision: string;
}): Promise<{ checked: number; problems: string[] }> {
  const servers = [...new Set(opts.targets.map((t) => t.kubeconfigPath))];
  const byNamespace = new Map<string, LiveDeployment[]>();
  for (const kubeconfig of servers) {
    const { stdout } = await exec(opts.kubectl, [
      '--kubeconfig', kubeconfig, 'get', 'deployments', '--all-namespaces', '-l', `${LABEL.application}=${opts.application}`, '-o', 'json',
    ], { maxBuffer: 512 * 1024 * 1024 });
    for (const d of (JSON.parse(stdout) as { items: LiveDeployment[] }).items) {
      const key = `${kubeconfig}\n${d.metadata.namespace}`;
      byNamespace.set(key, [...byNamespace.get(key) ?? [], d]);
    }
  }
  const problems: string[] = [];
  for (const t of opts.targets) {
    const items = byNamespace.get(`${t.kubeconfigPath}\n${t.namespace}`) ?? [];
    const names = items.map((d) => d.metadata.name).sort();
    if (names.join() !== [...opts.deployments].sort().join()) problems.push(`${t.environment}: Deployments [${names.join(', ')}], expected [${opts.deployments.join(', ')}]`);
    for (const d of items) {
      const image = d.spec.template.spec.containers[0]!.image;
      const st = d.status ?? {};
      const want = d.spec.replicas ?? 1;
      if (!image.endsWith(`:${opts.tag}`)) problems.push(`${t.namespace}/${d.metadata.name} runs ${image}`);
      if (d.metadata.labels?.[LABEL.revision] !== shortRevision(opts.revision)) problems.push(`${t.namespace}/${d.metadata.name} labelled ${d.metadata.labels?.[LABEL.revision]}`);
      if ((st.observedGeneration ?? 0) < (d.metadata.generation ?? 0) || st.updatedReplicas !== want || st.availableReplicas !== want || (st.replicas ?? 0) > want) {
        problems.push(`${t.namespace}/${d.metadata.name} not rolled out: ${JSON.stringify(st)}`);
      }
    }
    const recorded = (await opts.catalog.environments.require(t.environment)).deployed?.revision;
    if (recorded !== opts.revision) problems.push(`${t.environment}: the catalog records ${recorded ?? 'nothing'} as deployed`);
  }
  return { checked: opts.targets.length, problems };
}
