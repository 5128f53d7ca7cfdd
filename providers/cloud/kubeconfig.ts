// A kubeconfig document (the text of a catalog secret, or what AKS hands out) read into a
// cluster's server, CA and credentials. Stored kubeconfigs must be self-contained: file
// references and exec plugins would run or read things on the worker, so they are refused
// with a message saying what to do instead.
import { parse as parseYaml } from 'yaml';

// The parser reports warnings (an unknown tag, …) on stderr with the offending line, which in a
// kubeconfig may be a `token:` line: never let it speak.
const QUIET = { logLevel: 'error' } as const;
import { z } from 'zod';
import { isBase64, normalizeServer, staticTokenSource, type ClusterAccess } from './access.js';
import { invalidInput } from './errors.js';

const NamedCluster = z.looseObject({
  name: z.string().min(1),
  cluster: z.looseObject({
    server: z.string().min(1),
    'certificate-authority-data': z.string().optional(),
    'certificate-authority': z.string().optional(),
    'insecure-skip-tls-verify': z.boolean().optional(),
    'tls-server-name': z.string().optional(),
  }),
});
const NamedUser = z.looseObject({
  name: z.string().min(1),
  user: z
    .looseObject({
      token: z.string().optional(),
      tokenFile: z.string().optional(),
      'client-certificate-data': z.string().optional(),
      'client-key-data': z.string().optional(),
      'client-certificate': z.string().optional(),
      'client-key': z.string().optional(),
      username: z.string().optional(),
      password: z.string().optional(),
      exec: z.looseObject({ command: z.string().optional() }).optional(),
      'auth-provider': z.looseObject({ name: z.string().optional() }).optional(),
    })
    .nullish(),
});
const NamedContext = z.looseObject({
  name: z.string().min(1),
  context: z.looseObject({ cluster: z.string().min(1), user: z.string().optional(), namespace: z.string().optional() }),
});
const KubeconfigDocument = z.looseObject({
  kind: z.literal('Config').optional(),
  clusters: z.array(NamedCluster).nullish(),
  users: z.array(NamedUser).nullish(),
  contexts: z.array(NamedContext).nullish(),
  'current-context': z.string().optional(),
});

export type KubeconfigAuth =
  | { kind: 'token'; token: string }
  | { kind: 'client-certificate'; certData: string; keyData: string }
  | { kind: 'none' }
  /** An exec plugin or auth-provider (kubelogin, gke-gcloud-auth-plugin…): not run here. */
  | { kind: 'external'; via: string };

export interface ParsedKubeconfig {
  context: string;
  cluster: string;
  user?: string;
  namespace?: string;
  server: string;
  caData?: string;
  tlsServerName?: string;
  auth: KubeconfigAuth;
}

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(`kubeconfig: ${message}`);
    this.name = 'KubeconfigError';
  }
}

const SELF_CONTAINED = 'store a self-contained kubeconfig (kubectl config view --raw --flatten --minify)';

