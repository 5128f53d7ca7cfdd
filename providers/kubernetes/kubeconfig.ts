import { KubeConfig } from '@kubernetes/client-node';

/** Parses a kubeconfig document; `context` picks one, else its current context. */
export function kubeConfigFromYaml(yaml: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(yaml);
  if (context) kc.setCurrentContext(context);
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no cluster for its current context');
  return kc;
}
