// The `flotilla` command line: commander wiring only; each command lives in commands/.
import { Command, CommanderError, Option } from 'commander';
import { apply } from './commands/apply.js';
import { push } from './commands/push.js';
import { changeTtl, clone, type CloneOptions, teardown } from './commands/clone.js';
import { discoverClusters, importClusters, IMPORT_PROVIDERS, type ImportOptions } from './commands/cluster-import.js';
import { deploy } from './commands/deploy.js';
import { drill, type DrillOptions } from './commands/drill.js';
import { status, watch } from './commands/fleet.js';
import { listSecrets, setSecret } from './commands/secret.js';
import { login } from './commands/login.js';
import { LOG_OUTPUTS, logs, type LogsOptions } from './commands/logs.js';
import { decide, FAILURE_POLICIES, promote, type PromoteOptions, signal } from './commands/promote.js';
import { describe, diff, get } from './commands/resources.js';
import { createEnvironmentFrom, type CreateFromOptions, offboardCluster, stopOrStart, teardownEnvironment } from './commands/lifecycle.js';
import { createLifecycleSchedule, createSchedule, getSchedules, type LifecycleScheduleOptions, type ScheduleOptions, steerSchedule } from './commands/schedule.js';
import { commandContext, type Io } from './context.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { FORMATS, parseFormat } from './output.js';
import { packageVersion } from './version.js';

const outputOption = () => new Option('-o, --output <format>', 'output format').choices([...FORMATS]).default('table');

