/** The labels and annotations Flotilla puts on everything it renders. */
export const LABEL = {
  environment: 'flotilla.dev/environment',
  application: 'flotilla.dev/application',
  revision: 'flotilla.dev/revision',
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
} as const;

export const MANAGED_BY = 'flotilla';

/** On a rendered Secret: which catalog secret fills each key (JSON { key: secretName }). */
export const SECRET_REFS_ANNOTATION = 'flotilla.dev/secret-refs';

/**
 * On a pod template: SHA-256 (hex) of the canonical JSON of the effective config values the
 * pod's containers reference ({ key: value }). A changed value changes the template and so
 * rolls the pods, which would otherwise keep the values they started with.
 */
export const CONFIG_CHECKSUM_ANNOTATION = 'flotilla.dev/config-checksum';

/**
 * On a pod template: SHA-256 (hex) of the canonical JSON of the catalog secrets the pod
 * references and their versions ({ secretName: version }); never of their values.
 */
export const SECRETS_CHECKSUM_ANNOTATION = 'flotilla.dev/secrets-checksum';

/** The label selector that finds every object of one environment. */
export function environmentSelector(environment: string): Record<string, string> {
  return { [LABEL.environment]: environment, [LABEL.managedBy]: MANAGED_BY };
}