/** Reads one context of a kubeconfig: `context`, else its current context, else its only one. */
export function parseKubeconfig(text: string, context?: string): ParsedKubeconfig {
  if (!text.trim()) throw new KubeconfigError('document is empty');
  let raw: unknown;
  try {
    raw = parseYaml(text, QUIET);
  } catch (error) {
    // The YAML parser quotes the offending line, which may hold a credential: keep position only.
    const where = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new KubeconfigError(`not valid YAML${where ? ` (line ${where.line}, column ${where.col})` : ''}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KubeconfigError('document is not a mapping');
  const parsed = KubeconfigDocument.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new KubeconfigError(`malformed: ${problems.join('; ')}`);
  }
  const doc = parsed.data;
  const contexts = doc.contexts ?? [];
  const names = contexts.map((c) => c.name);
  const wanted = context ?? doc['current-context'] ?? (contexts.length === 1 ? contexts[0]!.name : undefined);
  if (!wanted) {
    throw new KubeconfigError(contexts.length ? `has no current-context; name one of: ${names.join(', ')}` : 'has no contexts');
  }
  const ctx = contexts.find((c) => c.name === wanted);
  if (!ctx) throw new KubeconfigError(`context "${wanted}" not found${names.length ? ` (contexts: ${names.join(', ')})` : ''}`);

  const cluster = (doc.clusters ?? []).find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster) throw new KubeconfigError(`context "${wanted}" refers to cluster "${ctx.context.cluster}", which is not in the document`);
  if (cluster['insecure-skip-tls-verify']) {
    throw new KubeconfigError(`cluster "${ctx.context.cluster}" sets insecure-skip-tls-verify; Flotilla verifies every API server: add certificate-authority-data`);
  }
  if (cluster['certificate-authority'] && !cluster['certificate-authority-data']) {
    throw new KubeconfigError(`cluster "${ctx.context.cluster}" refers to a CA file; ${SELF_CONTAINED}`);
  }
  const caData = cluster['certificate-authority-data'];
  if (caData !== undefined && !isBase64(caData)) throw new KubeconfigError(`cluster "${ctx.context.cluster}": certificate-authority-data is not base64`);
  let server: string;
  try {
    server = normalizeServer(cluster.server);
  } catch (error) {
    throw new KubeconfigError(`cluster "${ctx.context.cluster}": ${(error as Error).message}`);
  }
  if (!server.startsWith('https://')) throw new KubeconfigError(`cluster "${ctx.context.cluster}": server must be an https URL`);

  let auth: KubeconfigAuth = { kind: 'none' };
  if (ctx.context.user) {
    const entry = (doc.users ?? []).find((u) => u.name === ctx.context.user);
    if (!entry) throw new KubeconfigError(`context "${wanted}" refers to user "${ctx.context.user}", which is not in the document`);
    auth = userAuth(ctx.context.user, entry.user ?? {});
  }
  return {
    context: wanted,
    cluster: ctx.context.cluster,
    user: ctx.context.user,
    namespace: ctx.context.namespace,
    server,
    caData,
    tlsServerName: cluster['tls-server-name'],
    auth,
  };
}

function userAuth(name: string, user: NonNullable<z.infer<typeof NamedUser>['user']>): KubeconfigAuth {
  const cert = user['client-certificate-data'];
  const key = user['client-key-data'];
  if (user['client-certificate'] || user['client-key'] || user.tokenFile) {
    throw new KubeconfigError(`user "${name}" refers to files; ${SELF_CONTAINED}`);
  }
  if (user.token) return { kind: 'token', token: user.token };
  if (cert || key) {
    if (!cert || !key) throw new KubeconfigError(`user "${name}" has client-${cert ? 'certificate' : 'key'}-data but no client-${cert ? 'key' : 'certificate'}-data`);
    if (!isBase64(cert) || !isBase64(key)) throw new KubeconfigError(`user "${name}": client certificate and key data must be base64`);
    return { kind: 'client-certificate', certData: cert, keyData: key };
  }
  if (user.exec) return { kind: 'external', via: `exec plugin "${user.exec.command ?? '?'}"` };
  if (user['auth-provider']) return { kind: 'external', via: `auth-provider "${user['auth-provider'].name ?? '?'}"` };
  if (user.username || user.password) throw new KubeconfigError(`user "${name}" uses basic authentication, which Kubernetes no longer supports`);
  return { kind: 'none' };
}

/** The access a stored kubeconfig gives: a static token, a client certificate, or nothing. */
export function kubeconfigAccess(text: string, context?: string): ClusterAccess {
  let parsed: ParsedKubeconfig;
  try {
    parsed = parseKubeconfig(text, context);
  } catch (error) {
    if (error instanceof KubeconfigError) throw invalidInput('kubeconfig', 'access', error.message);
    throw error;
  }
  const { auth } = parsed;
  if (auth.kind === 'external') {
    throw invalidInput('kubeconfig', 'access', `kubeconfig: user "${parsed.user}" authenticates through an ${auth.via}, which Flotilla does not run; use an eks, gke or aks connection, a token or a client certificate`);
  }
  return {
    provider: 'kubeconfig',
    name: parsed.context,
    server: parsed.server,
    caData: parsed.caData,
    tlsServerName: parsed.tlsServerName,
    credentials:
      auth.kind === 'token'
        ? { kind: 'token', token: staticTokenSource(auth.token) }
        : auth.kind === 'client-certificate'
          ? { kind: 'client-certificate', certData: auth.certData, keyData: auth.keyData }
          : { kind: 'none' },
  };
}

/** Every context of a kubeconfig, for discovery; contexts that cannot be used are skipped. */
export function kubeconfigContexts(text: string): ParsedKubeconfig[] {
  let raw: unknown;
  try {
    raw = parseYaml(text, QUIET);
  } catch {
    throw invalidInput('kubeconfig', 'discover', 'kubeconfig: not valid YAML');
  }
  const contexts = KubeconfigDocument.safeParse(raw).data?.contexts ?? [];
  const found: ParsedKubeconfig[] = [];
  for (const { name } of contexts) {
    try {
      found.push(parseKubeconfig(text, name));
    } catch {
      // Unusable contexts are not candidates.
    }
  }
  return found;
}
