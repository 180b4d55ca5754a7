// Spawning conmon (2.1.x) for a container or an exec. conmon double-forks and
// outlives joeyd; it runs `runc create`/`runc exec` and reports over a sync
// pipe (fd 3). See docs/notes/conmon-runc.md for the protocol.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { internal, unavailable } from '../errdefs/index.ts';
import { runcMessage } from './runc.ts';

export interface ConmonOptions {
  conmon: string;
  /** The OCI runtime binary conmon runs (-r). */
  runtime: string;
  /** Global runtime flags (e.g. --root=…); conmon puts them before the subcommand. */
  runtimeArgs?: string[];
  /** Container id (-c). */
  id: string;
  /** -u: the container id again, or the exec session id. */
  uuid?: string;
  name?: string;
  /** -b: the bundle, or an exec's own dir (where attach, ctl and winsz appear). */
  bundle?: string;
  /** -p: where runc writes the container (or exec) pid. */
  pidFile: string;
  /** conmon writes <exitDir>/<id> with the exit code. */
  exitDir: string;
  /** -0: gets `exit` and `oom`. Never for an exec: it would overwrite the container's. */
  persistDir?: string;
  /** k8s-file log; none when absent. */
  logPath?: string;
  logSizeMax?: number;
  /** Where the daemonized conmon writes its own pid. */
  conmonPidFile?: string;
  stdin?: boolean;
  tty?: boolean;
  leaveStdinOpen?: boolean;
  /** [path, ...args]: run by conmon after the exit (nothing is appended). */
  exitCommand?: string[];
  /** conmon writes an `oom` file in its cwd: the bundle or the exec dir. */
  cwd: string;
  env?: Record<string, string>;
  /** Exec mode: the OCI process JSON file. */
  execProcessSpec?: string;
}

export interface ConmonStarted {
  /** The container's (or exec's) pid. */
  pid: number;
  /** The daemonized conmon (0 when no --conmon-pidfile was given). */
  conmonPid: number;
}

export interface ConmonExec extends ConmonStarted {
  /** The exit code, from the sync pipe. */
  exited: Promise<number>;
}

/** Runs conmon for `runc create` and resolves once runc has created the
 * container (its pid is known). Throws with runc's own message on failure. */
export async function conmonCreate(opts: ConmonOptions): Promise<ConmonStarted> {
  const sp = spawnConmon(opts, buildArgs(opts), 1);
  const sync = new JsonLines(sp.child.stdio[3] as Readable);
  try {
    const msg = await sync.next();
    const pid = dataOf(msg, 'create', await failureDetail(sp, msg));
    // In create mode the pipe stays open until conmon exits: let it go.
    sync.close();
    await sp.exit;
    return { pid, conmonPid: readConmonPid(opts.conmonPidFile) };
  } finally {
    sync.close();
  }
}

/** Runs conmon for `runc exec`. With `attach`, conmon waits after creating the
 * attach socket: `beforeStart` runs then (connect to <bundle>/attach so that no
 * output is missed), and only then does conmon run `runc exec`. */
export async function conmonExec(opts: ConmonOptions, attach?: { beforeStart: () => Promise<void> }): Promise<ConmonExec> {
  if (!opts.execProcessSpec) throw internal('conmonExec needs execProcessSpec');
  const args = buildArgs(opts);
  if (attach) args.push('--exec-attach');
  const sp = spawnConmon(opts, args, attach ? 3 : 1);
  const child = sp.child;
  const sync = new JsonLines(child.stdio[3] as Readable);
  try {
    if (attach) {
      const start = child.stdio[4] as Writable;
      start.on('error', () => {}); // EPIPE when conmon died: the sync pipe tells why
      const ready = new JsonLines((child.stdio as unknown as Readable[])[5]!);
      try {
        // First byte: conmon reads it before forking (podman moves conmon into a cgroup here).
        start.write('0');
        const msg = await ready.next();
        if (!msg || msg.data !== 0) {
          dataOf(msg ?? { data: -1 }, 'exec attach', await failureDetail(sp, msg));
        }
        try {
          await attach.beforeStart();
        } catch (e) {
          // conmon would take EOF on the start pipe as a go: stop it instead.
          await sp.exit.catch(() => 0);
          killQuietly(opts.conmonPidFile);
          start.destroy();
          throw e;
        }
        // Second byte: the daemonized conmon now runs `runc exec`.
        start.end('1');
      } finally {
        ready.close();
      }
    }
    const msg = await sync.next();
    const pid = dataOf(msg, 'exec', await failureDetail(sp, msg));
    const code = sync.next().then((m) => {
      sync.close();
      if (!m || typeof m.data !== 'number') throw internal(`conmon exited without reporting the exit code of exec ${opts.uuid ?? ''} in ${opts.id}`);
      return m.data;
    });
    code.catch(() => {}); // the caller may never look
    await sp.exit;
    return { pid, conmonPid: readConmonPid(opts.conmonPidFile), exited: code };
  } catch (e) {
    sync.close();
    throw e;
  }
}

