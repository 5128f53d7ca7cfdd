// The local fleet's failing pods (local/kwok/stages.yaml, local/kwok-faults.ts), checked with
// kubectl against a real kube-apiserver, scheduler and controller-manager: a fault image makes
// its pods fail the way a kubelet reports it, the Deployment controller gives up on the rollout
// with ProgressDeadlineExceeded, and ordinary images still become ready.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAULT_IMAGES, faultImage } from '../../local/kwok-faults.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { until } from '../support/wait.js';

const [cluster] = inject('clusters');
const kubectlBinary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 6);
const namespace = `kwok-faults-${run}`;
/** The rollouts' spec.progressDeadlineSeconds. */
const DEADLINE_S = 10;
/** How late after the deadline the controller-manager may report it (whole seconds, server clock). */
const MARGIN_S = 8;

const k = (args: string[]) => kubectl(kubectlBinary, cluster!.kubeconfigPath, args);
const kJson = <T>(args: string[]) => kubectlJson<T>(kubectlBinary, cluster!.kubeconfigPath, args);

interface Condition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }
interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state: { waiting?: { reason: string; message?: string }; running?: object; terminated?: { reason: string; exitCode: number } };
  lastState?: { terminated?: { reason: string; exitCode: number } };
}
interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { phase: string; conditions?: Condition[]; containerStatuses?: ContainerStatus[] };
}
interface Deployment {
  metadata: { creationTimestamp: string };
  status: { conditions?: Condition[]; readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number };
}

async function apply(object: object): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-kwok-faults-'));
  try {
    const file = join(dir, 'object.json');
    writeFileSync(file, JSON.stringify(object));
    await k(['apply', '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Deployment as Flotilla renders one: only the container's image and resources vary. */
function deployment(name: string, image: string, options: { replicas?: number; cpu?: string } = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: options.replicas ?? 2,
      progressDeadlineSeconds: DEADLINE_S,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{
            name,
            image,
            env: [{ name: 'FLOTILLA_SERVICE', value: name }],
            ports: [{ containerPort: 8080 }],
            resources: { requests: { cpu: options.cpu ?? '100m', memory: '64Mi' } },
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
          }],
        },
      },
    },
  };
}

async function pods(app: string): Promise<Pod[]> {
  return (await kJson<{ items: Pod[] }>(['get', 'pods', '-n', namespace, '-l', `app=${app}`])).items;
}

const condition = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);

/**
 * Waits for Progressing=False/ProgressDeadlineExceeded; returns it and how many seconds after the
 * Deployment's creation the controller-manager set it (server times, whole seconds).
 */
async function progressDeadlineExceeded(name: string): Promise<{ condition: Condition; afterS: number }> {
  let found: { condition: Condition; afterS: number } | undefined;
  await until(`${name}: ProgressDeadlineExceeded`, async () => {
    const d = await kJson<Deployment>(['get', 'deployment', name, '-n', namespace]);
    const progressing = condition(d.status.conditions, 'Progressing');
    if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
      const afterS = (Date.parse(progressing.lastTransitionTime!) - Date.parse(d.metadata.creationTimestamp)) / 1000;
      found = { condition: progressing, afterS };
    }
    return found !== undefined;
  }, (DEADLINE_S + 60) * 1000);
  return found!;
}

beforeAll(async () => {
  await k(['create', 'namespace', namespace]);
  // All at once, so that their deadlines run side by side.
  const all: [string, object][] = [
    ['image-pull', deployment('image-pull', FAULT_IMAGES.imagePull)],
    ['crash-loop', deployment('crash-loop', FAULT_IMAGES.crashLoop)],
    // More CPU than any (fake) node has: the real scheduler cannot place it.
    ['unschedulable', deployment('unschedulable', 'registry.example/shop/api:1.0', { cpu: '100000' })],
    ['ordinary', deployment('ordinary', 'registry.example/shop/web:1.0', { replicas: 3 })],
  ];
  for (const [, object] of all) await apply(object);
});

