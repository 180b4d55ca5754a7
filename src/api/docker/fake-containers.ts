// A fake ContainerService for the adapter's tests: containers in memory that
// "run" a tiny command language, so that attach, logs, wait and exec behave
// as the docker CLI expects of them.
//   echo a b            prints "a b"
//   sh -c 'echo a; echo b >&2; exit 3'
//   cat                 echoes stdin to stdout until stdin closes
//   anything else       runs until stopped or killed
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  AttachSession,
  ContainerInspect,
  ContainerService,
  ContainerStatus,
  ContainerSummary,
  CreateRequest,
  ExecConfig,
  ExecInspect,
  LogEntry,
  PathStat,
} from '../../engine/containers/types.ts';
import { canceled, conflict, internal, notFound } from '../../errdefs/index.ts';
import { validateUpgradeRequest } from '../../engine/containers/upgrade-config.ts';

export const C1_ID = '1c'.repeat(32);

/** An async queue: what the fake's sessions and log followers read. */
export class Queue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(r: IteratorResult<T>) => void> = [];
  private ended = false;

  push(v: T): void {
    if (this.ended) return;
    const w = this.waiters.shift();
    if (w) w({ value: v, done: false });
    else this.items.push(v);
  }

  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

interface Program {
  stdin?(data: Buffer): void;
  stdinEnd?(): void;
  /** Stops what it would still do (the caller records the exit). */
  kill?(): void;
}

type Output = (stream: 1 | 2, text: string) => void;

/** Runs `cmd` on the next tick of the event loop, so that whoever started
 * it has answered before output appears. */
function runProgram(cmd: string[], out: Output, exit: (code: number) => void): Program {
  const [prog, ...args] = cmd;
  if (prog === 'cat') {
    return { stdin: (d) => out(1, d.toString()), stdinEnd: () => exit(0) };
  }
  if (prog === 'sleep') {
    const timer = setTimeout(() => exit(0), Number(args[0] ?? 0) * 1000);
    return { kill: () => clearTimeout(timer) };
  }
  if (prog === 'echo' || (prog === 'sh' && args[0] === '-c')) {
    setImmediate(() => {
      if (prog === 'echo') {
        out(1, args.join(' ') + '\n');
        return exit(0);
      }
      for (const stmt of (args[1] ?? '').split(/;|&&/).map((s) => s.trim())) {
        const ex = /^exit (\d+)$/.exec(stmt);
        if (ex) return exit(Number(ex[1]));
        const echo = /^echo (.*?)( >&2)?$/.exec(stmt);
        if (echo) out(echo[2] ? 2 : 1, echo[1]! + '\n');
      }
      exit(0);
    });
  }
  return {};
}

interface Session extends AttachSession {
  push(stream: 1 | 2, data: Buffer): void;
  end(): void;
}

function makeSession(opts: { tty: boolean; stdout: boolean; stderr: boolean; stdin?: Program | (() => Program | undefined); onClose: () => void }): Session {
  const q = new Queue<{ stream: 1 | 2; data: Buffer }>();
  const prog = (): Program | undefined => (typeof opts.stdin === 'function' ? opts.stdin() : opts.stdin);
  const s: Session = {
    tty: opts.tty,
    output: q,
    push(stream, data) {
      if ((stream === 1 && opts.stdout) || (stream === 2 && opts.stderr)) q.push({ stream: opts.tty ? 1 : stream, data });
    },
    end: () => q.end(),
    close() {
      q.end();
      opts.onClose();
    },
  };
  if (opts.stdin) {
    s.writeStdin = (d) => prog()?.stdin?.(d);
    s.closeStdin = () => prog()?.stdinEnd?.();
  }
  return s;
}

export interface FakeContainer {
  id: string;
  name: string;
  config: CreateRequest;
  created: string;
  status: ContainerStatus;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  logs: LogEntry[];
  /** Everything written to the container's stdin, for tests. */
  stdin: Buffer[];
  stdinClosed: boolean;
  sessions: Set<Session>;
  followers: Set<Queue<LogEntry>>;
  program?: Program;
  onExit: Array<(code: number) => void>;
  onRemove: Array<(code: number) => void>;
  resized?: [number, number];
}

