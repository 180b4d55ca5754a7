// The `joey` command line: commander wiring for docker's command names,
// flags, help and usage errors. Each command's code is imported only when the
// command runs, so `joey version` loads little more than this file.
import { Command, CommanderError, Option } from 'commander';
import { CancelledError, StatusError, displayError } from './errors.ts';
import type { Cli, CliIo, GlobalOptions } from './context.ts';
import { VERSION } from './build-info.ts';
import { parseFilterArg } from './filters.ts';

// Options are typed by each command module; here they are passed through.
type Opts = Record<string, any>;

interface OptSpec {
  /** commander flags: "-q, --quiet", "--platform <string>", "-f, --filter <filter>" */
  flags: string;
  desc: string;
  default?: unknown;
  /** Repeatable: values collect into an array. "filter" also checks k=v. */
  collect?: 'list' | 'filter';
  hidden?: boolean;
}

interface CmdSpec {
  usage: string;
  short: string;
  args: [min: number, max: number];
  options: OptSpec[];
  run: (cli: Cli, args: string[], opts: Opts) => Promise<void>;
}

const FORMAT_HELP = "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'";
const INSPECT_FORMAT_HELP = "Format output using a custom template: 'json' or 'TEMPLATE'";
const quiet: OptSpec = { flags: '-q, --quiet', desc: 'Suppress verbose output' };
const trustFlag: OptSpec = { flags: '--disable-content-trust', desc: 'Skip image verification', default: true, hidden: true };