export function buildProgram(io: Io, env: NodeJS.ProcessEnv): Command {
  const ctx = commandContext(io, env);
  const program = new Command('flotilla')
    .description('Manage a fleet of Kubernetes clusters as one, through the Flotilla API.')
    .version(packageVersion(), '-V, --version', 'print the version of this flotilla')
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

  program.command('push')
    .description('Upload a Helm chart archive (.tgz) or a bundle of plain manifests (YAML); prints the digest a spec names it by')
    .argument('<what>', 'chart | bundle')
    .argument('<file>', 'the .tgz (helm package) or the YAML stream')
    .addOption(outputOption())
    .action((what: string, file: string, o: { output: string }) => push(ctx, what, file, { format: parseFormat(o.output) }));

  program.command('get')
    .description('List clusters, environments, operations, promotions, clones or drills; with a name, just that one (a promotion: its stages × targets); `get fleet`: clusters × environments with live health, drift and staleness; `get drift`: what differs from the last deploy')
    .argument('<resource>', 'clusters | environments | operations | promotions | clones | drills | fleet | drift')
    .argument('[name]', 'one of them (a promotion: its id)')
    .option('-l, --selector <labels>', 'clusters with these labels, e.g. tier=prod,geo=eu')
    .addOption(outputOption())
    .action((resource: string, name: string | undefined, o: { output: string; selector?: string }) =>
      get(ctx, resource, { format: parseFormat(o.output), selector: o.selector, name }));

  program.command('status')
    .description("An environment's live status: its services' replicas, health and revision, drift from its last deploy, its cluster's reachability")
    .argument('<environment>')
    .addOption(outputOption())
    .action((environment: string, o: { output: string }) => status(ctx, environment, parseFormat(o.output)));

  program.command('watch')
    .description('The fleet (clusters × environments) as a live table, redrawn when it changes; Ctrl-C to stop')
    .option('-l, --selector <labels>', 'clusters with these labels, e.g. tier=prod,geo=eu')
    .option('--tier <tier>', 'environments of this tier')
    .option('--application <application>', 'environments of this application')
    .option('--health <health>', 'healthy | progressing | degraded | unavailable | unknown | drifted | stale')
    .option('--interval <seconds>', 'seconds between refreshes', '2')
    .action(async (o: { selector?: string; tier?: string; application?: string; health?: string; interval: string }) => {
      const seconds = Number(o.interval);
      if (!Number.isFinite(seconds) || seconds < 0.5) throw new CliError('--interval must be a number of seconds, at least 0.5', EXIT.usage);
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      await watch(ctx, { selector: o.selector, tier: o.tier, application: o.application, health: o.health }, { intervalMs: seconds * 1000, clear: process.stdout.isTTY, signal: stop.signal });
    });

  const cluster = program.command('cluster').description("A cloud account's clusters: discover them, import them (the worker looks, with its credentials)");
  const accountFlags = (c: Command) => c
    .argument('<provider>', IMPORT_PROVIDERS.join(' | '))
    .option('--region <region>', 'eks: a region to search, repeatable or comma-separated (the worker\'s default region when left out); gke: a region or zone', (v: string, p: string[] = []) => [...p, v])
    .option('--role-arn <arn>', 'eks: an IAM role to assume (another account); the clusters are reached through it too')
    .option('--project <id>', 'gke: the project')
    .option('--subscription <id>', 'aks: the subscription id')
    .option('--resource-group <name>', 'aks: only this resource group')
    .option('--kubeconfig-secret <name>', 'kubeconfig: the catalog secret holding the kubeconfig')
    .addOption(outputOption());
  accountFlags(cluster.command('discover').description('List the clusters of a cloud account that could be registered'))
    .action((provider: string, o: Omit<ImportOptions, 'format'> & { output: string }) => discoverClusters(ctx, provider, { ...o, format: parseFormat(o.output) }));
  accountFlags(cluster.command('import').description('Register clusters of a cloud account (--all, or by name) with labels from their tags, and onboard each; already registered ones are unchanged'))
    .argument('[names...]', 'the clusters to import, by their name in the provider')
    .option('--all', 'every cluster of the account')
    .option('--label <key=value>', 'a label for every imported cluster, over the tags\'; repeatable', (v: string, p: string[] = []) => [...p, v])
    .option('--allowed-tiers <tiers>', 'tiers the clusters accept beyond their tier label\'s, comma-separated')
    .action((provider: string, names: string[], o: Omit<ImportOptions, 'format'> & { output: string }) => importClusters(ctx, provider, names, { ...o, format: parseFormat(o.output) }));

  const environment = program.command('env').description('Environments: create one from another');
  environment.command('create')
    .description("Create an environment from another one: the same application, its own binding, starting at the revision SRC runs (no overrides, no secrets)")
    .argument('<name>', 'the new environment')
    .requiredOption('--from <source>', 'the environment to start from (its deployed revision)')
    .requiredOption('--cluster <cluster>', 'where the new environment runs')
    .option('--namespace <namespace>', 'its namespace (default: its name)')
    .option('--tier <tier>', "its tier (default: the source's)")
    .option('--residency <where>', 'its data residency')
    .option('--updates <mode>', 'track (takes application changes on apply) | promotion (changes only by promotion); default by tier')
    .addOption(outputOption())
    .action((name: string, o: CreateFromOptions & { output: string }) => createEnvironmentFrom(ctx, name, { ...o, format: parseFormat(o.output) }));

  program.command('describe')
    .description('Show one cluster, environment, promotion or clone in full')
    .argument('<resource>', 'cluster | environment | promotion | clone | drill')
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
    .option('--keep-stopped', 'deploy into a stopped environment and leave it stopped (refused otherwise: start it first)')
    .option('--wait', 'follow the operation until it ends; exit 1 unless it completed')
    .addOption(outputOption())
    .action((environment: string, o: { revision?: string; keepStopped?: boolean; wait?: boolean; output: string }) =>
      deploy(ctx, environment, { revision: o.revision, keepStopped: o.keepStopped, wait: o.wait, format: parseFormat(o.output) }));

  for (const action of ['stop', 'start'] as const) {
    program.command(action)
      .description(action === 'stop'
        ? 'Stop an environment: scale every workload to zero (CronJobs suspended), recording what each ran'
        : 'Start a stopped environment: every workload back to exactly what it ran before the stop')
      .argument('<environment>')
      .option('--wait', 'follow the operation until it ends; exit 1 unless it completed')
      .action((environment: string, o: { wait?: boolean }) => stopOrStart(ctx, action, environment, o));
  }

  program.command('logs')
    .description("The logs of an environment's pods, merged, each line prefixed [cluster/pod]; printed as they arrive")
    .argument('<environment>')
    .option('-s, --service <service>', 'only this service (default: every service)')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C or --timeout')
    .option('--since <duration>', 'only lines newer than this (30s, 10m, 2h)')
    .option('--tail <n>', "lines from the end of each container's log to start with (default 100, at most 5000)")
    .option('--all-clusters', 'also the other environments of the same application and tier (their own clusters)')
    .option('--timestamps', 'start each line with the time it was written')
    .option('--timeout <duration>', 'end after this long (default 5m, at most 30m)')
    .option('--limit-bytes <n>', 'end after this many bytes of log (at most 4 MiB, the default)')
    .addOption(new Option('-o, --output <format>', 'text, or json: the API\'s events, one per line').choices([...LOG_OUTPUTS]).default('text'))
    .action((environment: string, o: LogsOptions) => logs(ctx, environment, o));

  const secret = program.command('secret').description("An environment's secret values (stored encrypted; never printed)");
  secret.command('set')
    .description('Set a secret value: --value, --from-file, or standard input')
    .argument('<environment>')
    .argument('<name>', 'the secret name the spec declares, e.g. STRIPE_KEY')
    .option('--value <value>', 'the value (visible in shell history: prefer stdin or --from-file)')
    .option('--from-file <file>', 'read the value from a file')
    .action((environment: string, name: string, o: { value?: string; fromFile?: string }) => setSecret(ctx, environment, name, o));
  secret.command('list')
    .description("List an environment's secret names")
    .argument('<environment>')
    .addOption(outputOption())
    .action((environment: string, o: { output: string }) => listSecrets(ctx, environment, parseFormat(o.output)));

  const collect = (value: string, previous: string[] = []) => [...previous, value];
  program.command('promote')
    .description('Promote the revision running in SOURCE to other environments, in stages, with approvals (starts a promotion)')
    .argument('<source>', 'the environment whose deployed revision is promoted')
    .option('--to <envs>', 'targets, comma-separated: one stage')
    .option('--stage <name=envs>', 'a stage NAME=ENV1,ENV2; repeat for several stages, run in order', collect)
    .option('--approve-before <tier|stage>', 'wait for an approval before stages with a target of this tier (or the stage of this name); repeatable, comma-separated', collect)
    .option('--max-parallel <n>', 'at most this many targets change at once in a stage')
    .option('--soak <duration>', 'after each stage, check health this long (30s, 5m, 1h)')
    .addOption(new Option('--policy <policy>', 'on a failed target: roll back everything touched, pause for a human, or continue').choices([...FAILURE_POLICIES]))
    .option('--revision <revision>', 'a revision of the source (default: the one it runs)')
    .option('--approval-timeout <duration>', 'an approval not given in this time cancels the promotion (default 24h)')
    .option('--keep-stopped', 'promote into stopped targets and leave them stopped (refused otherwise: start them first)')
    .option('--wait', 'follow the promotion until it ends (progress on stderr); exit 1 unless it completed')
    .addOption(outputOption())
    .action((source: string, o: Omit<PromoteOptions, 'format'> & { output: string }) => promote(ctx, source, { ...o, format: parseFormat(o.output) }));

  for (const approve of [true, false]) {
    program.command(approve ? 'approve' : 'reject')
      .description(approve
        ? 'Approve the promotion stage or teardown that awaits approval (not as its requester when four eyes apply)'
        : 'Reject what awaits approval: a promotion rolls back what it changed; a teardown removes nothing')
      .argument('<id>', 'the operation id (promote-… or teardown-…)')
      .option('--comment <text>', 'why')
      .addOption(outputOption())
      .action((id: string, o: { comment?: string; output: string }) => decide(ctx, id, approve, { comment: o.comment, format: parseFormat(o.output) }));
  }
  for (const [what, text] of [
    ['pause', 'Pause a promotion: no new targets start after those in flight'],
    ['resume', 'Resume a paused promotion'],
    ['cancel', 'Cancel a promotion: every target changed so far rolls back'],
  ] as const) {
    const command = program.command(what).description(text).argument('<id>', 'the promotion id');
    if (what === 'cancel') command.option('--reason <text>', 'why');
    command.action((id: string, o: { reason?: string }) => signal(ctx, id, what, { reason: o.reason }));
  }

  const cloneFlags = (command: Command) => command
    .requiredOption('--cluster <cluster>', 'where the clone runs')
    .option('--revision <revision>', "a revision of the source (default: the one it runs)")
    .option('--tier <tier>', "the clone's tier (default: the purpose's, else the source's)")
    .option('--namespace <namespace>', "the clone's namespace (default: its name)")
    .option('--data <db=mode>', 'copy a database: none, schema, snapshot or scrubbed; repeatable, comma-separated', collect)
    .option('--replicas <service=n>', 'override replicas; repeatable', collect)
    .option('--config <key=value>', 'override a config value; repeatable', collect)
    .option('--host <service=host>', 'an Ingress host of its own (the source\'s are never carried over); repeatable', collect)
    .option('--secret <NAME=value>', "a secret of the clone's own (visible in shell history: prefer --secret-file); repeatable", collect)
    .option('--secret-file <NAME=path>', "a secret of the clone's own, read from a file; repeatable", collect)
    .option('--wait', 'follow the clone until it is ready (phases on stderr); exit 1 unless it is')
    .addOption(outputOption());

  cloneFlags(program.command('clone')
    .description("Clone an environment's revision to a cluster under a new name, with its own overrides and (per database) the source's data")
    .argument('<source>').argument('<name>', "the clone's environment name")
    .option('--ttl <duration>', 'tear the clone down after this long (30m, 4h, 2d)')
    .addOption(new Option('--purpose <purpose>', 'what the clone is for').choices(['clone', 'preview', 'drill', 'compliance'])))
    .action((source: string, name: string, o: Omit<CloneOptions, 'format'> & { output: string }) => clone(ctx, source, name, { ...o, format: parseFormat(o.output) }));

  cloneFlags(program.command('preview')
    .description('A preview environment: a clone with a TTL (tier preview), torn down when it expires')
    .argument('<source>')
    .requiredOption('--ttl <duration>', 'how long it lives (30m, 4h, 2d)')
    .option('--name <name>', 'its environment name (default: SOURCE-preview)'))
    .action((source: string, o: Omit<CloneOptions, 'format'> & { output: string; name?: string }) =>
      clone(ctx, source, o.name ?? `${source}-preview`, { ...o, purpose: 'preview', format: parseFormat(o.output) }));

  cloneFlags(program.command('drill')
    .description('A DR drill: clone SOURCE with its data to a DR cluster, validate, measure RTO and RPO, tear down (unless --keep); the report on stdout')
    .argument('<source>')
    .option('--name <name>', "the clone's environment name (default: SOURCE-drill)")
    .option('--rto <duration>', 'recovery time objective: start → validated (e.g. 15m)')
    .option('--rpo <duration>', 'recovery point objective: the age of the copied data at validation (e.g. 5m)')
    .option('--check <service[:port]/path[=status]>', 'an HTTP check through the API server\'s service proxy; repeatable', collect)
    .option('--keep', 'keep the clone after the drill'))
    .action((source: string, o: Omit<DrillOptions, 'format'> & { output: string }) => drill(ctx, source, { ...o, format: parseFormat(o.output) }));

  const schedule = program.command('schedule').description('Clones (compliance) and DR drills on a schedule (Temporal Schedules): each run replaces the previous run\'s clone');
  cloneFlags(schedule.command('create')
    .description('Schedule a clone or a drill of SOURCE, every so long or by cron; overlapping runs are skipped')
    .argument('<id>', "the schedule's name")
    .requiredOption('--source <environment>', 'the environment to clone')
    .requiredOption('--name <name>', "the clone's environment name (each run replaces the previous run's clone of this name)")
    .addOption(new Option('--kind <kind>', 'what each run does').choices(['clone', 'drill']).default('clone'))
    .option('--every <duration>', 'run every so long (30m, 24h, 7d)')
    .option('--cron <expression>', 'run at these times ("0 2 * * *"; UTC unless --timezone)')
    .option('--timezone <tz>', 'the cron expression\'s time zone (e.g. Europe/Berlin)')
    .option('--ttl <duration>', 'each clone tears itself down after this long (clones only)')
    .option('--rto <duration>', 'a drill\'s recovery time objective')
    .option('--rpo <duration>', 'a drill\'s recovery point objective')
    .option('--check <service[:port]/path[=status]>', 'a drill\'s HTTP check through the API server\'s service proxy; repeatable', collect)
    .option('--keep', 'keep each drill\'s clone (until the next run replaces it)')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with it'))
    .action((id: string, o: Omit<ScheduleOptions, 'format'> & { output: string }) => createSchedule(ctx, id, { ...o, format: parseFormat(o.output) }));
  for (const action of ['stop', 'start'] as const) {
    schedule.command(`create-${action}`)
      .description(`Schedule ${action === 'stop' ? 'stopping' : 'starting'} an environment, or every environment of a tier, by cron (e.g. "0 ${action === 'stop' ? '20' : '8'} * * 1-5" --timezone Europe/Paris)`)
      .argument('<id>', "the schedule's name")
      .option('--env <environment>', `the environment to ${action}`)
      .option('--tier <tier>', `${action} every environment of this tier`)
      .requiredOption('--cron <expression>', 'when ("0 20 * * 1-5": weekdays at 20:00; UTC unless --timezone)')
      .option('--timezone <tz>', 'the cron expression\'s time zone (e.g. Europe/Paris)')
      .option('--paused', 'create it paused')
      .option('--note <text>', 'a note shown with it')
      .addOption(outputOption())
      .action((id: string, o: Omit<LifecycleScheduleOptions, 'format'> & { output: string }) => createLifecycleSchedule(ctx, id, action, { ...o, format: parseFormat(o.output) }));
  }
  schedule.command('get')
    .description('List schedules, or show one: what it runs, next runs, how the last run ended')
    .argument('[id]')
    .addOption(outputOption())
    .action((id: string | undefined, o: { output: string }) => getSchedules(ctx, id, parseFormat(o.output)));
  for (const [what, text] of [
    ['pause', 'Pause a schedule: no run starts until it is resumed'],
    ['resume', 'Resume a paused schedule'],
    ['trigger', 'Run a schedule now (skipped if a run is going on)'],
    ['delete', 'Delete a schedule (a run going on finishes; the clone it left stays)'],
  ] as const) {
    const command = schedule.command(what).description(text).argument('<id>');
    if (what === 'pause' || what === 'resume') command.option('--note <text>', 'why');
    if (what === 'trigger') command.option('--wait', 'follow the run until it ends (progress on stderr); exit 1 unless it completed');
    command.action((id: string, o: { note?: string; wait?: boolean }) => steerSchedule(ctx, id, what, o));
  }

  program.command('ttl')
    .description("Extend or cancel a clone's TTL")
    .argument('<clone>', 'the clone id (clone-NAME-N)')
    .option('--extend <duration>', 'expire this long from now')
    .option('--until <time>', 'expire at this time (RFC 3339)')
    .option('--cancel', 'keep the clone: no teardown by TTL')
    .action((id: string, o: { extend?: string; until?: string; cancel?: boolean }) => changeTtl(ctx, id, o));

  program.command('delete')
    .description('Tear down an environment (every object Flotilla created for it, then its catalog entry), a clone, or offboard a cluster')
    .argument('<resource>', 'environment | clone | cluster')
    .argument('<name>', 'the environment or cluster name, or the clone id (clone-NAME-N)')
    .option('--delete-data', "environments (and clusters with --drain): also delete the PersistentVolumeClaims (the databases' data)")
    .option('--drain', 'clusters: tear down the environments bound to it first')
    .option('--wait', 'follow the teardown or offboarding until it ends')
    .action((kind: string, name: string, o: { wait?: boolean; deleteData?: boolean; drain?: boolean }) => {
      if (kind === 'clone' || kind === 'clones') return teardown(ctx, name, o);
      if (kind === 'environment' || kind === 'environments' || kind === 'env') return teardownEnvironment(ctx, name, o);
      if (kind === 'cluster' || kind === 'clusters') return offboardCluster(ctx, name, o);
      throw new CliError(`flotilla delete works on environments, clusters and clones, not "${kind}"`, EXIT.usage);
    });

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
