// /v1/charts and /v1/bundles: chart archives and manifest bundles uploaded to Flotilla, stored
// content-addressed in the catalog. A spec names them by the digest the upload answers with
// (charts[].archive, manifests[].bundle); nothing is deployed by an upload.
import { z } from 'zod';
import { parseBundle } from '../../domain/charts.js';
import { badRequest } from '../errors.js';
import { defineRoute } from '../route.js';

/** A chart archive (.tgz), base64: `flotilla push chart FILE.tgz` sends it so. */
const ChartUpload = z.strictObject({ archive: z.string().min(1).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64') });

const UploadView = z.object({
  digest: z.string(),
  kind: z.enum(['chart', 'bundle']),
  size: z.number().int(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** A bundle's objects, as Kind/name. */
  objects: z.array(z.string()).optional(),
});

/** gzip's magic number: a chart archive is a gzipped tar. */
const isGzip = (bytes: Buffer) => bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

export const uploadRoutes = [
  defineRoute({
    method: 'post', path: '/charts', operationId: 'uploadChart', tag: 'charts',
    summary: 'Upload a Helm chart archive (.tgz, base64); answers its digest, which a spec names as charts[].archive. The same archive again is the same upload.',
    action: 'environment.write', body: ChartUpload,
    audit: { action: 'chart.upload', target: () => 'chart' },
    responses: { 201: { description: 'stored', schema: UploadView } },
    async handler({ body }, ctx) {
      const bytes = Buffer.from(body.archive, 'base64');
      if (!isGzip(bytes)) throw badRequest([{ path: 'archive', message: 'is not a chart archive (a gzipped tar, as `helm package` writes)' }]);
      const stored = await ctx.deps.catalog.uploads.putChart(bytes, ctx.principal.name);
      ctx.audit({ target: `chart/${stored.digest}`, details: { size: stored.size } });
      return { status: 201, body: stored };
    },
  }),
  defineRoute({
    method: 'post', path: '/bundles', operationId: 'uploadBundle', tag: 'charts',
    summary: 'Upload a bundle of plain Kubernetes manifests (a YAML stream); answers its digest, which a spec names as manifests[].bundle.',
    action: 'environment.write', body: z.string(),
    rawBody: { content: { 'application/yaml': z.string() } },
    audit: { action: 'bundle.upload', target: () => 'bundle' },
    responses: { 201: { description: 'stored', schema: UploadView } },
    async handler({ body }, ctx) {
      const parsed = parseBundle(body);
      if (!parsed.ok) throw badRequest(parsed.issues, 'the bundle is invalid');
      const stored = await ctx.deps.catalog.uploads.putBundle(parsed.value, ctx.principal.name);
      ctx.audit({ target: `bundle/${stored.digest}`, details: { objects: parsed.value.length } });
      return { status: 201, body: { ...stored, objects: parsed.value.map((o) => `${o.kind}/${o.metadata.name}`) } };
    },
  }),
];
