// Chart archives and manifest bundles uploaded to Flotilla (issue 14), content-addressed: a
// chart archive by the sha256 of its bytes, a bundle by the sha256 of its documents' canonical
// JSON. A spec names them by digest; what a digest names never changes.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical.js';
import type { Manifest } from '../domain/manifest.js';
import { nowIso } from './columns.js';
import { guard } from './errors.js';
import type { CatalogDb } from './transaction.js';

export interface StoredUpload {
  digest: string;
  kind: 'chart' | 'bundle';
  size: number;
  createdBy: string;
  createdAt: string;
}

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export class UploadRepository {
  constructor(private readonly db: CatalogDb) {}

  /** Stores a chart archive (.tgz bytes); the same bytes again are the same upload. */
  async putChart(archive: Buffer, by: string): Promise<StoredUpload> {
    return this.put('chart', sha256(archive), archive.toString('base64'), archive.length, by);
  }

  /** Stores a bundle of documents; the same documents again are the same upload. */
  async putBundle(documents: readonly Manifest[], by: string): Promise<StoredUpload> {
    const json = canonicalJson(documents);
    return this.put('bundle', sha256(json), json, Buffer.byteLength(json), by);
  }

  async chart(digest: string): Promise<Buffer | undefined> {
    const row = await this.row('chart', digest);
    return row && Buffer.from(row.content, 'base64');
  }

  async bundle(digest: string): Promise<Manifest[] | undefined> {
    const row = await this.row('bundle', digest);
    return row && (JSON.parse(row.content) as Manifest[]);
  }

  private async row(kind: 'chart' | 'bundle', digest: string) {
    return guard('get upload', () => this.db.selectFrom('uploads').select('content').where('digest', '=', digest).where('kind', '=', kind).executeTakeFirst());
  }

  private async put(kind: 'chart' | 'bundle', digest: string, content: string, size: number, by: string): Promise<StoredUpload> {
    const createdAt = nowIso();
    await guard('store upload', () => this.db.insertInto('uploads')
      .values({ digest, kind, content, size, created_by: by, created_at: createdAt })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute());
    const row = await guard('get upload', () => this.db.selectFrom('uploads').select(['digest', 'kind', 'size', 'created_by', 'created_at']).where('digest', '=', digest).executeTakeFirstOrThrow());
    return { digest: row.digest, kind: row.kind, size: row.size, createdBy: row.created_by, createdAt: row.created_at };
  }
}
