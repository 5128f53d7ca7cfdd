// flotilla secret set ENV NAME [--value V | --from-file F | stdin] and flotilla secret list ENV.
// Values go straight to the API (stored encrypted) and are never printed.
import { readFileSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Format, render } from '../output.js';

export async function setSecret(ctx: CommandContext, env: string, name: string, options: { value?: string; fromFile?: string }): Promise<void> {
  if (options.value !== undefined && options.fromFile !== undefined) throw new CliError('give --value or --from-file, not both', EXIT.usage);
  let value: string;
  try {
    value = options.value ?? readFileSync(options.fromFile ?? 0, 'utf8').replace(/\n$/, '');
  } catch (error) {
    throw new CliError(`cannot read the value: ${(error as Error).message}`, EXIT.usage);
  }
  if (value === '') throw new CliError('the secret value is empty', EXIT.usage);
  await ctx.client().request('PUT', `/v1/environments/${encodeURIComponent(env)}/secrets/${encodeURIComponent(name)}`, { json: { value } });
  ctx.io.out(`secret ${name} set in ${env}`);
}

export async function listSecrets(ctx: CommandContext, env: string, format: Format): Promise<void> {
  const { items } = await ctx.client().get<{ items: { name: string; updatedAt: string }[] }>(`/v1/environments/${encodeURIComponent(env)}/secrets`);
  ctx.io.out(render({ items }, format, items, [{ header: 'name', value: (s) => s.name }, { header: 'updated', value: (s) => s.updatedAt }]));
}
