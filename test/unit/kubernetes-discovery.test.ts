// Discovery in a long-lived client (providers/kubernetes/client.ts kindInfo): answers are cached
// per API version, but a kind the cached answer lacks is looked up afresh once — a pooled client
// outlives the CRDs created since it first asked — and an unknown kind still fails clearly.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, UnknownKindError } from '../../providers/kubernetes/client.js';

describe('KubeClient discovery', () => {
  let server: Server;
  let kinds = ['Widget'];
  const asked: string[] = [];
  let client: KubeClient;

  beforeAll(async () => {
    // A stand-in API server answering discovery of example.com/v1 with the kinds served right now.
    server = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'example.com/v1', resources: kinds.map((k) => ({ name: `${k.toLowerCase()}s`, kind: k, namespaced: true })) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    client = new KubeClient(kc);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('caches an answer, and asks again once for a kind it lacks (a CRD created since)', async () => {
    expect(await client.kindInfo('example.com/v1', 'Widget')).toMatchObject({ plural: 'widgets', namespaced: true });
    expect(await client.kindInfo('example.com/v1', 'Widget')).toMatchObject({ plural: 'widgets' });
    expect(asked).toEqual(['/apis/example.com/v1']);

    kinds = ['Widget', 'Gadget']; // a CRD of the same group is installed
    expect(await client.kindInfo('example.com/v1', 'Gadget')).toMatchObject({ plural: 'gadgets' });
    expect(asked).toHaveLength(2);
    expect(await client.path({ apiVersion: 'example.com/v1', kind: 'Gadget', namespace: 'ns', name: 'g' })).toBe('/apis/example.com/v1/namespaces/ns/gadgets/g');
    expect(asked).toHaveLength(2); // cached again

    await expect(client.kindInfo('example.com/v1', 'Nothing')).rejects.toBeInstanceOf(UnknownKindError);
  });
});
