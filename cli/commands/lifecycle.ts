// An environment's life: flotilla env create NAME --from SRC --cluster C makes one from another;
// flotilla delete environment NAME [--delete-data] [--wait] tears an environment
// down (teardownEnvironment); flotilla delete cluster NAME [--drain [--delete-data]] [--wait]
// offboards a cluster (offboardCluster), or forgets one already offboarded.
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Format, render } from '../output.js';
import { waitFor } from './deploy.js';

export interface CreateFromOptions {
  from: string;
  cluster: string;
  namespace?: string;
  tier?: string;
  residency?: string;
  updates?: string;
  format: Format;
}

export async function createEnvironmentFrom(ctx: CommandContext, name: string, options: CreateFromOptions): Promise<void> {
  const { from, format, ...binding } = options;
  const json = Object.fromEntries(Object.entries({ name, ...binding }).filter(([, v]) => v !== undefined));
  const { body } = await ctx.client().request<{ name: string; currentRevision?: string; updates: string }>('POST', `/v1/environments/${encodeURIComponent(from)}/copies`, { json });
  if (format !== 'table') {
    ctx.io.out(render(body, format, [], []));
    return;
  }
  ctx.io.out(`environment/${body.name} created from ${from} at ${body.currentRevision ?? '?'} (updates: ${body.updates}); deploy it with: flotilla deploy ${body.name}`);
}

export async function teardownEnvironment(ctx: CommandContext, name: string, options: { deleteData?: boolean; wait?: boolean; interval?: number }): Promise<void> {
  const query = options.deleteData ? '?deleteData=true' : '';
  const { body } = await ctx.client().request<{ operationId: string }>('DELETE', `/v1/environments/${encodeURIComponent(name)}${query}`);
  if (!options.wait) {
    ctx.io.out(`teardown started: operation ${body.operationId}`);
    return;
  }
  const final = await waitFor(ctx, body.operationId, options.interval ?? 1000);
  if (final.state !== 'completed' || final.outcome !== 'completed') {
    throw new CliError(`teardown ${body.operationId} ${final.outcome ?? final.state}${final.message ? `: ${final.message}` : ''}`, EXIT.failed);
  }
  ctx.io.out(`environment ${name} torn down${final.message ? ` (${final.message})` : ''}`);
}

export async function offboardCluster(ctx: CommandContext, name: string, options: { drain?: boolean; deleteData?: boolean; wait?: boolean; interval?: number }): Promise<void> {
  const flags = [options.drain ? 'drain=true' : '', options.deleteData ? 'deleteData=true' : ''].filter(Boolean).join('&');
  const { status, body } = await ctx.client().request<{ operationId: string } | undefined>('DELETE', `/v1/clusters/${encodeURIComponent(name)}${flags ? `?${flags}` : ''}`);
  if (status === 204 || !body) {
    ctx.io.out(`cluster ${name} (offboarded) removed from the catalog`);
    return;
  }
  if (!options.wait) {
    ctx.io.out(`offboarding started: operation ${body.operationId}`);
    return;
  }
  const final = await waitFor(ctx, body.operationId, options.interval ?? 1000);
  if (final.state !== 'completed' || final.outcome !== 'completed') {
    throw new CliError(`offboarding ${body.operationId} ${final.outcome ?? final.state}${final.message ? `: ${final.message}` : ''}`, EXIT.failed);
  }
  ctx.io.out(`cluster ${name} offboarded${final.message ? ` (${final.message})` : ''}`);
}

export async function stopOrStart(ctx: CommandContext, action: 'stop' | 'start', name: string, options: { wait?: boolean; interval?: number }): Promise<void> {
  const { body } = await ctx.client().request<{ operationId: string }>('POST', `/v1/environments/${encodeURIComponent(name)}/${action}`, { json: {} });
  if (!options.wait) {
    ctx.io.out(`${action} started: operation ${body.operationId}`);
    return;
  }
  const final = await waitFor(ctx, body.operationId, options.interval ?? 1000);
  if (final.state !== 'completed' || final.outcome !== 'completed') {
    throw new CliError(`${action} ${body.operationId} ${final.outcome ?? final.state}${final.message ? `: ${final.message}` : ''}`, EXIT.failed);
  }
  ctx.io.out(`environment ${name} ${action === 'stop' ? 'stopped' : 'started'}${final.message ? ` (${final.message})` : ''}`);
}