const COMMANDS = {
  version: {
    usage: '[OPTIONS]',
    short: 'Show the joey version information',
    args: [0, 0],
    options: [{ flags: '-f, --format <string>', desc: INSPECT_FORMAT_HELP }],
    run: async (cli, _a, o) => (await import('./version.ts')).runVersion(cli, o),
  },
  info: {
    usage: '[OPTIONS]',
    short: 'Display system-wide information',
    args: [0, 0],
    options: [{ flags: '-f, --format <string>', desc: INSPECT_FORMAT_HELP }],
    run: async (cli, _a, o) => (await import('./info.ts')).runInfo(cli, o),
  },
  pull: {
    usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
    short: 'Download an image from a registry',
    args: [1, 1],
    options: [{ flags: '--platform <string>', desc: 'Set platform if server is multi-platform capable' }, { ...quiet }, trustFlag],
    run: async (cli, a, o) => (await import('./image-pull.ts')).runPull(cli, a[0]!, o),
  },
  push: {
    usage: '[OPTIONS] NAME[:TAG]',
    short: 'Upload an image to a registry',
    args: [1, 1],
    options: [{ ...quiet }, trustFlag],
    run: async (cli, a, o) => (await import('./image-push.ts')).runPush(cli, a[0]!, o),
  },
  images: {
    usage: '[OPTIONS] [REPOSITORY[:TAG]]',
    short: 'List images',
    args: [0, 1],
    options: [
      { flags: '-a, --all', desc: 'Show all images (default hides intermediate images)' },
      { flags: '--digests', desc: 'Show digests' },
      { flags: '-f, --filter <filter>', desc: 'Filter output based on conditions provided', collect: 'filter' },
      { flags: '--format <string>', desc: FORMAT_HELP },
      { flags: '--no-trunc', desc: "Don't truncate output" },
      { flags: '-q, --quiet', desc: 'Only show image IDs' },
    ],
    run: async (cli, a, o) => (await import('./image-list.ts')).runImages(cli, a, { ...o, noTrunc: o.trunc === false }),
  },
  inspect: {
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Display detailed information on one or more images',
    args: [1, Infinity],
    options: [{ flags: '-f, --format <string>', desc: INSPECT_FORMAT_HELP }],
    run: async (cli, a, o) => (await import('./image-inspect.ts')).runInspect(cli, a, o),
  },
  tag: {
    usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    args: [2, 2],
    options: [],
    run: async (cli, a) => (await import('./image-tag.ts')).runTag(cli, a[0]!, a[1]!),
  },
  rmi: {
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Remove one or more images',
    args: [1, Infinity],
    options: [
      { flags: '-f, --force', desc: 'Force removal of the image' },
      { flags: '--no-prune', desc: 'Do not delete untagged parents' },
    ],
    run: async (cli, a, o) => (await import('./image-remove.ts')).runRemove(cli, a, { force: o.force, noPrune: o.prune === false }),
  },
  save: {
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    args: [1, Infinity],
    options: [{ flags: '-o, --output <string>', desc: 'Write to a file, instead of STDOUT' }],
    run: async (cli, a, o) => (await import('./image-save.ts')).runSave(cli, a, o),
  },
  load: {
    usage: '[OPTIONS]',
    short: 'Load an image from a tar archive or STDIN',
    args: [0, 0],
    options: [
      { flags: '-i, --input <string>', desc: 'Read from tar archive file, instead of STDIN' },
      { flags: '-q, --quiet', desc: 'Suppress the load output' },
    ],
    run: async (cli, _a, o) => (await import('./image-load.ts')).runLoad(cli, o),
  },
  import: {
    usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    short: 'Import the contents from a tarball to create a filesystem image',
    args: [1, 2],
    options: [
      { flags: '-c, --change <list>', desc: 'Apply Dockerfile instruction to the created image', collect: 'list' },
      { flags: '-m, --message <string>', desc: 'Set commit message for imported image' },
      { flags: '--platform <string>', desc: 'Set platform if server is multi-platform capable' },
    ],
    run: async (cli, a, o) => (await import('./image-import.ts')).runImport(cli, a[0]!, a[1], o),
  },
  prune: {
    usage: '[OPTIONS]',
    short: 'Remove unused images',
    args: [0, 0],
    options: [
      { flags: '-a, --all', desc: 'Remove all unused images, not just dangling ones' },
      { flags: '--filter <filter>', desc: 'Provide filter values (e.g. "until=<timestamp>")', collect: 'filter' },
      { flags: '-f, --force', desc: 'Do not prompt for confirmation' },
    ],
    run: async (cli, _a, o) => (await import('./image-prune.ts')).runPrune(cli, o),
  },
  history: {
    usage: '[OPTIONS] IMAGE',
    short: 'Show the history of an image',
    args: [1, 1],
    options: [
      { flags: '--format <string>', desc: FORMAT_HELP },
      { flags: '-H, --human', desc: 'Print sizes and dates in human readable format', default: true },
      { flags: '--no-human', desc: 'Print sizes and dates as numbers', hidden: true },
      { flags: '--no-trunc', desc: "Don't truncate output" },
      { flags: '-q, --quiet', desc: 'Only show image IDs' },
    ],
    run: async (cli, a, o) => (await import('./image-history.ts')).runHistory(cli, a[0]!, { ...o, noTrunc: o.trunc === false }),
  },
  login: {
    usage: '[OPTIONS] [SERVER]',
    short: 'Authenticate to a registry',
    args: [0, 1],
    options: [
      { flags: '-p, --password <string>', desc: 'Password' },
      { flags: '--password-stdin', desc: 'Take the password from stdin' },
      { flags: '-u, --username <string>', desc: 'Username' },
    ],
    run: async (cli, a, o) => (await import('./login.ts')).runLogin(cli, a[0], o),
  },
  logout: {
    usage: '[SERVER]',
    short: 'Log out from a registry',
    args: [0, 1],
    options: [],
    run: async (cli, a) => (await import('./logout.ts')).runLogout(cli, a[0]),
  },
} satisfies Record<string, CmdSpec>;

type CmdName = keyof typeof COMMANDS;

/** Top-level commands, in help order, with the names they also have. */
const TOP: { name: string; spec: CmdName; group: 'common' | 'other' }[] = [
  { name: 'pull', spec: 'pull', group: 'common' },
  { name: 'push', spec: 'push', group: 'common' },
  { name: 'images', spec: 'images', group: 'common' },
  { name: 'login', spec: 'login', group: 'common' },
  { name: 'logout', spec: 'logout', group: 'common' },
  { name: 'version', spec: 'version', group: 'common' },
  { name: 'info', spec: 'info', group: 'common' },
  { name: 'history', spec: 'history', group: 'other' },
  { name: 'import', spec: 'import', group: 'other' },
  { name: 'inspect', spec: 'inspect', group: 'other' },
  { name: 'load', spec: 'load', group: 'other' },
  { name: 'rmi', spec: 'rmi', group: 'other' },
  { name: 'save', spec: 'save', group: 'other' },
  { name: 'tag', spec: 'tag', group: 'other' },
];

