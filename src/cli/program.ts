// The `joey` command line: commander wiring for docker's command names,
// flags, help and usage errors. Each command's code is imported only when the
// command runs, so `joey version` loads little more than this file.
import { Command, CommanderError, Option } from 'commander';
import { CancelledError, StatusError, displayError } from './errors.ts';
import type { Cli, CliIo, GlobalOptions } from './context.ts';
import { VERSION } from './build-info.ts';
import { parseFilterArg } from './filters.ts';
import type { OptSpec } from './flag-spec.ts';
import { attributeName } from './flag-spec.ts';
import { CONTAINER_FLAGS, CREATE_FLAGS, RUN_FLAGS, STOP_FLAGS, UPDATE_FLAGS } from './container-flags.ts';

// Options are typed by each command module; here they are passed through.
type Opts = Record<string, any>;

interface CmdSpec {
  usage: string;
  short: string;
  args: [min: number, max: number];
  options: OptSpec[];
  run: (cli: Cli, args: string[], opts: Opts) => Promise<void>;
  /** Flags stop at the first argument (docker's SetInterspersed(false)). */
  positional?: boolean;
  /** `-h` is a flag of the command (run's --hostname): help is --help only. */
  longHelpOnly?: boolean;
  /** Checks flag values before the arguments are counted, as pflag does;
   * may give the parsed values to pass on instead. */
  validate?: (io: CliIo, opts: Opts) => Promise<Opts | void>;
}

const FORMAT_HELP = "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'";
const INSPECT_FORMAT_HELP = "Format output using a custom template: 'json' or 'TEMPLATE'";
const quiet: OptSpec = { flags: '-q, --quiet', desc: 'Suppress verbose output' };
const trustFlag: OptSpec = { flags: '--disable-content-trust', desc: 'Skip image verification', default: true, hidden: true };
const detachKeys: OptSpec = { flags: '--detach-keys <string>', desc: 'Override the key sequence for detaching a container' };
const CONTAINERS = 'CONTAINER [CONTAINER...]';

/** pflag's checks of typed flag values; `parsed` passes the values on parsed. */
const checkWith =
  (specs: OptSpec[], parsed = true) =>
  async (io: CliIo, o: Opts): Promise<Opts | void> => {
    // nothing to check: no need to load the (large) flag parsers
    const given = (v: unknown) => v !== undefined && !(Array.isArray(v) && v.length === 0);
    if (!specs.some((s) => s.kind && given(o[attributeName(s.flags)]))) return parsed ? o : undefined;
    const { checkFlags } = await import('./container-opts.ts');
    const values = checkFlags(specs, o, { env: io.env, cwd: io.cwd ?? process.cwd() });
    return parsed ? values : undefined;
  };

const RUN_OPTIONS: OptSpec[] = [...CONTAINER_FLAGS, ...CREATE_FLAGS.filter((o) => !o.flags.startsWith('--pull')), ...RUN_FLAGS];
const CREATE_OPTIONS: OptSpec[] = [...CONTAINER_FLAGS, ...CREATE_FLAGS];