interface FakeExec {
  id: string;
  container: FakeContainer;
  cfg: ExecConfig;
  running: boolean;
  exitCode: number | null;
  program?: Program;
  finish?: (code: number) => void;
}

export interface FakeContainers extends ContainerService {
  readonly containers: Map<string, FakeContainer>;
  readonly uploads: Array<{ id: string; path: string; data: Buffer }>;
  find(idOrName: string): FakeContainer;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function nanoTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function createFakeContainers(hasImage: (ref: string) => boolean): FakeContainers {
  const containers = new Map<string, FakeContainer>();
  const execs = new Map<string, FakeExec>();
  const uploads: FakeContainers['uploads'] = [];

  const find = (idOrName: string): FakeContainer => {
    const key = idOrName.replace(/^\//, '');
    for (const c of containers.values()) if (c.name === key || c.id === key) return c;
    const byPrefix = [...containers.values()].filter((c) => c.id.startsWith(key));
    if (byPrefix.length === 1) return byPrefix[0]!;
    throw notFound(`No such container: ${idOrName}`);
  };

  const appendLog = (c: FakeContainer, stream: 1 | 2, text: string): void => {
    const entry: LogEntry = { stream, time: nanoTime(), data: Buffer.from(text) };
    c.logs.push(entry);
    for (const s of c.sessions) s.push(stream, entry.data);
    for (const f of c.followers) f.push(entry);
  };

  const exited = (c: FakeContainer, code: number): void => {
    if (c.status !== 'running' && c.status !== 'paused') return;
    c.status = 'exited';
    c.exitCode = code;
    c.finishedAt = nanoTime();
    c.program = undefined;
    for (const s of c.sessions) s.end();
    for (const f of c.followers) f.end();
    for (const fn of c.onExit.splice(0)) fn(code);
    if (c.config.HostConfig?.AutoRemove) removeNow(c);
  };

  const removeNow = (c: FakeContainer): void => {
    containers.delete(c.id);
    for (const fn of c.onRemove.splice(0)) fn(c.exitCode);
  };

  const startNow = (c: FakeContainer): void => {
    const first = c.startedAt === ZERO_TIME;
    c.status = 'running';
    c.startedAt = nanoTime();
    const cmd = [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? ['sh'])];
    const program = runProgram(cmd, (stream, text) => appendLog(c, stream, text), (code) => exited(c, code));
    c.program = program;
    if (first) for (const d of c.stdin) program.stdin?.(d);
    if (first && c.stdinClosed) program.stdinEnd?.();
  };

  const seed = (id: string, name: string, cmd: string[], status: ContainerStatus, tty = false): FakeContainer => {
    const c: FakeContainer = {
      id,
      name,
      config: { Image: 'busybox', Cmd: cmd, Tty: tty, OpenStdin: true, HostConfig: {} },
      created: '2023-11-14T22:13:20.000000000Z',
      status,
      exitCode: 0,
      startedAt: status === 'running' ? '2023-11-14T22:13:21.000000000Z' : ZERO_TIME,
      finishedAt: ZERO_TIME,
      logs: [
        { stream: 1, time: '2023-11-14T22:13:21.123456789Z', data: Buffer.from(`hello from ${name}\n`) },
        { stream: 2, time: '2023-11-14T22:13:22.000000001Z', data: Buffer.from(`warning from ${name}\n`) },
      ],
      stdin: [],
      stdinClosed: false,
      sessions: new Set(),
      followers: new Set(),
      onExit: [],
      onRemove: [],
    };
    if (status === 'running') c.program = runProgram(cmd, (s, t) => appendLog(c, s, t), (code) => exited(c, code));
    containers.set(id, c);
    return c;
  };
  seed(C1_ID, 'c1', ['top'], 'running');

  const summary = (c: FakeContainer): ContainerSummary => ({
    Id: c.id,
    Names: ['/' + c.name],
    Image: c.config.Image ?? '',
    ImageID: 'sha256:' + 'ab'.repeat(32),
    Command: [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])].join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: [],
    Labels: c.config.Labels ?? {},
    State: c.status,
    Status: c.status === 'running' ? 'Up 2 minutes' : c.status === 'exited' ? `Exited (${c.exitCode}) 3 seconds ago` : 'Created',
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  });

  const inspectOf = (c: FakeContainer): ContainerInspect => {
    const cmd = [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])];
    return {
      Id: c.id,
      Created: c.created,
      Path: cmd[0] ?? '',
      Args: cmd.slice(1),
      State: {
        Status: c.status,
        Running: c.status === 'running' || c.status === 'paused',
        Paused: c.status === 'paused',
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: c.status === 'running' ? 4242 : 0,
        ExitCode: c.exitCode,
        Error: '',
        StartedAt: c.startedAt,
        FinishedAt: c.finishedAt,
      },
      Image: 'sha256:' + 'ab'.repeat(32),
      ResolvConfPath: '',
      HostnamePath: '',
      HostsPath: '',
      LogPath: '',
      Name: '/' + c.name,
      RestartCount: 0,
      Driver: 'overlay2',
      Platform: 'linux',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      // docker-py's run reads HostConfig.LogConfig.Type.
      HostConfig: { LogConfig: { Type: 'json-file', Config: {} }, ...c.config.HostConfig },
      GraphDriver: { Name: 'overlay2', Data: null },
      Mounts: [],
      Config: { ...c.config, HostConfig: undefined } as CreateRequest,
      NetworkSettings: { Networks: {} },
    };
  };

  const notRunning = (c: FakeContainer): Error => conflict(`Container ${c.id} is not running`);
  const stat: PathStat = { name: 'hostname', size: 13, mode: 0o644, mtime: '2023-11-14T22:13:20Z', linkTarget: '' };

  const svc: FakeContainers = {
    containers,
    uploads,
    find,
    async create(req, opts = {}) {
      const image = req.Image ?? '';
      if (!hasImage(image)) throw notFound(`No such image: ${image}`);
      const name = opts.name ?? `fake_${containers.size}`;
      const taken = [...containers.values()].find((c) => c.name === name);
      if (taken) {
        throw conflict(`Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      const c = seed(randomBytes(32).toString('hex'), name, req.Cmd ?? ['sh'], 'created', req.Tty);
      c.config = { ...req };
      c.logs = [];
      return { Id: c.id, Warnings: [] };
    },
    async start(id) {
      const c = find(id);
      if (c.status === 'running' || c.status === 'paused') return false;
      startNow(c);
      return true;
    },
    async stop(id) {
      const c = find(id);
      if (c.status !== 'running' && c.status !== 'paused') return false;
      exited(c, 143);
      return true;
    },
    async restart(id) {
      const c = find(id);
      exited(c, 143);
      if (containers.has(c.id)) startNow(c);
    },
    async kill(id) {
      const c = find(id);
      if (c.status !== 'running') throw conflict(`Cannot kill container: ${id}: ${notRunning(c).message}`);
      exited(c, 137);
    },
    async remove(id, opts = {}) {
      const c = find(id);
      if ((c.status === 'running' || c.status === 'paused') && !opts.force) {
        throw conflict(`You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
      }
      exited(c, 137);
      removeNow(c);
    },
    async pause(id) {
      const c = find(id);
      if (c.status !== 'running') throw notRunning(c);
      c.status = 'paused';
    },
    async unpause(id) {
      const c = find(id);
      if (c.status !== 'paused') throw conflict(`Container ${c.id} is not paused`);
      c.status = 'running';
    },
    async rename(id, newName) {
      const c = find(id);
      if ([...containers.values()].some((o) => o.name === newName)) throw conflict(`Conflict. The container name "/${newName}" is already in use`);
      c.name = newName;
    },
    wait(id, opts = {}) {
      return new Promise((resolve, reject) => {
        const c = find(id);
        const done = (code: number): void => resolve({ StatusCode: code, Error: null });
        const condition = opts.condition ?? 'not-running';
        if (condition === 'not-running' && c.status !== 'running' && c.status !== 'paused') return done(c.exitCode);
        (condition === 'removed' ? c.onRemove : c.onExit).push(done);
        opts.signal?.addEventListener('abort', () => reject(canceled('wait cancelled')), { once: true });
      });
    },
    async update(id) {
      find(id);
      return { Warnings: [] };
    },
    async list(opts = {}) {
      const all = [...containers.values()].filter((c) => opts.all || c.status === 'running' || c.status === 'paused');
      return all.slice(0, opts.limit ?? all.length).map(summary);
    },
    async inspect(id) {
      return inspectOf(find(id));
    },
    async top(id) {
      const c = find(id);
      if (c.status !== 'running') throw notRunning(c);
      return { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '4242', '4200', '0', '22:13', '?', '00:00:00', 'top']] };
    },
    stats(id, opts) {
      const c = find(id);
      return (async function* () {
        for (let n = 0; ; n++) {
          yield { id: c.id, name: '/' + c.name, read: nanoTime(), cpu_stats: { cpu_usage: { total_usage: 1000 * (n + 1) }, system_cpu_usage: 1e9, online_cpus: 2 }, memory_stats: { usage: 1_048_576, limit: 2_147_483_648 }, pids_stats: { current: 1 }, networks: { eth0: { rx_bytes: 700, rx_errors: 0, tx_bytes: 300, tx_errors: 1 } } };
          if (!opts.stream || opts.signal?.aborted) return;
          await new Promise((r) => setTimeout(r, 20));
          if (opts.signal?.aborted) return;
        }
      })();
    },
    async logs(id, opts) {
      const c = find(id);
      let entries = c.logs.filter((e) => (e.stream === 1 ? opts.stdout : opts.stderr));
      if (opts.since !== undefined) entries = entries.filter((e) => Date.parse(e.time) / 1000 >= opts.since!);
      if (typeof opts.tail === 'number') entries = opts.tail === 0 ? [] : entries.slice(-opts.tail);
      const follow = opts.follow && c.status === 'running';
      const q = new Queue<LogEntry>();
      for (const e of entries) q.push(e);
      if (follow) {
        c.followers.add(q);
        opts.signal?.addEventListener('abort', () => {
          c.followers.delete(q);
          q.end();
        });
      } else q.end();
      return { tty: !!c.config.Tty, entries: q };
    },
    async export(id) {
      find(id);
      return Readable.from([Buffer.from(`tar of ${id}`)]);
    },
    async archiveStat(id, path) {
      const c = find(id);
      if (path !== '/etc/hostname') throw notFound(`Could not find the file ${path} in container ${c.name}`);
      return stat;
    },
    async archiveGet(id, path) {
      await svc.archiveStat(id, path);
      return { stat, tar: Readable.from([Buffer.from(`tar of ${path}`)]) };
    },
    async archivePut(id, path, tar) {
      const c = find(id);
      const chunks: Buffer[] = [];
      for await (const chunk of tar) chunks.push(chunk as Buffer);
      uploads.push({ id: c.id, path, data: Buffer.concat(chunks) });
    },
    async changes(id) {
      find(id);
      return [
        { Path: '/tmp', Kind: 0 },
        { Path: '/tmp/new', Kind: 1 },
      ];
    },
    async commit(opts) {
      find(opts.container);
      return { Id: 'sha256:' + 'fe'.repeat(32) };
    },
    async upgrade(id, req) {
      const c = find(id);
      const r = validateUpgradeRequest(req);
      if (r.Image === 'fails:v2') throw internal(`upgrade of ${c.name} failed and was rolled back: the container exited with code 1 within the rollback window`);
      return { Id: c.id, Image: r.Image ?? 'busybox', ImageID: 'sha256:' + 'cd'.repeat(32), PreviousImage: 'busybox', PreviousImageID: 'sha256:' + 'ab'.repeat(32) };
    },
    async prune() {
      const deleted = [...containers.values()].filter((c) => c.status === 'exited' || c.status === 'created');
      for (const c of deleted) removeNow(c);
      return { ContainersDeleted: deleted.map((c) => c.id), SpaceReclaimed: 0 };
    },
    async attach(id, opts) {
      const c = find(id);
      const session: Session = makeSession({
        tty: !!c.config.Tty,
        stdout: !!opts.stdout,
        stderr: !!opts.stderr,
        stdin: opts.stdin && c.config.OpenStdin ? () => stdinOf(c) : undefined,
        onClose: () => c.sessions.delete(session),
      });
      if (opts.logs) for (const e of c.logs) session.push(e.stream, e.data);
      if (opts.stream) c.sessions.add(session);
      else session.end();
      return session;
    },
    async reopenLog(id) {
      const c = find(id);
      if (c.status !== 'running') throw notRunning(c);
    },
    async resize(id, h, w) {
      const c = find(id);
      if (c.status !== 'running') throw notRunning(c);
      c.resized = [h, w];
    },
    async execCreate(id, cfg) {
      const c = find(id);
      if (c.status !== 'running') throw notRunning(c);
      const e: FakeExec = { id: randomBytes(32).toString('hex'), container: c, cfg, running: false, exitCode: null };
      execs.set(e.id, e);
      return { Id: e.id };
    },
    async execStart(execId, opts) {
      const e = execs.get(execId);
      if (!e) throw notFound(`No such exec instance: ${execId}`);
      if (e.running || e.exitCode !== null) throw conflict(`Error: Exec command ${execId} is already running`);
      e.running = true;
      const tty = opts.Tty ?? !!e.cfg.Tty;
      const session = opts.Detach
        ? undefined
        : makeSession({ tty, stdout: e.cfg.AttachStdout !== false, stderr: e.cfg.AttachStderr !== false, stdin: e.cfg.AttachStdin ? () => e.program : undefined, onClose: () => {} });
      e.finish = (code) => {
        if (!e.running) return;
        e.running = false;
        e.exitCode = code;
        session?.end();
      };
      e.program = runProgram(e.cfg.Cmd, (stream, text) => session?.push(stream, Buffer.from(text)), e.finish);
      return session;
    },
    async execKill(execId) {
      const e = execs.get(execId);
      if (!e) throw notFound(`No such exec instance: ${execId}`);
      if (!e.running) return;
      e.program?.kill?.();
      e.finish?.(137);
    },
    async execInspect(execId): Promise<ExecInspect> {
      const e = execs.get(execId);
      if (!e) throw notFound(`No such exec instance: ${execId}`);
      return {
        ID: e.id,
        Running: e.running,
        ExitCode: e.exitCode,
        ProcessConfig: { tty: !!e.cfg.Tty, entrypoint: e.cfg.Cmd[0]!, arguments: e.cfg.Cmd.slice(1), privileged: !!e.cfg.Privileged, user: e.cfg.User ?? '' },
        OpenStdin: !!e.cfg.AttachStdin,
        OpenStderr: !!e.cfg.AttachStderr,
        OpenStdout: !!e.cfg.AttachStdout,
        CanRemove: false,
        ContainerID: e.container.id,
        DetachKeys: e.cfg.DetachKeys ?? '',
        Pid: 4343,
      };
    },
    async execResize(execId) {
      if (!execs.has(execId)) throw notFound(`No such exec instance: ${execId}`);
    },
  };

  /** Stdin is recorded and goes to what the container runs; before it
   * starts (docker run attaches first), it waits in the record. */
  const stdinOf = (c: FakeContainer): Program => ({
    stdin: (d) => {
      c.stdin.push(d);
      if (c.status === 'running') c.program?.stdin?.(d);
    },
    stdinEnd: () => {
      c.stdinClosed = true;
      if (c.status === 'running') c.program?.stdinEnd?.();
    },
  });

  return svc;
}