/** `joey image …` subcommands and their aliases. */
const IMAGE: { name: string; spec: CmdName; aliases?: string[] }[] = [
  { name: 'history', spec: 'history' },
  { name: 'import', spec: 'import' },
  { name: 'inspect', spec: 'inspect' },
  { name: 'load', spec: 'load' },
  { name: 'ls', spec: 'images', aliases: ['list'] },
  { name: 'prune', spec: 'prune' },
  { name: 'pull', spec: 'pull' },
  { name: 'push', spec: 'push' },
  { name: 'rm', spec: 'rmi', aliases: ['remove'] },
  { name: 'save', spec: 'save' },
  { name: 'tag', spec: 'tag' },
];

/** "joey image ls, joey image list, joey images" for help's Aliases. */
function aliasLine(spec: CmdName): string | undefined {
  const names: string[] = [];
  for (const s of IMAGE) if (s.spec === spec) for (const n of [s.name, ...(s.aliases ?? [])]) names.push(`joey image ${n}`);
  for (const s of TOP) if (s.spec === spec) names.push(`joey ${s.name}`);
  return names.length > 1 ? names.join(', ') : undefined;
}

const GLOBAL_OPTIONS: OptSpec[] = [
  { flags: '--config <string>', desc: 'Location of client config files (default "~/.joey")' },
  { flags: '-D, --debug', desc: 'Enable debug mode' },
  { flags: '-H, --host <list>', desc: 'Daemon socket to connect to', collect: 'list' },
  { flags: '-l, --log-level <string>', desc: 'Set the logging level ("debug", "info", "warn", "error", "fatal") (default "info")' },
  { flags: '--tls', desc: 'Use TLS; implied by --tlsverify' },
  { flags: '--tlscacert <string>', desc: 'Trust certs signed only by this CA (default "~/.joey/ca.pem")' },
  { flags: '--tlscert <string>', desc: 'Path to TLS certificate file (default "~/.joey/cert.pem")' },
  { flags: '--tlskey <string>', desc: 'Path to TLS key file (default "~/.joey/key.pem")' },
  { flags: '--tlsverify', desc: 'Use TLS and verify the remote' },
];

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];

/** A command with docker's help text, usage errors and `--flag=bool` forms. */
class JoeyCommand extends Command {
  /** "joey image ls" */
  path = 'joey';
  usageLine = 'joey [OPTIONS] COMMAND';
  helpText: () => string = () => '';

  override createCommand(name?: string): JoeyCommand {
    return new JoeyCommand(name);
  }

  override helpInformation(): string {
    return this.helpText();
  }

  /** pflag accepts --quiet=true and --human=false; commander does not. */
  override parseOptions(argv: string[]): { operands: string[]; unknown: string[] } {
    const out: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === '--') {
        out.push(...argv.slice(i));
        break;
      }
      const m = /^--([^=]+)=(.*)$/.exec(arg) ?? /^-(\w)=(.*)$/.exec(arg);
      const flag = m && (m[1]!.length === 1 ? `-${m[1]}` : `--${m[1]}`);
      const opt = flag && this.options.find((o) => (o.long === flag || o.short === flag) && o.isBoolean() && !o.negate);
      if (!m || !opt) {
        out.push(arg);
        continue;
      }
      const v = m[2]!.toLowerCase();
      const long = opt.long!.slice(2);
      if (['1', 't', 'true'].includes(v)) out.push(`--${long}`);
      else if (['0', 'f', 'false'].includes(v)) {
        if (this.options.some((o) => o.long === `--no-${long}`)) out.push(`--no-${long}`);
      } else {
        throw usageError(this, `invalid argument "${m[2]}" for "${opt.flags.replace(/ <.*>$/, '')}" flag: strconv.ParseBool: parsing "${m[2]}": invalid syntax`, 125);
      }
    }
    return super.parseOptions(out);
  }
}

/** docker's usage errors: the message, the usage line, where to get help. */
function usageError(cmd: JoeyCommand, message: string, status: number, see = 'Run'): StatusError {
  return new StatusError(`${message}\n\nUsage:  ${cmd.usageLine}\n\n${see} '${cmd.path} --help' for more information`, status);
}