/** docker's --time: still accepted, with cobra's deprecation notice (on stdout, as cobra prints it). */
function deprecatedTime(cli: Cli, o: Opts): Opts {
  if (o.time !== undefined) cli.out('Flag --time has been deprecated, use --timeout instead\n');
  return o;
}
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
  imageInspect: {
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
  build: {
    usage: '[OPTIONS] PATH',
    short: 'Build an image from a Dockerfile',
    args: [1, 1],
    options: [
      { flags: '-t, --tag <list>', desc: 'Name and optionally a tag in the "name:tag" format', collect: 'list' },
      { flags: '-f, --file <string>', desc: "Name of the Dockerfile (Default is 'PATH/Dockerfile')" },
      { flags: '--build-arg <list>', desc: 'Set build-time variables', collect: 'list' },
      { flags: '--label <list>', desc: 'Set metadata for an image', collect: 'list' },
      { flags: '--target <string>', desc: 'Set the target build stage to build.' },
      { flags: '--no-cache', desc: 'Do not use cache when building the image' },
      { flags: '-q, --quiet', desc: 'Suppress the build output and print image ID on success' },
      { flags: '--pull', desc: 'Always attempt to pull a newer version of the image' },
      { flags: '--rm', desc: 'Remove intermediate containers after a successful build', default: true },
      { flags: '--no-rm', desc: 'Keep intermediate containers', hidden: true },
      { flags: '--force-rm', desc: 'Always remove intermediate containers' },
      { flags: '--network <string>', desc: 'Set the networking mode for the RUN instructions during build' },
      { flags: '--platform <string>', desc: 'Set platform if server is multi-platform capable' },
    ],
    run: async (cli, a, o) => (await import('./image-build.ts')).runBuild(cli, a[0]!, o),
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
  inspect: {
    usage: '[OPTIONS] NAME|ID [NAME|ID...]',
    short: 'Return low-level information on joey objects',
    args: [1, Infinity],
    options: [
      { flags: '-f, --format <string>', desc: INSPECT_FORMAT_HELP },
      { flags: '-s, --size', desc: 'Display total file sizes if the type is container' },
      { flags: '--type <string>', desc: 'Only inspect objects of the given type' },
    ],
    run: async (cli, a, o) => (await import('./inspect.ts')).runInspectAny(cli, a, o),
  },
  containerInspect: {
    usage: `[OPTIONS] ${CONTAINERS}`,
    short: 'Display detailed information on one or more containers',
    args: [1, Infinity],
    options: [
      { flags: '-f, --format <string>', desc: INSPECT_FORMAT_HELP },
      { flags: '-s, --size', desc: 'Display total file sizes' },
    ],
    run: async (cli, a, o) => (await import('./inspect.ts')).runContainerInspect(cli, a, o),
  },
  run: {
    usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create and run a new container from an image',
    args: [1, Infinity],
    options: RUN_OPTIONS,
    positional: true,
    longHelpOnly: true,
    validate: checkWith(CONTAINER_FLAGS, false),
    run: async (cli, a, o) => (await import('./container-run.ts')).runRun(cli, a[0]!, a.slice(1), o),
  },
  create: {
    usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create a new container',
    args: [1, Infinity],
    options: CREATE_OPTIONS,
    positional: true,
    longHelpOnly: true,
    validate: checkWith(CONTAINER_FLAGS, false),
    run: async (cli, a, o) => (await import('./container-create.ts')).runCreate(cli, a[0]!, a.slice(1), o),
  },
  start: {
    usage: `[OPTIONS] ${CONTAINERS}`,
    short: 'Start one or more stopped containers',
    args: [1, Infinity],
    options: [
      { flags: '-a, --attach', desc: 'Attach STDOUT/STDERR and forward signals' },
      detachKeys,
      { flags: '-i, --interactive', desc: "Attach container's STDIN" },
    ],
    run: async (cli, a, o) => (await import('./container-start.ts')).runStart(cli, a, o),
  },
  stop: {
    usage: `[OPTIONS] ${CONTAINERS}`,
    short: 'Stop one or more running containers',
    args: [1, Infinity],
    options: STOP_FLAGS,
    validate: checkWith(STOP_FLAGS),
    run: async (cli, a, o) => (await import('./container-stop.ts')).runStop(cli, a, deprecatedTime(cli, o)),
  },
  restart: {
    usage: `[OPTIONS] ${CONTAINERS}`,
    short: 'Restart one or more containers',
    args: [1, Infinity],
    options: STOP_FLAGS,
    validate: checkWith(STOP_FLAGS),
    run: async (cli, a, o) => (await import('./container-stop.ts')).runRestart(cli, a, deprecatedTime(cli, o)),
  },
  kill: {
    usage: `[OPTIONS] ${CONTAINERS}`,
    short: 'Kill one or more running containers',
    args: [1, Infinity],
    options: [{ flags: '-s, --signal <string>', desc: 'Signal to send to the container' }],
    run: async (cli, a, o) => (await import('./container-kill.ts')).runKill(cli, a, o),
  },
  rm: {
    usage: `[OPTIONS] ${CONTAINERS}`,
    short: 'Remove one or more containers',
    args: [1, Infinity],
    options: [
      { flags: '-f, --force', desc: 'Force the removal of a running container (uses SIGKILL)' },
      { flags: '-l, --link', desc: 'Remove the specified link' },
      { flags: '-v, --volumes', desc: 'Remove anonymous volumes associated with the container' },
    ],
    run: async (cli, a, o) => (await import('./container-remove.ts')).runRemove(cli, a, o),
  },
  pause: {
    usage: CONTAINERS,
    short: 'Pause all processes within one or more containers',
    args: [1, Infinity],
    options: [],
    run: async (cli, a) => (await import('./container-pause.ts')).runPause(cli, a),
  },
  unpause: {
    usage: CONTAINERS,
    short: 'Unpause all processes within one or more containers',
    args: [1, Infinity],
    options: [],
    run: async (cli, a) => (await import('./container-pause.ts')).runUnpause(cli, a),
  },
  rename: {
    usage: 'CONTAINER NEW_NAME',
    short: 'Rename a container',
    args: [2, 2],
    options: [],
    run: async (cli, a) => (await import('./container-rename.ts')).runRename(cli, a[0]!, a[1]!),
  },
  wait: {
    usage: CONTAINERS,
    short: 'Block until one or more containers stop, then print their exit codes',
    args: [1, Infinity],
    options: [],
    run: async (cli, a) => (await import('./container-wait.ts')).runWait(cli, a),
  },
  upgrade: {
    usage: '[OPTIONS] CONTAINER [COMMAND] [ARG...]',
    short: 'Upgrade a container to a new image in place, rolling back on failure',
    args: [1, Infinity],
    options: [
      { flags: '--image <string>', desc: "Image to upgrade to (default: the container's own image reference)" },
      { flags: '--entrypoint <string>', desc: 'Overwrite the default ENTRYPOINT of the image' },
      { flags: '--keep-rootfs', desc: "Carry the container's changes to its root filesystem onto the new image" },
      { flags: '--rollback-window <duration>', desc: 'Roll back if the container exits or turns unhealthy within this time (e.g. 10s)' },
    ],
    positional: true,
    run: async (cli, a, o) => (await import('./container-upgrade.ts')).runUpgrade(cli, a[0]!, a.slice(1), o),
  },
  update: {
    usage: `[OPTIONS] ${CONTAINERS}`,
    short: 'Update configuration of one or more containers',
    args: [1, Infinity],
    options: UPDATE_FLAGS,
    validate: checkWith(UPDATE_FLAGS, false),
    run: async (cli, a, o) => (await import('./container-update.ts')).runUpdate(cli, a, o),
  },
  ps: {
    usage: '[OPTIONS]',
    short: 'List containers',
    args: [0, 0],
    options: [
      { flags: '-a, --all', desc: 'Show all containers (default shows just running)' },
      { flags: '-f, --filter <filter>', desc: 'Filter output based on conditions provided', collect: 'filter' },
      { flags: '--format <string>', desc: FORMAT_HELP },
      { flags: '-n, --last <int>', desc: 'Show n last created containers (includes all states)', defaultText: '-1', kind: 'int' },
      { flags: '-l, --latest', desc: 'Show the latest created container (includes all states)' },
      { flags: '--no-trunc', desc: "Don't truncate output" },
      { flags: '-q, --quiet', desc: 'Only display container IDs' },
      { flags: '-s, --size', desc: 'Display total file sizes' },
    ],
    validate: checkWith([{ flags: '-n, --last <int>', desc: '', kind: 'int' }]),
    run: async (cli, _a, o) => (await import('./container-list.ts')).runPs(cli, { ...o, noTrunc: o.trunc === false }),
  },
  top: {
    usage: 'CONTAINER [ps OPTIONS]',
    short: 'Display the running processes of a container',
    args: [1, Infinity],
    options: [],
    positional: true,
    run: async (cli, a) => (await import('./container-top.ts')).runTop(cli, a[0]!, a.slice(1)),
  },
  stats: {
    usage: '[OPTIONS] [CONTAINER...]',
    short: 'Display a live stream of container(s) resource usage statistics',
    args: [0, Infinity],
    options: [
      { flags: '-a, --all', desc: 'Show all containers (default shows just running)' },
      { flags: '--format <string>', desc: FORMAT_HELP },
      { flags: '--no-stream', desc: 'Disable streaming stats and only pull the first result' },
      { flags: '--no-trunc', desc: 'Do not truncate output' },
    ],
    run: async (cli, a, o) => (await import('./container-stats.ts')).runStats(cli, a, { all: o.all, format: o.format, noStream: o.stream === false, noTrunc: o.trunc === false }),
  },
  logs: {
    usage: '[OPTIONS] CONTAINER',
    short: 'Fetch the logs of a container',
    args: [1, 1],
    options: [
      { flags: '--details', desc: 'Show extra details provided to logs' },
      { flags: '-f, --follow', desc: 'Follow log output' },
      { flags: '--since <string>', desc: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
      { flags: '-n, --tail <string>', desc: 'Number of lines to show from the end of the logs', default: 'all', defaultText: '"all"' },
      { flags: '-t, --timestamps', desc: 'Show timestamps' },
      { flags: '--until <string>', desc: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    ],
    run: async (cli, a, o) => (await import('./container-logs.ts')).runLogs(cli, a[0]!, o),
  },
  export: {
    usage: '[OPTIONS] CONTAINER',
    short: "Export a container's filesystem as a tar archive",
    args: [1, 1],
    options: [{ flags: '-o, --output <string>', desc: 'Write to a file, instead of STDOUT' }],
    run: async (cli, a, o) => (await import('./container-export.ts')).runExport(cli, a[0]!, o),
  },
  cp: {
    usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tjoey cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    short: 'Copy files/folders between a container and the local filesystem',
    args: [2, 2],
    options: [
      { flags: '-a, --archive', desc: 'Archive mode (copy all uid/gid information)' },
      { flags: '-L, --follow-link', desc: 'Always follow symbol link in SRC_PATH' },
      { flags: '-q, --quiet', desc: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
      { flags: '--no-quiet', desc: '', hidden: true },
    ],
    run: async (cli, a, o) => (await import('./container-cp.ts')).runCp(cli, a[0]!, a[1]!, o),
  },
  exec: {
    usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
    short: 'Execute a command in a running container',
    args: [2, Infinity],
    options: [
      { flags: '-d, --detach', desc: 'Detached mode: run command in the background' },
      detachKeys,
      { flags: '-e, --env <list>', desc: 'Set environment variables', collect: 'list', kind: 'env' },
      { flags: '--env-file <list>', desc: 'Read in a file of environment variables', collect: 'list' },
      { flags: '-i, --interactive', desc: 'Keep STDIN open even if not attached' },
      { flags: '--privileged', desc: 'Give extended privileges to the command' },
      { flags: '-t, --tty', desc: 'Allocate a pseudo-TTY' },
      { flags: '-u, --user <string>', desc: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
      { flags: '-w, --workdir <string>', desc: 'Working directory inside the container' },
    ],
    positional: true,
    validate: checkWith([{ flags: '-e, --env <list>', desc: '', collect: 'list', kind: 'env' }], false),
    run: async (cli, a, o) => (await import('./container-exec.ts')).runExec(cli, a[0]!, a.slice(1), o),
  },
  attach: {
    usage: '[OPTIONS] CONTAINER',
    short: 'Attach local standard input, output, and error streams to a running container',
    args: [1, 1],
    options: [
      detachKeys,
      { flags: '--no-stdin', desc: 'Do not attach STDIN' },
      { flags: '--sig-proxy', desc: 'Proxy all received signals to the process', default: true },
      { flags: '--no-sig-proxy', desc: '', hidden: true },
    ],
    run: async (cli, a, o) => (await import('./container-attach.ts')).runAttach(cli, a[0]!, o),
  },
  diff: {
    usage: 'CONTAINER',
    short: "Inspect changes to files or directories on a container's filesystem",
    args: [1, 1],
    options: [],
    run: async (cli, a) => (await import('./container-diff.ts')).runDiff(cli, a[0]!),
  },
  commit: {
    usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    short: "Create a new image from a container's changes",
    args: [1, 2],
    options: [
      { flags: '-a, --author <string>', desc: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
      { flags: '-c, --change <list>', desc: 'Apply Dockerfile instruction to the created image', collect: 'list' },
      { flags: '-m, --message <string>', desc: 'Commit message' },
      { flags: '-p, --pause', desc: 'Pause container during commit', default: true },
      { flags: '--no-pause', desc: '', hidden: true },
    ],
    positional: true,
    run: async (cli, a, o) => (await import('./container-commit.ts')).runCommit(cli, a[0]!, a[1], o),
  },
  events: {
    usage: '[OPTIONS]',
    short: 'Get real time events from the server',
    args: [0, 0],
    options: [
      { flags: '-f, --filter <filter>', desc: 'Filter output based on conditions provided', collect: 'filter' },
      {
        flags: '--format <string>',
        desc:
          "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given\nGo template.\n" +
          'Refer to https://docs.docker.com/go/formatting/\nfor more information about formatting output with\ntemplates',
      },
      { flags: '--since <string>', desc: 'Show all events created since timestamp' },
      { flags: '--until <string>', desc: 'Stream events until this timestamp' },
    ],
    run: async (cli, _a, o) => (await import('./system-events.ts')).runEvents(cli, o),
  },
  builderPrune: {
    usage: '[OPTIONS]',
    short: 'Remove build cache',
    args: [0, 0],
    options: [
      { flags: '-a, --all', desc: 'Remove all unused build cache, not just dangling ones' },
      { flags: '--filter <filter>', desc: 'Provide filter values (e.g. "until=24h")', collect: 'filter' },
      { flags: '-f, --force', desc: 'Do not prompt for confirmation' },
      { flags: '--keep-storage <bytes>', desc: 'Amount of disk space to keep for cache' },
    ],
    run: async (cli, _a, o) => (await import('./builder-prune.ts')).runBuilderPrune(cli, o),
  },
  containerPrune: {
    usage: '[OPTIONS]',
    short: 'Remove all stopped containers',
    args: [0, 0],
    options: [
      { flags: '--filter <filter>', desc: 'Provide filter values (e.g. "until=<timestamp>")', collect: 'filter' },
      { flags: '-f, --force', desc: 'Do not prompt for confirmation' },
    ],
    run: async (cli, _a, o) => (await import('./container-prune.ts')).runContainerPrune(cli, o),
  },
  volumeCreate: {
    usage: '[OPTIONS] [VOLUME]',
    short: 'Create a volume',
    args: [0, 1],
    options: [
      { flags: '-d, --driver <string>', desc: 'Specify volume driver name', default: 'local', defaultText: '"local"' },
      { flags: '--label <list>', desc: 'Set metadata for a volume', collect: 'list' },
      { flags: '--name <string>', desc: 'Specify volume name', hidden: true },
      { flags: '-o, --opt <map>', desc: 'Set driver specific options', collect: 'list', defaultText: 'map[]' },
    ],
    run: async (cli, a, o) => (await import('./volume.ts')).runVolumeCreate(cli, a, o),
  },
  volumeLs: {
    usage: '[OPTIONS]',
    short: 'List volumes',
    args: [0, 0],
    options: [
      { flags: '-f, --filter <filter>', desc: "Provide filter values (e.g. 'dangling=true')", collect: 'filter' },
      { flags: '--format <string>', desc: FORMAT_HELP },
      { flags: '-q, --quiet', desc: 'Only display volume names' },
    ],
    run: async (cli, _a, o) => (await import('./volume.ts')).runVolumeList(cli, o),
  },
  systemDf: {
    usage: '[OPTIONS]',
    short: 'Show joey disk usage',
    args: [0, 0],
    options: [
      { flags: '--format <string>', desc: FORMAT_HELP },
      { flags: '-v, --verbose', desc: 'Show detailed information on space usage' },
    ],
    run: async (cli, _a, o) => (await import('./system-df.ts')).runSystemDf(cli, o),
  },
  volumeInspect: {
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    short: 'Display detailed information on one or more volumes',
    args: [1, Infinity],
    options: [{ flags: '-f, --format <string>', desc: INSPECT_FORMAT_HELP }],
    run: async (cli, a, o) => (await import('./volume.ts')).runVolumeInspect(cli, a, o),
  },
  volumeRm: {
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    short: 'Remove one or more volumes',
    args: [1, Infinity],
    options: [{ flags: '-f, --force', desc: 'Force the removal of one or more volumes' }],
    run: async (cli, a, o) => (await import('./volume.ts')).runVolumeRemove(cli, a, o),
  },
  volumePrune: {
    usage: '[OPTIONS]',
    short: 'Remove unused local volumes',
    args: [0, 0],
    options: [
      { flags: '-a, --all', desc: 'Remove all unused volumes, not just anonymous ones' },
      { flags: '--filter <filter>', desc: 'Provide filter values (e.g. "label=<label>")', collect: 'filter' },
      { flags: '-f, --force', desc: 'Do not prompt for confirmation' },
    ],
    run: async (cli, _a, o) => (await import('./volume.ts')).runVolumePrune(cli, o),
  },
  networkCreate: {
    usage: '[OPTIONS] NETWORK',
    short: 'Create a network',
    args: [1, 1],
    options: [
      { flags: '--attachable', desc: 'Enable manual container attachment' },
      { flags: '--aux-address <map>', desc: 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect: 'list', defaultText: 'map[]' },
      { flags: '--config-from <string>', desc: 'The network from which to copy the configuration' },
      { flags: '--config-only', desc: 'Create a configuration only network' },
      { flags: '-d, --driver <string>', desc: 'Driver to manage the Network', default: 'bridge', defaultText: '"bridge"' },
      { flags: '--gateway <strings>', desc: 'IPv4 or IPv6 Gateway for the master subnet', collect: 'list' },
      { flags: '--ingress', desc: 'Create swarm routing-mesh network' },
      { flags: '--internal', desc: 'Restrict external access to the network' },
      { flags: '--ip-range <strings>', desc: 'Allocate container ip from a sub-range', collect: 'list' },
      { flags: '--ipam-driver <string>', desc: 'IP Address Management Driver', default: 'default', defaultText: '"default"' },
      { flags: '--ipam-opt <map>', desc: 'Set IPAM driver specific options', collect: 'list', defaultText: 'map[]' },
      { flags: '--ipv4', desc: 'Enable or disable IPv4 address assignment', defaultText: 'true' },
      { flags: '--no-ipv4', desc: '', hidden: true },
      { flags: '--ipv6', desc: 'Enable or disable IPv6 address assignment' },
      { flags: '--no-ipv6', desc: '', hidden: true },
      { flags: '--label <list>', desc: 'Set metadata on a network', collect: 'list', kind: 'label' },
      { flags: '-o, --opt <map>', desc: 'Set driver specific options', collect: 'list', defaultText: 'map[]' },
      { flags: '--scope <string>', desc: "Control the network's scope" },
      { flags: '--subnet <strings>', desc: 'Subnet in CIDR format that represents a network segment', collect: 'list' },
    ],
    validate: checkWith([{ flags: '--label <list>', desc: '', collect: 'list', kind: 'label' }], false),
    run: async (cli, a, o) => (await import('./network.ts')).runNetworkCreate(cli, a[0]!, o),
  },
  networkLs: {
    usage: '[OPTIONS]',
    short: 'List networks',
    args: [0, 0],
    options: [
      { flags: '-f, --filter <filter>', desc: 'Provide filter values (e.g. "driver=bridge")', collect: 'filter' },
      { flags: '--format <string>', desc: FORMAT_HELP },
      { flags: '--no-trunc', desc: 'Do not truncate the output' },
      { flags: '-q, --quiet', desc: 'Only display network IDs' },
    ],
    run: async (cli, _a, o) => (await import('./network.ts')).runNetworkList(cli, { ...o, noTrunc: o.trunc === false }),
  },
  networkInspect: {
    usage: '[OPTIONS] NETWORK [NETWORK...]',
    short: 'Display detailed information on one or more networks',
    args: [1, Infinity],
    options: [
      { flags: '-f, --format <string>', desc: INSPECT_FORMAT_HELP },
      { flags: '-v, --verbose', desc: 'Verbose output for diagnostics' },
    ],
    run: async (cli, a, o) => (await import('./network.ts')).runNetworkInspect(cli, a, o),
  },
  networkRm: {
    usage: 'NETWORK [NETWORK...]',
    short: 'Remove one or more networks',
    args: [1, Infinity],
    options: [{ flags: '-f, --force', desc: 'Do not error if the network does not exist' }],
    run: async (cli, a, o) => (await import('./network.ts')).runNetworkRemove(cli, a, o),
  },
  networkConnect: {
    usage: '[OPTIONS] NETWORK CONTAINER',
    short: 'Connect a container to a network',
    args: [2, 2],
    options: [
      { flags: '--alias <strings>', desc: 'Add network-scoped alias for the container', collect: 'list' },
      { flags: '--driver-opt <strings>', desc: 'driver options for the network', collect: 'list' },
      { flags: '--gw-priority <int>', desc: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.', kind: 'int' },
      { flags: '--ip <string>', desc: 'IPv4 address (e.g., "172.30.100.104")' },
      { flags: '--ip6 <string>', desc: 'IPv6 address (e.g., "2001:db8::33")' },
      { flags: '--link <list>', desc: 'Add link to another container', collect: 'list', kind: 'link' },
      { flags: '--link-local-ip <strings>', desc: 'Add a link-local address for the container', collect: 'list' },
    ],
    validate: checkWith([
      { flags: '--gw-priority <int>', desc: '', kind: 'int' },
      { flags: '--link <list>', desc: '', collect: 'list', kind: 'link' },
    ]),
    run: async (cli, a, o) => (await import('./network.ts')).runNetworkConnect(cli, a[0]!, a[1]!, o),
  },
  networkDisconnect: {
    usage: '[OPTIONS] NETWORK CONTAINER',
    short: 'Disconnect a container from a network',
    args: [2, 2],
    options: [{ flags: '-f, --force', desc: 'Force the container to disconnect from a network' }],
    run: async (cli, a, o) => (await import('./network.ts')).runNetworkDisconnect(cli, a[0]!, a[1]!, o),
  },
  networkPrune: {
    usage: '[OPTIONS]',
    short: 'Remove all unused networks',
    args: [0, 0],
    options: [
      { flags: '--filter <filter>', desc: 'Provide filter values (e.g. "until=<timestamp>")', collect: 'filter' },
      { flags: '-f, --force', desc: 'Do not prompt for confirmation' },
    ],
    run: async (cli, _a, o) => (await import('./network.ts')).runNetworkPrune(cli, o),
  },
  port: {
    usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
    short: 'List port mappings or a specific mapping for the container',
    args: [1, 2],
    options: [],
    run: async (cli, a) => (await import('./container-port.ts')).runPort(cli, a[0]!, a[1]),
  },
} satisfies Record<string, CmdSpec>;

type CmdName = keyof typeof COMMANDS;

/** Top-level commands, in help order, with the names they also have. */
const TOP: { name: string; spec: CmdName; group: 'common' | 'other' }[] = [
  { name: 'run', spec: 'run', group: 'common' },
  { name: 'exec', spec: 'exec', group: 'common' },
  { name: 'ps', spec: 'ps', group: 'common' },
  { name: 'pull', spec: 'pull', group: 'common' },
  { name: 'push', spec: 'push', group: 'common' },
  { name: 'images', spec: 'images', group: 'common' },
  { name: 'login', spec: 'login', group: 'common' },
  { name: 'logout', spec: 'logout', group: 'common' },
  { name: 'version', spec: 'version', group: 'common' },
  { name: 'info', spec: 'info', group: 'common' },
  { name: 'build', spec: 'build', group: 'common' },
  { name: 'attach', spec: 'attach', group: 'other' },
  { name: 'commit', spec: 'commit', group: 'other' },
  { name: 'cp', spec: 'cp', group: 'other' },
  { name: 'create', spec: 'create', group: 'other' },
  { name: 'diff', spec: 'diff', group: 'other' },
  { name: 'events', spec: 'events', group: 'other' },
  { name: 'export', spec: 'export', group: 'other' },
  { name: 'history', spec: 'history', group: 'other' },
  { name: 'import', spec: 'import', group: 'other' },
  { name: 'inspect', spec: 'inspect', group: 'other' },
  { name: 'kill', spec: 'kill', group: 'other' },
  { name: 'load', spec: 'load', group: 'other' },
  { name: 'logs', spec: 'logs', group: 'other' },
  { name: 'pause', spec: 'pause', group: 'other' },
  { name: 'port', spec: 'port', group: 'other' },
  { name: 'rename', spec: 'rename', group: 'other' },
  { name: 'restart', spec: 'restart', group: 'other' },
  { name: 'rm', spec: 'rm', group: 'other' },
  { name: 'rmi', spec: 'rmi', group: 'other' },
  { name: 'save', spec: 'save', group: 'other' },
  { name: 'start', spec: 'start', group: 'other' },
  { name: 'stats', spec: 'stats', group: 'other' },
  { name: 'stop', spec: 'stop', group: 'other' },
  { name: 'tag', spec: 'tag', group: 'other' },
  { name: 'top', spec: 'top', group: 'other' },
  { name: 'unpause', spec: 'unpause', group: 'other' },
  { name: 'update', spec: 'update', group: 'other' },
  { name: 'upgrade', spec: 'upgrade', group: 'other' },
  { name: 'wait', spec: 'wait', group: 'other' },
];

interface SubCmd {
  name: string;
  spec: CmdName;
  aliases?: string[];
}

/** `joey image …` subcommands and their aliases. */
const IMAGE: SubCmd[] = [
  { name: 'build', spec: 'build' },
  { name: 'history', spec: 'history' },
  { name: 'import', spec: 'import' },
  { name: 'inspect', spec: 'imageInspect' },
  { name: 'load', spec: 'load' },
  { name: 'ls', spec: 'images', aliases: ['list'] },
  { name: 'prune', spec: 'prune' },
  { name: 'pull', spec: 'pull' },
  { name: 'push', spec: 'push' },
  { name: 'rm', spec: 'rmi', aliases: ['remove'] },
  { name: 'save', spec: 'save' },
  { name: 'tag', spec: 'tag' },
];

/** `joey container …` subcommands and their aliases. */
const CONTAINER: SubCmd[] = [
  { name: 'attach', spec: 'attach' },
  { name: 'commit', spec: 'commit' },
  { name: 'cp', spec: 'cp' },
  { name: 'create', spec: 'create' },
  { name: 'diff', spec: 'diff' },
  { name: 'exec', spec: 'exec' },
  { name: 'export', spec: 'export' },
  { name: 'inspect', spec: 'containerInspect' },
  { name: 'kill', spec: 'kill' },
  { name: 'logs', spec: 'logs' },
  { name: 'ls', spec: 'ps', aliases: ['list', 'ps'] },
  { name: 'pause', spec: 'pause' },
  { name: 'port', spec: 'port' },
  { name: 'prune', spec: 'containerPrune' },
  { name: 'rename', spec: 'rename' },
  { name: 'restart', spec: 'restart' },
  { name: 'rm', spec: 'rm', aliases: ['remove'] },
  { name: 'run', spec: 'run' },
  { name: 'start', spec: 'start' },
  { name: 'stats', spec: 'stats' },
  { name: 'stop', spec: 'stop' },
  { name: 'top', spec: 'top' },
  { name: 'unpause', spec: 'unpause' },
  { name: 'update', spec: 'update' },
  { name: 'upgrade', spec: 'upgrade' },
  { name: 'wait', spec: 'wait' },
];

/** `joey volume …` subcommands and their aliases. */
const VOLUME: SubCmd[] = [
  { name: 'create', spec: 'volumeCreate' },
  { name: 'inspect', spec: 'volumeInspect' },
  { name: 'ls', spec: 'volumeLs', aliases: ['list'] },
  { name: 'prune', spec: 'volumePrune' },
  { name: 'rm', spec: 'volumeRm', aliases: ['remove'] },
];

/** `joey network …` subcommands and their aliases. */
const NETWORK: SubCmd[] = [
  { name: 'connect', spec: 'networkConnect' },
  { name: 'create', spec: 'networkCreate' },
  { name: 'disconnect', spec: 'networkDisconnect' },
  { name: 'inspect', spec: 'networkInspect' },
  { name: 'ls', spec: 'networkLs', aliases: ['list'] },
  { name: 'prune', spec: 'networkPrune' },
  { name: 'rm', spec: 'networkRm', aliases: ['remove'] },
];

/** `joey builder …` subcommands. */
const BUILDER: SubCmd[] = [
  { name: 'build', spec: 'build' },
  { name: 'prune', spec: 'builderPrune' },
];

/** `joey system …` subcommands. */
const SYSTEM: SubCmd[] = [
  { name: 'df', spec: 'systemDf' },
  { name: 'events', spec: 'events' },
  { name: 'info', spec: 'info' },
];

/** bareUsage: docker's usage line for an unknown subcommand has no "COMMAND". */
const GROUPS: { name: string; short: string; subs: SubCmd[]; bareUsage?: boolean }[] = [
  { name: 'builder', short: 'Manage builds', subs: BUILDER },
  { name: 'container', short: 'Manage containers', subs: CONTAINER },
  { name: 'image', short: 'Manage images', subs: IMAGE },
  { name: 'network', short: 'Manage networks', subs: NETWORK, bareUsage: true },
  { name: 'system', short: 'Manage joey', subs: SYSTEM },
  { name: 'volume', short: 'Manage volumes', subs: VOLUME },
];

/** "joey image ls, joey image list, joey images" for help's Aliases. */
function aliasLine(spec: CmdName): string | undefined {
  const names: string[] = [];
  for (const g of GROUPS) for (const s of g.subs) if (s.spec === spec) for (const n of [s.name, ...(s.aliases ?? [])]) names.push(`joey ${g.name} ${n}`);
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

  /** Flags end at the first argument: run, exec, top, commit, and the
   * program and groups, whose first argument is a command. */
  positional = false;

  /** Other names of flags ("--net" → "--network"), sharing one list. */
  renames = new Map<string, string>();

  /** pflag accepts --quiet=true, --human=false and -p=80; commander does not. */
  override parseOptions(argv: string[]): { operands: string[]; unknown: string[] } {
    const out: string[] = [];
    const takesValue = (flag: string) => this.options.find((o) => o.long === flag || o.short === flag)?.required === true;
    for (let i = 0; i < argv.length; i++) {
      let arg = argv[i]!;
      const name = arg.replace(/=.*$/s, '');
      const renamed = this.renames.get(name);
      if (renamed) arg = renamed + arg.slice(name.length);
      if (arg === '--' || (this.positional && !arg.startsWith('-'))) {
        out.push(...argv.slice(i));
        break;
      }
      const m = /^--([^=]+)=(.*)$/.exec(arg) ?? /^-(\w)=(.*)$/.exec(arg);
      if (!m) {
        out.push(arg);
        // a flag's value is not the first argument, however it is written
        if (arg.startsWith('--')) {
          if (takesValue(arg) && i + 1 < argv.length) out.push(argv[++i]!);
        } else if (arg.length > 1) {
          for (let j = 1; j < arg.length; j++) {
            if (!takesValue(`-${arg[j]}`)) continue;
            if (j === arg.length - 1 && i + 1 < argv.length) out.push(argv[++i]!);
            break;
          }
        }
        continue;
      }
      const flag = m[1]!.length === 1 ? `-${m[1]}` : `--${m[1]}`;
      const any = this.options.find((o) => o.long === flag || o.short === flag);
      if (any && !any.isBoolean() && flag.length === 2) {
        out.push(flag, m[2]!);
        continue;
      }
      const opt = any && any.isBoolean() && !any.negate ? any : undefined;
      if (!opt) {
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

const longName = (o: OptSpec) => /--([\w-]+)/.exec(o.flags)?.[1] ?? o.flags;

function optionsHelp(title: string, specs: OptSpec[]): string {
  // pflag lists flags sorted by their long names
  const visible = specs.filter((o) => !o.hidden).sort((a, b) => (longName(a) < longName(b) ? -1 : longName(a) > longName(b) ? 1 : 0));
  if (visible.length === 0) return '';
  const labels = visible.map(optionLabel);
  const width = Math.max(...labels.map((l) => l.length)) + 3;
  const lines = visible.map((o, i) => {
    const shown = o.defaultText ?? (o.default !== undefined && o.default !== false ? String(o.default) : undefined);
    const def = shown !== undefined ? ` (default ${shown})` : '';
    return labels[i]!.padEnd(width) + o.desc.replace(/\n/g, '\n' + ' '.repeat(width)) + def;
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

function configure(cmd: JoeyCommand, state: RunState, helpFlags = '-h, --help'): void {
  cmd.exitOverride((err) => {
    throw fromCommander(cmd, err);
  });
  cmd.configureOutput({
    writeOut: (s) => void state.io.stdout.write(s),
    writeErr: (s) => void state.io.stderr.write(s),
    outputError: () => {}, // fromCommander prints docker's text instead
  });
  cmd.helpOption(helpFlags, 'Print usage');
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
  configure(cmd, state, spec.longHelpOnly ? '--help' : '-h, --help');
  if (spec.positional) {
    cmd.positional = true;
    cmd.passThroughOptions();
  }
  for (const o of spec.options) {
    if (o.aliasOf) cmd.renames.set(/--[\w-]+/.exec(o.flags)![0], o.aliasOf);
    else cmd.addOption(makeOption(o, () => cmd));
  }
  const alias = aliasLine(specName);
  const help: OptSpec = spec.longHelpOnly ? { flags: '--help', desc: 'Print usage' } : { flags: '-h, --help', desc: 'Print usage', hidden: true };
  cmd.helpText = () =>
    `Usage:  ${cmd.usageLine}\n\n${spec.short}\n` +
    (alias ? `\nAliases:\n  ${alias}\n` : '') +
    optionsHelp('Options', [...spec.options, help]);
  cmd.action(async (args: string[]) => {
    let opts: Opts = { ...cmd.opts(), calledAs: name };
    try {
      if (spec.validate) opts = { ...opts, ...((await spec.validate(state.io, opts)) ?? {}) };
      const bad = argsError(cmd, spec.args, args.length);
      if (bad) throw bad;
      await spec.run(await cliFor(state, program), args, opts);
    } catch (err) {
      // a flag value that pflag would have refused while parsing
      if (err instanceof Error && err.name === 'FlagValueError') throw usageError(cmd, err.message, 125);
      throw err;
    }
  });
}

/** `joey image`, `joey container`: their subcommands, help and unknown names.
 * `only` limits the subcommands registered to the one that will run. */
function addGroup(program: JoeyCommand, group: (typeof GROUPS)[number], state: RunState, only?: string): void {
  const cmd = program.command(group.name) as JoeyCommand;
  cmd.path = `joey ${group.name}`;
  cmd.usageLine = `joey ${group.name} COMMAND`;
  cmd.description(group.short).argument('[command...]');
  configure(cmd, state);
  cmd.enablePositionalOptions();
  cmd.positional = true;
  for (const s of group.subs) {
    if (only !== undefined && s.name !== only && !s.aliases?.includes(only)) continue;
    addLeaf(cmd, s.name, s.spec, `joey ${group.name} ${s.name}`, state, program, s.aliases);
  }
  cmd.helpText = () =>
    `Usage:  joey ${group.name} COMMAND\n\n${group.short}\n` +
    commandList(
      'Commands',
      group.subs.map((s) => [s.name, COMMANDS[s.spec].short]),
    ) +
    `\nRun 'joey ${group.name} COMMAND --help' for more information on a command.\n`;
  cmd.action((args: string[]) => {
    if (args.length === 0) {
      state.io.stderr.write(cmd.helpText());
      return;
    }
    const usage = group.bareUsage ? `joey ${group.name}` : `joey ${group.name} COMMAND`;
    throw new StatusError(`joey: unknown command: joey ${group.name} ${args[0]}\n\nUsage:  ${usage}\n\nRun 'joey ${group.name} --help' for more information`);
  });
}

/** Whether a global flag (as written, "-H" or "--host") takes a value. */
function globalTakesValue(flag: string): boolean | undefined {
  const spec = GLOBAL_OPTIONS.find((o) => o.flags.split(/[ ,]+/).includes(flag));
  return spec ? spec.flags.includes('<') : undefined;
}

/** The command words that will run ("image", "ls"), found past the global
 * flags, so that only their commands need building: building all of them
 * costs more than the rest of start-up. Undefined when unsure: then all are
 * built. An empty list: no command (help, version, or an unknown flag). */
export function commandWords(argv: string[]): string[] | undefined {
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return undefined;
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg.startsWith('--')) {
      if (arg.includes('=')) continue;
      const takes = globalTakesValue(arg);
      if (takes === undefined) return [];
      if (takes) i++;
      continue;
    }
    // a cluster of short flags: "-D", "-DH unix:///x", "-Hunix:///x"
    for (let j = 1; j < arg.length; j++) {
      const takes = globalTakesValue(`-${arg[j]}`);
      if (takes === undefined) return [];
      if (takes) {
        if (j === arg.length - 1) i++;
        break;
      }
    }
  }
  const name = argv[i];
  if (name === undefined) return [];
  const group = GROUPS.find((g) => g.name === name);
  if (!group) return [name];
  const sub = argv.slice(i + 1).find((a) => !a.startsWith('-'));
  return sub === undefined ? [name] : [name, sub];
}

/** The program; with `argv`, only the command it runs is built (the help
 * texts come from the tables, so they do not change). */
export function buildProgram(state: RunState, argv?: string[]): JoeyCommand {
  const words = argv && commandWords(argv);
  const program = new JoeyCommand('joey');
  program.path = 'joey';
  program.usageLine = 'joey [OPTIONS] COMMAND';
  configure(program, state);
  program.enablePositionalOptions();
  program.positional = true;
  program.helpCommand(false);
  program.version(`Joey version ${VERSION}`, '-v, --version', 'Print version information and quit');
  for (const o of GLOBAL_OPTIONS) program.addOption(makeOption(o, () => program));
  program.argument('[command...]');

  for (const t of TOP) if (!words || words[0] === t.name) addLeaf(program, t.name, t.spec, `joey ${t.name}`, state, program);

  for (const g of GROUPS) if (!words || words[0] === g.name) addGroup(program, g, state, words?.[1]);

  program.helpText = () =>
    'Usage:  joey [OPTIONS] COMMAND\n\nA container engine for rich containers, speaking the Docker Engine API\n' +
    commandList(
      'Common Commands',
      TOP.filter((t) => t.group === 'common').map((t) => [t.name, COMMANDS[t.spec].short]),
    ) +
    commandList(
      'Management Commands',
      GROUPS.map((g) => [g.name, g.short]),
    ) +
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
  const program = buildProgram(state, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(io, err);
  } finally {
    state.cli?.close();
  }
}
