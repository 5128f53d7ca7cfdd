// A fake of the GKE API (container.googleapis.com v1) over HTTP/JSON, serving only what the
// adapter uses: clusters.get and clusters.list. It answers the way the real API answers a
// `$alt=json;enum-encoding=int` request (numeric enums, Google error bodies) and refuses any
// request without the expected bearer token or that encoding.
import { startRecordingServer, type FakeResponse, type RecordedRequest, type RecordingServer } from './recording-server.js';
import { registerSecret } from '../leak-registry.js';

/** A cluster as the API sends it (wire JSON: camelCase, enums as numbers). */
export interface GkeWireCluster {
  name: string;
  location: string;
  endpoint?: string;
  status?: number;
  currentMasterVersion?: string;
  currentNodeCount?: number;
  masterAuth?: { clusterCaCertificate?: string };
  nodePools?: { name: string; version?: string; status?: number; initialNodeCount?: number; locations?: string[] }[];
}

/** google.container.v1.Cluster.Status */
export const GkeStatus = { PROVISIONING: 1, RUNNING: 2, RECONCILING: 3, STOPPING: 4, ERROR: 5, DEGRADED: 6 } as const;

export interface GkeFake extends RecordingServer {
  addCluster(project: string, cluster: GkeWireCluster): void;
}

function googleError(code: number, status: string, message: string): FakeResponse {
  return { status: code, body: { error: { code, message, status } } };
}

export async function startGkeFake(options: { accessToken: string }): Promise<GkeFake> {
  registerSecret('OAuth access token of the GKE fake', options.accessToken);
  const clusters = new Map<string, GkeWireCluster[]>();
  const inProject = (project: string) => clusters.get(project) ?? [];

  const server = await startRecordingServer({
    guard: (request: RecordedRequest) => {
      if (request.headers.authorization !== `Bearer ${options.accessToken}`) {
        return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
      }
      if (request.query.$alt !== 'json;enum-encoding=int') return googleError(400, 'INVALID_ARGUMENT', 'fake expects $alt=json;enum-encoding=int');
      return undefined;
    },
    routes: [
      {
        method: 'GET',
        path: /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/,
        handle: (_request, [project, location, name]) => {
          const found = inProject(project!).find((c) => c.name === name && c.location === location);
          return found ? { status: 200, body: found } : googleError(404, 'NOT_FOUND', `Not found: projects/${project}/locations/${location}/clusters/${name}.`);
        },
      },
      {
        method: 'GET',
        path: /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters$/,
        handle: (_request, [project, location]) => ({
          status: 200,
          body: { clusters: inProject(project!).filter((c) => location === '-' || c.location === location) },
        }),
      },
    ],
    notFound: (request) => googleError(404, 'NOT_FOUND', `fake GKE has no ${request.method} ${request.path}`),
  });
  return {
    ...server,
    addCluster(project, cluster) {
      clusters.set(project, [...inProject(project), cluster]);
    },
  };
}
