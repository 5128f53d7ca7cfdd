// The one DataConverter of every Temporal Client and Worker Flotilla creates (worker, API, dev
// command, benchmarks, integration tests): the SDK's default payload converter, then the
// AES-256-GCM payload codec over the key ring FLOTILLA_PAYLOAD_KEYS names.
//
// Without a key ring the worker and the API refuse to start (secure by default): a process that
// silently wrote plaintext would undo the encryption of everything else. The dev command and the
// integration tier always make one (.flotilla/dev/payload-keys.json, the tier's temp dir).
// Workflow unit tests on TestWorkflowEnvironment run without a codec.
import type { DataConverter } from '@temporalio/common';
import { keyRingFromEnv, type PayloadKeyRing } from './key-ring.js';
import { AesGcmPayloadCodec } from './payload-codec.js';

export interface FlotillaDataConverter extends DataConverter {
  payloadCodecs: [AesGcmPayloadCodec];
}

export function flotillaDataConverter(keys: PayloadKeyRing | AesGcmPayloadCodec): FlotillaDataConverter {
  return { payloadCodecs: [keys instanceof AesGcmPayloadCodec ? keys : new AesGcmPayloadCodec(keys)] };
}

/** The data converter over FLOTILLA_PAYLOAD_KEYS; throws PayloadKeysError (naming the variable) when it is not set or not valid. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): FlotillaDataConverter {
  return flotillaDataConverter(keyRingFromEnv(env));
}
