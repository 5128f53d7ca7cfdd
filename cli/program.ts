// The `flotilla` command line: commander wiring only; each command lives in commands/.
import { Command, CommanderError, Option } from 'commander';
import { apply } from './commands/apply.js';
import { deploy } from './commands/deploy.js';
import { login } from './commands/login.js';
import { describe, diff, get } from './commands/resources.js';
import { commandContext, type Io } from './context.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { FORMATS, parseFormat } from './output.js';

const outputOption = () => new Option('-o, --output <format>', 'output format').choices([...FORMATS]).default('table');

export function buildProgram(io: Io, env: NodeJS.ProcessEnv): Command {
  const ctx = commandContext(io, env);
  const program = new Command('flotilla')
    .description('Manage a fleet of Kubernetes clusters as one, through the Flotilla API.')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run "flotilla --help" for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program.command('login')
    .description('Check a token against a server and save both to ~/.config/flotilla/config.json (mode 0600)')
    .option('--server <url>', 'API base URL, e.g. http://127.0.0.1:8080')
    .option('--token <token>', 'API token ("-" reads it from stdin)')
    .action((o: { server?: string; token?: string }) => login(ctx, o));

  program.command('apply')
    .description('Create or update Cluster, Environment and Rules documents from YAML or JSON')
    .requiredOption('-f, --filename <file>', 'file to apply ("-" for stdin)')
    .addOption(outputOption())
    .action((o: { filename: string; output: string }) => apply(ctx, { file: o.filename, format: parseFormat(o.output) }));

  program.command('get')
    .description('List clusters, environments or operations')
    .argument('<resource>', 'clusters | environments | operations')
    .option('-l, --selector <labels>', 'clusters with these labels, e.g. tier=prod,geo=eu')
    .addOption(outputOption())
    .action((resource: string, o: { output: string; selector?: string }) => get(ctx, resource, { format: parseFormat(o.output), selector: o.selector }));

  program.command('describe')
    .description('Show one cluster or environment in full')
    .argument('<resource>', 'cluster | environment')
    .argument('<name>')
    .addOption(outputOption())
    .action((resource: string, name: string, o: { output: string }) => describe(ctx, resource, name, { format: parseFormat(o.output) }));

  program.command('diff')
    .description('What differs between two environments (declared overrides vs. drift)')
    .argument('<a>').argument('<b>')
    .addOption(outputOption())
    .action((a: string, b: string, o: { output: string }) => diff(ctx, a, b, { format: parseFormat(o.output) }));

  program.command('deploy')
    .description('Deploy an environment (its current revision unless --revision)')
    .argument('<environment>')
    .option('--revision <revision>', 'a revision of this environment (sha256:… or its short form)')
    .option('--wait', 'follow the operation until it ends; exit 1 unless it completed')
    .addOption(outputOption())
    .action((environment: string, o: { revision?: string; wait?: boolean; output: string }) =>
      deploy(ctx, environment, { revision: o.revision, wait: o.wait, format: parseFormat(o.output) }));

  return program;
}

/** Runs the CLI; resolves to the exit code instead of exiting (testable in-process). */
export async function run(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = buildProgram(io, env);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      if (Array.isArray(error.details)) {
        for (const d of error.details as { path?: string; field?: string; message?: string }[]) io.err(`  ${d.path ?? d.field ?? ''}: ${d.message ?? JSON.stringify(d)}`);
      }
      return error.exitCode;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
}