afterAll(async () => {
  await k(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
});

describe('KWOK fault images', () => {
  it('an ordinary image still becomes Running and Ready', async () => {
    await until('ordinary: 3 ready replicas', async () => {
      const d = await kJson<Deployment>(['get', 'deployment', 'ordinary', '-n', namespace]);
      return d.status.readyReplicas === 3 && d.status.availableReplicas === 3;
    }, 60_000);
    for (const pod of await pods('ordinary')) {
      expect(pod.status.phase).toBe('Running');
      expect(condition(pod.status.conditions, 'Ready')?.status).toBe('True');
      expect(pod.status.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0, state: { running: {} } });
    }
    const d = await kJson<Deployment>(['get', 'deployment', 'ordinary', '-n', namespace]);
    expect(condition(d.status.conditions, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('an image that cannot be pulled: ErrImagePull, then ImagePullBackOff; Pending and never ready', async () => {
    await until('image-pull: 2 pods in ImagePullBackOff', async () => {
      const list = await pods('image-pull');
      return list.length === 2 && list.every((p) => p.status.containerStatuses?.[0]?.state.waiting?.reason === 'ImagePullBackOff');
    }, 30_000);
    for (const pod of await pods('image-pull')) {
      expect(pod.status.phase).toBe('Pending');
      expect(pod.spec.nodeName).toBeTruthy();
      expect(condition(pod.status.conditions, 'Ready')).toMatchObject({
        status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [image-pull]',
      });
      const status = pod.status.containerStatuses![0]!;
      expect(status).toMatchObject({ name: 'image-pull', ready: false, restartCount: 0 });
      expect(status.state.waiting!.message).toBe(
        `Back-off pulling image "${FAULT_IMAGES.imagePull}": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image `
        + `"${FAULT_IMAGES.imagePull}": failed to resolve reference "${FAULT_IMAGES.imagePull}": ${FAULT_IMAGES.imagePull}: not found`,
      );
    }
    const events = await kJson<{ items: { reason: string; message: string; involvedObject: { kind: string } }[] }>(
      ['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.kind=Pod'],
    );
    expect(events.items.some((e) => e.reason === 'Failed' && e.message === 'Error: ErrImagePull')).toBe(true);
  });

  it('a container that crashes: CrashLoopBackOff, restartCount growing; Running and never ready', async () => {
    await until('crash-loop: 2 pods in CrashLoopBackOff', async () => {
      const list = await pods('crash-loop');
      return list.length === 2 && list.every((p) => p.status.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff');
    }, 30_000);
    const first = await pods('crash-loop');
    const restarts = new Map(first.map((p) => [p.metadata.name, p.status.containerStatuses![0]!.restartCount]));
    for (const pod of first) {
      expect(pod.status.phase).toBe('Running');
      expect(condition(pod.status.conditions, 'Ready')).toMatchObject({
        status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [crash-loop]',
      });
      const status = pod.status.containerStatuses![0]!;
      expect(status).toMatchObject({ name: 'crash-loop', ready: false, lastState: { terminated: { reason: 'Error', exitCode: 1 } } });
      expect(status.restartCount).toBeGreaterThanOrEqual(1);
      expect(status.state.waiting!.message).toMatch(new RegExp(`^back-off \\S+ restarting failed container=crash-loop pod=${pod.metadata.name}_${namespace}\\(`));
    }
    await until('crash-loop: restartCount grows', async () => {
      const now = await pods('crash-loop');
      return now.every((p) => p.status.containerStatuses![0]!.restartCount > (restarts.get(p.metadata.name) ?? Infinity));
    }, 15_000);
    for (const pod of await pods('crash-loop')) {
      expect(condition(pod.status.conditions, 'Ready')?.status).toBe('False');
      expect(pod.status.containerStatuses![0]!.state.waiting?.reason).toBe('CrashLoopBackOff');
    }
  });

  it('a pod that asks more CPU than any node has stays Pending, Unschedulable (the real scheduler)', async () => {
    await until('unschedulable: PodScheduled=False', async () => {
      const list = await pods('unschedulable');
      return list.length === 2 && list.every((p) => condition(p.status.conditions, 'PodScheduled')?.status === 'False');
    }, 30_000);
    for (const pod of await pods('unschedulable')) {
      expect(pod.status.phase).toBe('Pending');
      expect(pod.spec.nodeName).toBeUndefined();
      const scheduled = condition(pod.status.conditions, 'PodScheduled')!;
      expect(scheduled.reason).toBe('Unschedulable');
      expect(scheduled.message).toMatch(/^0\/\d+ nodes are available: \d+ Insufficient cpu\./);
    }
  });

  it.each(['image-pull', 'crash-loop', 'unschedulable'])(
    '%s: the Deployment reports ProgressDeadlineExceeded soon after progressDeadlineSeconds',
    async (name) => {
      const { condition: progressing, afterS } = await progressDeadlineExceeded(name);
      console.error(`[kwok-faults] ${name}: ProgressDeadlineExceeded ${afterS}s after creation (deadline ${DEADLINE_S}s): ${progressing.message}`);
      expect(progressing.message).toMatch(/^ReplicaSet "[a-z0-9-]+" has timed out progressing\.$/);
      expect(afterS).toBeLessThanOrEqual(DEADLINE_S + MARGIN_S);
      const d = await kJson<Deployment>(['get', 'deployment', name, '-n', namespace]);
      expect(d.status.readyReplicas ?? 0).toBe(0);
      expect(condition(d.status.conditions, 'Available')?.status).toBe('False');
    },
  );

  it('a crashing container under restartPolicy Never fails its pod (any tag or digest selects the fault)', async () => {
    const image = `${faultImage('crashLoop', 'v2').split(':')[0]}@sha256:${'0'.repeat(64)}`;
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'crash-once', namespace },
      spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] },
    });
    await until('crash-once: Failed', async () => {
      const pod = await kJson<Pod>(['get', 'pod', 'crash-once', '-n', namespace]);
      return pod.status.phase === 'Failed';
    }, 30_000);
    const pod = await kJson<Pod>(['get', 'pod', 'crash-once', '-n', namespace]);
    expect(pod.status.containerStatuses?.[0]).toMatchObject({ ready: false, state: { terminated: { reason: 'Error', exitCode: 1 } } });
  });
});
