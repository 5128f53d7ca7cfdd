// What every command gets: output streams, the environment, and a lazily made client.
import { Client } from './client.js';
import { loadConfig } from './config.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

export interface CommandContext {
  io: Io;
  env: NodeJS.ProcessEnv;
  client(): Client;
}

export function commandContext(io: Io, env: NodeJS.ProcessEnv): CommandContext {
  let client: Client | undefined;
  return { io, env, client: () => (client ??= new Client(loadConfig(env))) };
}
