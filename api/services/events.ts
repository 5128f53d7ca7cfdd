// What GET /v1/events streams: one poller per API process reads the catalog (what the observer
// and the workflows write there) every half second while anyone listens, and tells every
// listener what changed: the fleet view (its ETag), an environment's drift, an operation's
// state. The dashboard refetches what an event names; a client that misses events loses
// nothing, since every event points at state it can read again.
import type { Catalog } from '../../store/catalog.js';
import type { ReplyStream } from '../route.js';
import type { OperationRecord } from '../../store/operations.js';
import { fleetAnswer, type fleetView } from './fleet.js';

export type FleetEvent =
  | { type: 'fleet'; data: { etag: string; summary: unknown } }
  | { type: 'drift'; data: { environment: string; drifted: boolean; objects: number } }
  | { type: 'operation'; data: { id: string; kind: string; state: string; outcome?: string; updatedAt: string } };

type Listener = (event: FleetEvent) => void;

export interface EventHubOptions {
  catalog: Catalog;
  now: () => Date;
  intervalMs?: number;
  onError?(error: unknown): void;
}

export class FleetEventHub {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private etag: string | undefined;
  private drift = new Map<string, number>();
  private operationsSince: string | undefined;
  private readonly seenOperations = new Map<string, string>();
  private parsed: { etag: string; view: FleetViewBody } | undefined;

  constructor(private readonly options: EventHubOptions) {}

  /** Listens until the returned function is called; the first listener starts the poller. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.timer) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The current fleet ETag, for a listener's first event. */
  async current(): Promise<Extract<FleetEvent, { type: 'fleet' }>> {
    const { etag, view } = await this.fleet();
    // A poller's baseline is what its first listener was told: changes after it are events.
    if (this.etag === undefined && this.timer) {
      this.etag = etag;
      this.drift = driftOf(view);
    }
    return { type: 'fleet', data: { etag, summary: view.summary } };
  }

  /** The fleet as GET /v1/fleet answers it now (its cached answer when nothing changed). */
  private async fleet(): Promise<{ etag: string; view: FleetViewBody }> {
    const answer = await fleetAnswer(this.options.catalog, {}, this.options.now());
    if (this.parsed?.etag !== answer.etag) this.parsed = { etag: answer.etag, view: JSON.parse(answer.json) as FleetViewBody };
    return this.parsed;
  }

  private start(): void {
    // Baseline first: a new poller reports what changes from now on, not the whole past.
    this.operationsSince = this.options.now().toISOString();
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().catch((error: unknown) => this.options.onError?.(error)).finally(() => (this.ticking = undefined));
    }, this.options.intervalMs ?? 500);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.etag = undefined;
    this.drift.clear();
    this.seenOperations.clear();
  }

  private emit(event: FleetEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async tick(): Promise<void> {
    const { catalog } = this.options;
    const { etag, view } = await this.fleet();
    const first = this.etag === undefined;
    if (etag !== this.etag) {
      this.etag = etag;
      if (!first) this.emit({ type: 'fleet', data: { etag, summary: view.summary } });
    }
    const drift = driftOf(view);
    if (!first) {
      for (const [environment, objects] of drift) {
        if ((this.drift.get(environment) ?? 0) !== objects) this.emit({ type: 'drift', data: { environment, drifted: objects > 0, objects } });
      }
    }
    this.drift = drift;
    // `>=` with what was already told: a change in the same millisecond as the last is not lost.
    for (const op of await catalog.operations.changedSince(this.operationsSince!)) {
      if (op.updatedAt > this.operationsSince!) this.operationsSince = op.updatedAt;
      const stamp = `${op.state}|${op.outcome ?? ''}|${op.updatedAt}`;
      if (this.seenOperations.get(op.id) === stamp) continue;
      this.seenOperations.set(op.id, stamp);
      this.emit({ type: 'operation', data: operationData(op) });
    }
    for (const [id, stamp] of this.seenOperations) if (stamp.slice(stamp.lastIndexOf('|') + 1) < this.operationsSince!) this.seenOperations.delete(id);
  }
}

type FleetViewBody = Awaited<ReturnType<typeof fleetView>>;

function driftOf(view: FleetViewBody): Map<string, number> {
  return new Map(view.clusters.flatMap((c) => c.environments.map((e) => [e.name, e.driftedObjects] as const)));
}

function operationData(op: OperationRecord): Extract<FleetEvent, { type: 'operation' }>['data'] {
  return { id: op.id, kind: op.kind, state: op.state, ...(op.outcome ? { outcome: op.outcome } : {}), updatedAt: op.updatedAt };
}

/** One event in the text/event-stream format. */
export function sseFrame(event: FleetEvent | { type: 'hello'; data: { at: string } }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** A comment line now and then keeps proxies and idle timers from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

/** Writes `hello`, the current fleet ETag, then every event until the client goes or the time is up. */
export async function streamEvents(hub: FleetEventHub, out: ReplyStream, options: { timeoutMs: number; now: () => Date }): Promise<void> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const push = (frame: string) => {
    queue.push(frame);
    wake?.();
  };
  const unsubscribe = hub.subscribe((event) => push(sseFrame(event)));
  const keepAlive = setInterval(() => push(': keep-alive\n\n'), KEEP_ALIVE_MS);
  const deadline = setTimeout(() => {
    ended = true;
    wake?.();
  }, options.timeoutMs);
  out.signal.addEventListener('abort', () => wake?.(), { once: true });
  try {
    if (!(await out.write(sseFrame({ type: 'hello', data: { at: options.now().toISOString() } })))) return;
    if (!(await out.write(sseFrame(await hub.current())))) return;
    while (!out.signal.aborted && !ended) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (!(await out.write(queue.splice(0).join('')))) return;
    }
  } finally {
    clearTimeout(deadline);
    clearInterval(keepAlive);
    unsubscribe();
  }
}