function argsError(cmd: JoeyCommand, [min, max]: [number, number], got: number): StatusError | undefined {
  if (got >= min && got <= max) return undefined;
  const plural = (n: number) => (n === 1 ? 'argument' : 'arguments');
  const head = `joey: '${cmd.path}'`;
  if (max === 0) return usageError(cmd, `${head} accepts no arguments`, 1);
  if (min === max) return usageError(cmd, `${head} requires ${min} ${plural(min)}`, 1);
  if (max === Infinity) return usageError(cmd, `${head} requires at least ${min} ${plural(min)}`, 1, 'See');
  if (min === 0) return usageError(cmd, `${head} requires at most ${max} ${plural(max)}`, 1);
  return usageError(cmd, `${head} requires at least ${min} and at most ${max} ${plural(max)}`, 1);
}

/** Turns commander's own errors into docker's messages and exit codes. */
function fromCommander(cmd: JoeyCommand, err: CommanderError): StatusError {
  switch (err.code) {
    case 'commander.helpDisplayed':
    case 'commander.help':
    case 'commander.version':
      return new StatusError('', 0);
    case 'commander.unknownOption': {
      const flag = (/unknown option '([^']+)'/.exec(err.message)?.[1] ?? '').replace(/=.*$/, '');
      const msg = flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
      return usageError(cmd, msg, 125);
    }
    case 'commander.optionMissingArgument': {
      const flags = /option '([^']+)'/.exec(err.message)?.[1] ?? '';
      const long = /--[\w-]+/.exec(flags)?.[0];
      const short = /(?:^|\s)-(\w)\b/.exec(flags)?.[1];
      return usageError(cmd, long ? `flag needs an argument: ${long}` : `flag needs an argument: '${short}' in -${short}`, 125);
    }
    default:
      return usageError(cmd, err.message.replace(/^error: /, ''), 125);
  }
}

function optionLabel(o: OptSpec): string {
  const m = /^(?:-(\w), )?(--[\w-]+)(?: <(\w+)>)?$/.exec(o.flags);
  if (!m) return o.flags;
  const type = o.collect === 'filter' ? 'filter' : m[3];
  return `${m[1] ? `  -${m[1]}, ` : '      '}${m[2]}${type ? ` ${type}` : ''}`;
}

function optionsHelp(title: string, specs: OptSpec[]): string {
  const visible = specs.filter((o) => !o.hidden);
  if (visible.length === 0) return '';
  const labels = visible.map(optionLabel);
  const width = Math.max(...labels.map((l) => l.length)) + 3;
  const lines = visible.map((o, i) => {
    const def = o.default !== undefined && o.default !== false ? ` (default ${String(o.default)})` : '';
    return labels[i]!.padEnd(width) + o.desc + def;
  });
  return `\n${title}:\n${lines.join('\n')}\n`;
}

function commandList(title: string, entries: [string, string][]): string {
  return `\n${title}:\n${entries.map(([n, d]) => `  ${n.padEnd(12)}${d}`).join('\n')}\n`;
}

interface RunState {
  io: CliIo;
  cli?: Cli;
}

function configure(cmd: JoeyCommand, state: RunState): void {
  cmd.exitOverride((err) => {
    throw fromCommander(cmd, err);
  });
  cmd.configureOutput({
    writeOut: (s) => void state.io.stdout.write(s),
    writeErr: (s) => void state.io.stderr.write(s),
    outputError: () => {}, // fromCommander prints docker's text instead
  });
  cmd.helpOption('-h, --help', 'Print usage');
  cmd.showSuggestionAfterError(false);
  cmd.allowExcessArguments(true);
}

function makeOption(o: OptSpec, cmd: () => JoeyCommand): Option {
  const opt = new Option(o.flags, o.desc);
  if (o.default !== undefined) opt.default(o.default);
  if (o.hidden) opt.hideHelp();
  if (o.collect) {
    opt.default([]);
    opt.argParser((value: string, prev: string[] | undefined) => {
      if (o.collect === 'filter') {
        try {
          parseFilterArg(value);
        } catch (err) {
          const name = o.flags.replace(/ <.*>$/, '');
          throw usageError(cmd(), `invalid argument "${value}" for "${name}" flag: ${(err as Error).message}`, 125);
        }
      }
      return [...(prev ?? []), value];
    });
  }
  return opt;
}

async function cliFor(state: RunState, program: Command): Promise<Cli> {
  if (!state.cli) {
    const { Cli } = await import('./context.ts');
    const g = program.opts() as GlobalOptions;
    if (g.logLevel !== undefined && !LOG_LEVELS.includes(g.logLevel)) {
      throw new StatusError(`Unable to parse logging level: ${g.logLevel}`);
    }
    state.cli = new Cli(state.io, g);
  }
  return state.cli;
}

