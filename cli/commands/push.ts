// flotilla push chart FILE.tgz | push bundle FILE.yaml: uploads a Helm chart archive (as `helm
// package` writes it) or a bundle of plain manifests to Flotilla, which stores it by content and
// answers its digest: what a spec names as charts[].archive or manifests[].bundle.
import { readFileSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Format, render } from '../output.js';

interface Upload { digest: string; kind: string; size: number; objects?: string[] }

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.usage);
  }
}

export async function push(ctx: CommandContext, what: string, file: string, options: { format: Format }): Promise<void> {
  let upload: Upload;
  if (what === 'chart') {
    upload = (await ctx.client().request<Upload>('POST', '/v1/charts', { json: { archive: read(file).toString('base64') } })).body;
  } else if (what === 'bundle') {
    upload = (await ctx.client().request<Upload>('POST', '/v1/bundles', { text: read(file).toString('utf8'), contentType: 'application/yaml' })).body;
  } else {
    throw new CliError(`push what? "chart" or "bundle", not "${what}"`, EXIT.usage);
  }
  if (options.format !== 'table') return ctx.io.out(render(upload, options.format, [], []));
  const reference = what === 'chart' ? `charts[].archive: ${upload.digest}` : `manifests[].bundle: ${upload.digest}`;
  ctx.io.out(`${what} ${upload.digest} (${upload.size} bytes${upload.objects ? `, ${upload.objects.length} objects` : ''})\nname it in a spec as ${reference}`);
}
