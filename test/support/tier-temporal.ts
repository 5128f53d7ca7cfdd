// The integration tier's Temporal clients, encrypted as in production: the key ring is the one
// global-setup made for the run (FLOTILLA_PAYLOAD_KEYS, inherited by in-process workers and
// worker processes alike). And payloads in histories (the temporal CLI's JSON, historyToJSON's):
// every payload found, decrypted where it was encrypted.
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { inject } from 'vitest';
import { dataConverterFromEnv, type FlotillaDataConverter } from '../../temporal/data-converter.js';
import { PAYLOAD_KEYS_ENV } from '../../temporal/key-ring.js';
import { ENCODING_ENCRYPTED } from '../../temporal/payload-codec.js';

export function tierDataConverter(): FlotillaDataConverter {
  return dataConverterFromEnv({ [PAYLOAD_KEYS_ENV]: inject('payloadKeys') });
}

/**
 * The workflow bundle global-setup built once for the tier, for an in-process worker
 * (runFlotillaWorker / createFlotillaWorker's `workflowBundle`): without it each worker would
 * bundle the same code again (seconds of webpack per test file).
 */
export function tierWorkflowBundle(): { codePath: string } {
  return { codePath: inject('workflowBundlePath') };
}

/** A client of the tier's Temporal server with the tier's codec (close its connection when done). */
export async function tierClient(): Promise<Client> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return new Client({ connection, namespace: inject('temporalNamespace'), dataConverter: tierDataConverter() });
}

/** A payload in a history's protobuf JSON: metadata values and data in base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const isPayload = (v: unknown): v is JsonPayload =>
  typeof v === 'object' && v !== null && typeof (v as JsonPayload).metadata === 'object' && typeof (v as JsonPayload).metadata?.encoding === 'string';

export const encodingOf = (p: JsonPayload) => Buffer.from(p.metadata?.encoding ?? '', 'base64').toString('utf8');

/** Every payload of a history (inputs, results, heartbeats, markers, failures' details), in order, with where it is (`events.12.markerRecordedEventAttributes.details…`). */
export function payloadEntries(history: unknown): { path: string; payload: JsonPayload }[] {
  const out: { path: string; payload: JsonPayload }[] = [];
  const walk = (v: unknown, path: string): void => {
    if (isPayload(v)) out.push({ path, payload: v });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}.${i}`));
    else if (typeof v === 'object' && v !== null) Object.entries(v).forEach(([k, x]) => walk(x, path ? `${path}.${k}` : k));
  };
  walk(history, '');
  return out;
}

export function payloadsOf(history: unknown): JsonPayload[] {
  return payloadEntries(history).map((e) => e.payload);
}

/** The history with every encrypted payload replaced by what it encrypts (others as they are). */
export async function decryptHistory<T>(history: T, codec: PayloadCodec = tierDataConverter().payloadCodecs[0]): Promise<T> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (isPayload(v)) {
      if (encodingOf(v) !== ENCODING_ENCRYPTED) return v;
      const [decoded] = await codec.decode([{
        metadata: Object.fromEntries(Object.entries(v.metadata ?? {}).map(([k, b64]) => [k, Buffer.from(b64, 'base64')])),
        data: Buffer.from(v.data ?? '', 'base64'),
      }]);
      return {
        metadata: Object.fromEntries(Object.entries(decoded!.metadata ?? {}).map(([k, bytes]) => [k, Buffer.from(bytes ?? new Uint8Array()).toString('base64')])),
        data: Buffer.from(decoded!.data ?? new Uint8Array()).toString('base64'),
      };
    }
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await walk(x)])));
    return v;
  };
  return (await walk(history)) as T;
}