function addLeaf(parent: JoeyCommand, name: string, specName: CmdName, path: string, state: RunState, program: Command, aliases: string[] = []): void {
  const spec: CmdSpec = COMMANDS[specName];
  const cmd = parent.command(name) as JoeyCommand;
  cmd.path = path;
  cmd.usageLine = `${path} ${spec.usage}`;
  for (const a of aliases) cmd.alias(a);
  cmd.description(spec.short).argument('[args...]');
  configure(cmd, state);
  for (const o of spec.options) cmd.addOption(makeOption(o, () => cmd));
  const alias = aliasLine(specName);
  cmd.helpText = () =>
    `Usage:  ${cmd.usageLine}\n\n${spec.short}\n` +
    (alias ? `\nAliases:\n  ${alias}\n` : '') +
    optionsHelp('Options', [...spec.options, { flags: '-h, --help', desc: 'Print usage', hidden: true }]);
  cmd.action(async (args: string[]) => {
    const bad = argsError(cmd, spec.args, args.length);
    if (bad) throw bad;
    await spec.run(await cliFor(state, program), args, { ...cmd.opts(), calledAs: name });
  });
}

export function buildProgram(state: RunState): JoeyCommand {
  const program = new JoeyCommand('joey');
  program.path = 'joey';
  program.usageLine = 'joey [OPTIONS] COMMAND';
  configure(program, state);
  program.enablePositionalOptions();
  program.helpCommand(false);
  program.version(`Joey version ${VERSION}`, '-v, --version', 'Print version information and quit');
  for (const o of GLOBAL_OPTIONS) program.addOption(makeOption(o, () => program));
  program.argument('[command...]');

  for (const t of TOP) addLeaf(program, t.name, t.spec, `joey ${t.name}`, state, program);

  const image = program.command('image') as JoeyCommand;
  image.path = 'joey image';
  image.usageLine = 'joey image COMMAND';
  image.description('Manage images').argument('[command...]');
  configure(image, state);
  for (const s of IMAGE) addLeaf(image, s.name, s.spec, `joey image ${s.name}`, state, program, s.aliases);

  image.helpText = () =>
    'Usage:  joey image COMMAND\n\nManage images\n' +
    commandList(
      'Commands',
      IMAGE.map((s) => [s.name, COMMANDS[s.spec].short]),
    ) +
    "\nRun 'joey image COMMAND --help' for more information on a command.\n";
  image.action((args: string[]) => {
    if (args.length === 0) {
      state.io.stderr.write(image.helpText());
      return;
    }
    throw new StatusError(
      `joey: unknown command: joey image ${args[0]}\n\nUsage:  joey image COMMAND\n\nRun 'joey image --help' for more information`,
    );
  });

  program.helpText = () =>
    'Usage:  joey [OPTIONS] COMMAND\n\nA container engine for rich containers, speaking the Docker Engine API\n' +
    commandList(
      'Common Commands',
      TOP.filter((t) => t.group === 'common').map((t) => [t.name, COMMANDS[t.spec].short]),
    ) +
    commandList('Management Commands', [['image', 'Manage images']]) +
    commandList(
      'Commands',
      TOP.filter((t) => t.group === 'other').map((t) => [t.name, COMMANDS[t.spec].short]),
    ) +
    optionsHelp('Global Options', [...GLOBAL_OPTIONS, { flags: '-v, --version', desc: 'Print version information and quit' }]) +
    "\nRun 'joey COMMAND --help' for more information on a command.\n";
  program.action((args: string[]) => {
    if (args.length === 0) {
      state.io.stderr.write(program.helpText());
      return;
    }
    throw new StatusError(`joey: unknown command: joey ${args[0]}\n\nRun 'joey --help' for more information`);
  });
  return program;
}

/** Prints an error as docker does and gives the exit code. */
export function reportError(io: CliIo, err: unknown): number {
  if (err instanceof CancelledError) return 0;
  if (err instanceof StatusError) {
    if (err.message) io.stderr.write(err.message + '\n');
    return err.status;
  }
  if (err instanceof CommanderError) {
    io.stderr.write(err.message.replace(/^error: /, '') + '\n');
    return err.exitCode;
  }
  io.stderr.write(displayError(err) + '\n');
  return 1;
}

/** Runs `joey` with the given arguments; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const state: RunState = { io };
  const program = buildProgram(state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(io, err);
  } finally {
    state.cli?.close();
  }
}
