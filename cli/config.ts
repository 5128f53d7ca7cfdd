// Where `flotilla login` keeps the server and token: ~/.config/flotilla/config.json, mode
// 0600. FLOTILLA_SERVER and FLOTILLA_TOKEN override it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from './exit-codes.js';

const Config = z.object({ server: z.string().url(), token: z.string().min(1) });
export type Config = z.infer<typeof Config>;

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'flotilla', 'config.json');
}

export function saveConfig(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  const file = configPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its old mode on write
  return file;
}

function readSaved(env: NodeJS.ProcessEnv): Partial<Config> {
  const file = configPath(env);
  if (!existsSync(file)) return {};
  try {
    return Config.partial().parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    throw new CliError(`${file} is not a valid config; run "flotilla login" again`, EXIT.usage);
  }
}

/** The server and token to use: environment first, then the saved config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const saved = readSaved(env);
  const server = env.FLOTILLA_SERVER || saved.server;
  const token = env.FLOTILLA_TOKEN || saved.token;
  if (!server || !token) throw new CliError('not logged in: run "flotilla login --server URL --token TOKEN" (or set FLOTILLA_SERVER and FLOTILLA_TOKEN)', EXIT.auth);
  return { server: server.replace(/\/+$/, ''), token };
}
