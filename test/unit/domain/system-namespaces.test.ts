// An environment never lands in a system namespace (issue 10, finding 1, in part): the
// cluster's own (kube-*), Flotilla's (flotilla-system) or `default`, named or by default.
import { describe, expect, it } from 'vitest';
import { validateDocument } from '../../../domain/documents.js';
import { EnvironmentBinding } from '../../../domain/environment.js';
import { shopEnvironment } from '../../support/fixtures.js';

describe('system namespaces are refused', () => {
  it.each(['kube-system', 'kube-public', 'kube-node-lease', 'flotilla-system', 'default'])('spec.namespace %s', (namespace) => {
    const doc = shopEnvironment({ name: 'shop' }) as { spec: { namespace?: string } };
    doc.spec.namespace = namespace;
    const result = validateDocument(doc);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([{ path: 'spec.namespace', message: expect.stringContaining(`namespace "${namespace}" is a system namespace`) }]);
  });

  it('an environment named like one, whose namespace defaults to its name', () => {
    const result = validateDocument(shopEnvironment({ name: 'kube-system' }));
    expect(!result.ok && result.issues).toEqual([{ path: 'metadata.name', message: expect.stringContaining('is a system namespace') }]);
  });

  it('the catalog refuses such a binding too, and accepts an ordinary one', () => {
    const binding = { name: 'shop', application: 'shop', tier: 'dev', cluster: 'c1' };
    expect(EnvironmentBinding.safeParse({ ...binding, namespace: 'kube-system' }).success).toBe(false);
    expect(EnvironmentBinding.safeParse({ ...binding, namespace: 'shop-dev' }).success).toBe(true);
    expect(EnvironmentBinding.safeParse({ ...binding, namespace: 'kubernetes-tools' }).success).toBe(true);
  });
});