function buildArgs(o: ConmonOptions): string[] {
  const args = ['--api-version', '1', '-c', o.id, '-u', o.uuid ?? o.id, '-r', o.runtime, '-p', o.pidFile, '--exit-dir', o.exitDir];
  if (o.name) args.push('-n', o.name);
  if (o.bundle) args.push('-b', o.bundle, '--full-attach');
  if (o.persistDir) args.push('-0', o.persistDir);
  args.push('-l', o.logPath ? `k8s-file:${o.logPath}` : 'none');
  if (o.logSizeMax !== undefined && o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax));
  if (o.conmonPidFile) args.push('--conmon-pidfile', o.conmonPidFile);
  // -t alone for a tty: with -t -i the first detach closes stdin for good.
  if (o.tty) args.push('-t');
  else if (o.stdin) args.push('-i');
  if (o.leaveStdinOpen) args.push('--leave-stdin-open');
  if (o.exitCommand && o.exitCommand.length > 0) {
    args.push('--exit-command', o.exitCommand[0]!);
    for (const a of o.exitCommand.slice(1)) args.push('--exit-command-arg', a);
  }
  for (const a of o.runtimeArgs ?? []) args.push('--runtime-arg', a);
  if (o.execProcessSpec) args.push('-e', '--exec-process-spec', o.execProcessSpec);
  return args;
}

interface Spawned {
  child: ChildProcess;
  /** The first conmon process's exit code (it exits once the daemon is forked). */
  exit: Promise<number>;
  /** Its stderr, complete once `exit` has resolved and stderr closed. */
  stderr: () => Promise<string>;
}

/** `pipes` extra fds from 3: the sync pipe, then the start and attach pipes. */
function spawnConmon(o: ConmonOptions, args: string[], pipes: 1 | 3): Spawned {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Our own _OCI_* (if joeyd was itself started by conmon) and systemd's
    // notify/activation variables must not leak into conmon or runc.
    if (v !== undefined && !k.startsWith('_OCI_') && k !== 'NOTIFY_SOCKET' && !k.startsWith('LISTEN_')) env[k] = v;
  }
  // conmon stamps the k8s-file log in local time: make that UTC.
  Object.assign(env, o.env, { TZ: 'UTC', _OCI_SYNCPIPE: '3' });
  if (pipes === 3) Object.assign(env, { _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' });
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'ignore', 'pipe', 'pipe'];
  if (pipes === 3) stdio.push('pipe', 'pipe');
  // The daemonized conmon keeps nothing of ours but these pipes (its stdio is /dev/null).
  const child = spawn(o.conmon, args, { cwd: o.cwd, env, stdio });
  const err: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const stderrClosed = new Promise<void>((r) => child.stderr!.once('close', () => r()));
  const exit = new Promise<number>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      for (const s of child.stdio) s?.destroy();
      reject(e.code === 'ENOENT' ? unavailable(`conmon (${o.conmon}) is not installed`, e) : internal(`conmon: ${e.message}`, e));
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 0)));
  });
  exit.catch(() => {});
  return { child, exit, stderr: async () => (await stderrClosed, Buffer.concat(err).toString()) };
}

interface SyncMessage {
  data?: number;
  message?: string;
}

/** Text for an error when conmon did not report success: runc's message if it
 * sent one, else conmon's own stderr and exit status. */
async function failureDetail(sp: Spawned, msg: SyncMessage | undefined): Promise<string> {
  if (msg && typeof msg.data === 'number' && msg.data >= 0) return '';
  if (msg?.message) return runcMessage(msg.message);
  const code = await sp.exit;
  const text = (await sp.stderr()).trim();
  return text || `conmon exited with ${code} without a report`;
}

function dataOf(msg: SyncMessage | undefined, what: string, detail: string): number {
  if (msg && typeof msg.data === 'number' && msg.data >= 0) return msg.data;
  throw internal(`OCI runtime ${what} failed: ${detail}`);
}

/** conmon is a session leader (setsid); its child that will exec runc waits in
 * the same process group, so kill the group, not only conmon. */
function killQuietly(pidFile: string | undefined): void {
  try {
    const pid = readConmonPid(pidFile);
    if (pid > 0) process.kill(-pid, 'SIGKILL');
  } catch {
    // no pidfile or already gone
  }
}

function readConmonPid(file: string | undefined): number {
  if (!file) return 0;
  // Sync: a few bytes, written before the first conmon process exited.
  const n = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(n) || n <= 0) throw internal(`conmon pidfile ${file} holds no pid`);
  return n;
}

/** Newline-delimited JSON from one of conmon's pipes. */
class JsonLines {
  private buf = '';
  private lines: SyncMessage[] = [];
  private ended = false;
  private waiter: (() => void) | undefined;
  private readonly stream: Readable;

  constructor(stream: Readable) {
    this.stream = stream;
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      this.buf += s;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (line === '') continue;
        try {
          this.lines.push(JSON.parse(line) as SyncMessage);
        } catch {
          this.lines.push({ data: -1, message: `unreadable message from conmon: ${line}` });
        }
      }
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  /** The next message; undefined at EOF. */
  async next(): Promise<SyncMessage | undefined> {
    while (this.lines.length === 0 && !this.ended) await new Promise<void>((r) => (this.waiter = r));
    return this.lines.shift();
  }

  close(): void {
    this.ended = true;
    this.stream.destroy();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
