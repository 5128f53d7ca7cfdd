// An Application: the portable part (services, databases, config, secret names) written once.
// Environments name it and give only their binding and overrides (domain/environment.ts); the
// revision an environment runs is a snapshot of an Application's spec.
import { z } from 'zod';
import { AppSpec } from './environment.js';
import { API_VERSION, DnsLabel } from './names.js';

/** The `kind: Application` document of `flotilla apply -f`. */
export const ApplicationDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Application'),
  metadata: z.strictObject({ name: DnsLabel }),
  spec: AppSpec,
});
export type ApplicationDocument = z.infer<typeof ApplicationDocument>;
