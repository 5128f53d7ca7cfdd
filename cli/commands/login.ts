// flotilla login: check the token against the server, then save both (mode 0600).
import { Client } from '../client.js';
import { saveConfig } from '../config.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

export async function login(ctx: CommandContext, options: { server?: string; token?: string }): Promise<void> {
  const server = (options.server ?? ctx.env.FLOTILLA_SERVER)?.replace(/\/+$/, '');
  let token = options.token ?? ctx.env.FLOTILLA_TOKEN;
  if (token === '-') token = (await ctx.io.readStdin()).trim();
  if (!server) throw new CliError('--server URL is required (or FLOTILLA_SERVER)', EXIT.usage);
  if (!/^https?:\/\//.test(server)) throw new CliError(`--server must be an http(s) URL, not "${server}"`, EXIT.usage);
  if (!token) throw new CliError('--token TOKEN is required (or FLOTILLA_TOKEN; "--token -" reads it from stdin)', EXIT.usage);
  // Any authenticated read proves the token; viewers may read rules.
  await new Client({ server, token }).get('/v1/rules');
  const file = saveConfig({ server, token }, ctx.env);
  ctx.io.out(`Logged in to ${server}; saved to ${file}`);
}
