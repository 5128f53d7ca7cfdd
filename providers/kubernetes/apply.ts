import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'flotilla';

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  resourceVersion?: string;
  generation?: number;
}

export interface ApplyOptions {
  /** Take ownership of fields another manager owns; off by default so conflicts surface. */
  force?: boolean;
  fieldManager?: string;
}

/**
 * Server-side applies each object in order (namespaces first is the caller's job: render
 * emits them first). Server-side apply is idempotent: applying the same objects again
 * changes nothing.
 */
export async function serverSideApply(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  options: ApplyOptions = {},
): Promise<AppliedObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const applied: AppliedObject[] = [];
  for (const object of objects) {
    const result = await client.patch(
      object,
      undefined,
      undefined,
      options.fieldManager ?? FIELD_MANAGER,
      options.force ?? false,
      PatchStrategy.ServerSideApply,
    );
    applied.push({
      apiVersion: result.apiVersion ?? object.apiVersion ?? '',
      kind: result.kind ?? object.kind ?? '',
      namespace: result.metadata?.namespace,
      name: result.metadata?.name ?? '',
      resourceVersion: result.metadata?.resourceVersion,
      generation: result.metadata?.generation,
    });
  }
  return applied;
}
