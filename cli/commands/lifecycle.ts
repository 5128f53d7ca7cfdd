// An environment's life after it is made: flotilla delete environment NAME [--delete-data]
// [--wait] tears it down (a teardownEnvironment operation).
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { waitFor } from './deploy.js';

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
