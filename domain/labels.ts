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

/** The label selector that finds every object of one environment. */
export function environmentSelector(environment: string): Record<string, string> {
  return { [LABEL.environment]: environment, [LABEL.managedBy]: MANAGED_BY };
}
