// Pods that fail on purpose in the local fleet. KWOK simulates every pod; by default it makes each
// one Running and Ready at once. The stages in local/kwok/stages.yaml, which LocalFleet gives every
// cluster it creates, make a container whose image lies under the reserved test registry
// `fault.flotilla.test` fail the way a kubelet would report it instead. Only the image chooses the
// fault, so a Flotilla service or migration selects one through its ordinary `image` field.
//
//   FAULT_IMAGES.imagePull  the image can never be pulled: the container waits with reason
//                           ErrImagePull, then ImagePullBackOff (each with a message); the pod stays
//                           Pending and not ready.
//   FAULT_IMAGES.crashLoop  the container exits 1 on every start: it waits with reason
//                           CrashLoopBackOff, lastState terminated (Error), restartCount growing
//                           every ~2 s; the pod is Running and not ready. Under restartPolicy
//                           Never (a Job's pod) the pod fails instead (phase Failed, Error, exit 1).
//
// Any tag or digest of these repositories selects the same fault (`fault.flotilla.test/crash-loop:v2`,
// `…/crash-loop@sha256:…`), so that a test can deploy distinct revisions. Other containers of the
// same pod run and are ready. Pods whose nodes cannot fit them need no simulation: the real
// kube-scheduler leaves them Pending with PodScheduled=False, reason Unschedulable.
import { join } from 'node:path';
import { projectRoot } from './toolchain.js';

/** The reserved registry; no real image lives there. */
export const FAULT_REGISTRY = 'fault.flotilla.test';

/** One image name per simulated fault (tag `v1`; any tag or digest of the repository works). */
export const FAULT_IMAGES = {
  imagePull: `${FAULT_REGISTRY}/image-pull:v1`,
  crashLoop: `${FAULT_REGISTRY}/crash-loop:v1`,
} as const;

export type FaultKind = keyof typeof FAULT_IMAGES;

/** The repository (image without tag or digest) of each fault. */
export const FAULT_REPOSITORIES: Record<FaultKind, string> = {
  imagePull: `${FAULT_REGISTRY}/image-pull`,
  crashLoop: `${FAULT_REGISTRY}/crash-loop`,
};

/** The same fault under another tag, e.g. to roll out a second failing revision. */
export function faultImage(kind: FaultKind, tag = 'v1'): string {
  return `${FAULT_REPOSITORIES[kind]}:${tag}`;
}

/** Which fault an image simulates, if any (the same rule as the stages' selectors). */
export function faultOf(image: string): FaultKind | undefined {
  for (const kind of Object.keys(FAULT_REPOSITORIES) as FaultKind[]) {
    const repo = FAULT_REPOSITORIES[kind];
    if (image === repo || image.startsWith(`${repo}:`) || image.startsWith(`${repo}@`)) return kind;
  }
  return undefined;
}

/** The container waiting reasons a kubelet would report for each fault. */
export const FAULT_WAITING_REASONS: Record<FaultKind, readonly string[]> = {
  imagePull: ['ErrImagePull', 'ImagePullBackOff'],
  crashLoop: ['CrashLoopBackOff'],
};

/** The KWOK Stage configuration (node and pod stages) that every local cluster runs with. */
export const KWOK_STAGES_FILE = join(projectRoot, 'local', 'kwok', 'stages.yaml');
