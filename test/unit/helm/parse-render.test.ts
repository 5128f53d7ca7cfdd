// `helm template` output into manifests: empty documents skipped, test hooks left out, other
// hooks kept with their annotation (the deploy runs them at their moment).
import { describe, expect, it } from 'vitest';
import { parseRender } from '../../../providers/helm/cli.js';

const OUTPUT = `---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web-shop
---
# Source: shop/templates/empty.yaml
---
apiVersion: batch/v1
kind: Job
metadata:
  name: web-migrate
  annotations:
    "helm.sh/hook": pre-upgrade,pre-install
---
apiVersion: v1
kind: Pod
metadata:
  name: web-shop-test-connection
  annotations:
    "helm.sh/hook": test
`;

describe('parseRender', () => {
  it('keeps objects and non-test hooks in order, drops empty documents and test hooks', () => {
    expect(parseRender(OUTPUT)).toEqual([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web-shop' } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'web-migrate', annotations: { 'helm.sh/hook': 'pre-upgrade,pre-install' } } },
    ]);
  });
});
