// flotilla apply -f FILE (or -f - for stdin): sends the documents as they are written; the
// server validates them and answers per document.
import { readFileSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Format, render } from '../output.js';

interface ApplyResult {
  results: { kind: string; name: string; action: string; operationId?: string }[];
}

export async function apply(ctx: CommandContext, options: { file?: string; format: Format }): Promise<void> {
  if (!options.file) throw new CliError('-f FILE is required ("-f -" reads stdin)', EXIT.usage);
  let text: string;
  try {
    text = options.file === '-' ? await ctx.io.readStdin() : readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.usage);
  }
  if (!text.trim()) throw new CliError(`${options.file === '-' ? 'stdin' : options.file} is empty`, EXIT.usage);
  const contentType = /\.json$/i.test(options.file) ? 'application/json' : 'application/yaml';
  const { body } = await ctx.client().request<ApplyResult>('POST', '/v1/apply', { text, contentType });
  if (options.format !== 'table') {
    ctx.io.out(render(body, options.format, [], []));
    return;
  }
  for (const r of body.results) {
    ctx.io.out(`${r.kind.toLowerCase()}/${r.name} ${r.action}${r.operationId ? ` (operation ${r.operationId})` : ''}`);
  }
}
