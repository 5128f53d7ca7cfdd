// Whether an environment takes part in a change that a teardown (or an offboarding) must not
// pull it out of: a promotion, clone, drill or scheduled clone still running that names it, or
// the environment being a clone itself (its own teardown removes it). One place decides it,
// for the API's 409 and the workflow's own check when it starts.
import type { Catalog } from './catalog.js';
import type { OperationKind, OperationState } from './operations.js';

const INVOLVING: readonly OperationKind[] = ['promotion', 'clone', 'drill', 'compliance-clone'];
const UNFINISHED: OperationState[] = ['running', 'waiting', 'paused'];

export interface Involvement {
  operationId: string;
  kind: OperationKind | 'clone-environment';
  message: string;
}

export async function involvementOf(catalog: Pick<Catalog, 'operations' | 'clones'>, environment: string): Promise<Involvement | undefined> {
  const clone = await catalog.clones.activeFor(environment);
  if (clone) {
    return {
      operationId: clone.id, kind: 'clone-environment',
      message: `environment "${environment}" is clone ${clone.id}; tear it down as a clone (flotilla clone delete ${clone.id})`,
    };
  }
  const { items } = await catalog.operations.list({ environment, state: UNFINISHED, limit: 100 });
  const op = items.find((o) => INVOLVING.includes(o.kind));
  if (!op) return undefined;
  return { operationId: op.id, kind: op.kind, message: `environment "${environment}" takes part in ${op.kind} ${op.id} (${op.state}); wait for it to end or cancel it` };
}
