// Starting and stopping joeyd: lock the data root, write the pid file, create
// the engine, serve the API on every listener; and the reverse on shutdown.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Engine, EngineConfig } from '../engine/types.ts';
import { conflict, messageOf } from '../errdefs/index.ts';
import { log } from '../util/log.ts';
import { createApiHandler, type ApiHandler } from '../api/docker/server.ts';
import type { DaemonConfig } from './config.ts';
import { listen, probeUnixSocket, removeStaleSocket, type Listener } from './listen.ts';
import { lockDataRoot, type DataRootLock } from './lock.ts';

export interface DaemonDeps {
  createEngine: (config: EngineConfig) => Promise<Engine>;
  version: string;
  /** For tests. */
  groupFile?: string;
  /** How long requests in flight may take to finish at shutdown. */
  graceMs?: number;
}

export interface RunningDaemon {
  readonly addrs: string[];
  readonly engine: Engine;
  readonly handler: ApiHandler;
  /** Idempotent; resolves when everything is closed and removed. */
  shutdown(): Promise<void>;
}

export async function startDaemon(config: DaemonConfig, deps: DaemonDeps): Promise<RunningDaemon> {
  const { engine: ec } = config;
  mkdirSync(ec.dataRoot, { recursive: true, mode: 0o711 });
  // 0711, not 0700: the default API socket lives in the exec root and group
  // members must be able to reach it by name; the engine keeps its private
  // state in 0700 subdirectories.
  mkdirSync(ec.execRoot, { recursive: true, mode: 0o711 });

  const undo: Array<() => Promise<void> | void> = [];
  const unwind = async (): Promise<void> => {
    for (const fn of undo.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn('shutdown step failed', { err: messageOf(err) });
      }
    }
    undo.length = 0;
  };

  try {
    const lock: DataRootLock = await lockDataRoot(ec.dataRoot);
    undo.push(() => lock.release());
    writePidfile(config.pidfile);
    undo.push(() => removePidfile(config.pidfile));

    // Fail fast, before the engine's start-up work, when another daemon
    // already serves one of our sockets.
    for (const spec of config.listeners) {
      if (spec.kind === 'unix' && (await probeUnixSocket(spec.path)) === 'alive') {
        throw conflict(`another daemon is already listening on ${spec.path}`);
      }
    }
    if (config.cri) await clearCriSocket(config.cri.socket);
    const engine = await deps.createEngine(ec);
    undo.push(() => engine.close());
    const handler = createApiHandler(engine, { serverVersion: deps.version });
    const listeners: Listener[] = [];
    undo.push(async () => {
      // Stop accepting first, then end the streams (events, pulls) so that
      // their connections drain, then wait for the rest.
      const closing = listeners.map((l) => l.close(deps.graceMs));
      handler.shutdown();
      await Promise.all(closing);
    });
    for (const spec of config.listeners) {
      const l = await listen(spec, handler, { tls: config.tls, group: config.group, groupExplicit: config.groupExplicit, groupFile: deps.groupFile });
      listeners.push(l);
      log.info(`API listening on ${l.addr}`);
    }
    if (config.cri) {
      // Loaded only here: without --cri joeyd never reads grpc-js.
      const { startCriServer } = await import('../api/cri/server.ts');
      const cri = await startCriServer(engine, config.cri.socket);
      undo.push(() => cri.close(deps.graceMs));
      log.info(`CRI listening on ${cri.addr}`);
    }
    log.info('daemon started', { version: deps.version, dataRoot: ec.dataRoot, execRoot: ec.execRoot, pid: process.pid });

    let stopping: Promise<void> | undefined;
    return {
      addrs: listeners.map((l) => l.addr),
      engine,
      handler,
      shutdown() {
        stopping ??= (async () => {
          log.info('shutting down');
          await unwind();
          log.info('daemon shut down');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** A CRI socket left by a daemon that died goes; one a live server answers on stops us. */
async function clearCriSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  await removeStaleSocket(path, '--cri-socket');
}

/** Writes our pid, refusing when the file names another live process (as
 * dockerd does: "pid file found, ensure docker is not running"). */
function writePidfile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const pid = readPid(path);
  if (pid !== undefined && pid !== process.pid && isAlive(pid)) {
    throw conflict(`pid file found, ensure joeyd is not running or delete ${path} (pid ${pid} is alive)`);
  }
  writeFileSync(path, `${process.pid}\n`, { mode: 0o644 });
}

function removePidfile(path: string): void {
  // Only our own: never remove a file another daemon wrote meanwhile.
  if (readPid(path) === process.pid) unlinkSync(path);
}

function readPid(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
