// joeyd: parse the configuration, start the daemon, stop it on a signal.
import { messageOf } from '../errdefs/index.ts';
import { log, setLogLevel } from '../util/log.ts';
import { parseDaemonArgs, type ParsedArgs } from './config.ts';
import { startDaemon, type RunningDaemon } from './daemon.ts';
import { VERSION } from '../version.ts';

function fatal(msg: string, err: unknown): never {
  log.error(msg, { fatal: true, err: messageOf(err), stack: err instanceof Error ? err.stack : undefined });
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  let parsed: ParsedArgs;
  try {
    parsed = parseDaemonArgs(argv);
  } catch (err) {
    process.stderr.write(`joeyd: ${messageOf(err)}\n`);
    process.exit(1);
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`joeyd version ${VERSION}\n`);
    return;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return;
  }
  const { config } = parsed;
  setLogLevel(config.logLevel);
  process.on('uncaughtException', (err) => fatal('uncaught exception', err));
  process.on('unhandledRejection', (err) => fatal('unhandled rejection', err));

  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(config, {
      version: VERSION,
      // Loaded here, not at the top: --version and --help need none of it.
      createEngine: async (c) => (await import('../engine/index.ts')).createEngine(c),
    });
  } catch (err) {
    log.error('failed to start daemon', { err: messageOf(err) });
    process.exit(1);
  }

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn(`received ${sig} again: exiting without cleanup`);
      process.exit(1);
    }
    log.info(`received ${sig}`);
    daemon.shutdown().then(
      () => process.exit(0),
      (err) => fatal('shutdown failed', err),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // dockerd reloads its configuration on SIGHUP; joeyd cannot yet, but must
  // not die of it either (the default action) when a terminal closes.
  process.on('SIGHUP', () => log.warn('received SIGHUP: configuration reload is not supported; ignored'));
}

main(process.argv.slice(2)).catch((err) => fatal('joeyd failed', err));
