// A private joeyd for integration tests: its own data root, exec root, socket
// and pidfile under /tmp/joey-it-XXXX, and clients (docker CLI, joey CLI, raw
// HTTP) pointed at it with config dirs of their own.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeCgroupTree } from './cgroups.ts';
import {
  LogBuffer, exited, formatResult, makeTempDir, removeDir, run, terminate, waitFor, waitWhileRunning,
  type CmdOptions, type CmdResult,
} from './proc.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const JOEYD_BIN = join(REPO_ROOT, 'bin/joeyd');
export const JOEY_BIN = join(REPO_ROOT, 'bin/joey');
export const DOCKER_BIN = process.env.JOEY_TEST_DOCKER || '/usr/local/bin/docker';

/**
 * Which engine to start: joeyd, or (JOEY_TEST_ENGINE=dockerd) Debian's dockerd
 * with the same private dirs, to check the tests themselves against a
 * reference engine. Tests of joey-only behaviour then fail, as they should.
 */
export type Engine = 'joeyd' | 'dockerd';
export const TEST_ENGINE: Engine = process.env.JOEY_TEST_ENGINE === 'dockerd' ? 'dockerd' : 'joeyd';

export interface DaemonOptions {
  engine?: Engine;
  /** Extra joeyd arguments (e.g. --insecure-registry). */
  args?: string[];
  /** Extra environment for joeyd. */
  env?: NodeJS.ProcessEnv;
  /** The daemon.json given with --config-file (default {}), so that the host's /etc/joey/daemon.json never applies. */
  config?: Record<string, unknown>;
  /** How long to wait for /_ping. Default 30 s. */
  startTimeoutMs?: number;
}

export interface ApiReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  /** The body parsed as JSON (throws if it is not). */
  json<T = any>(): T;
}

export interface Daemon {
  /** The temp dir that holds everything below. */
  dir: string;
  socket: string;
  /** unix://SOCKET */
  host: string;
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  /** DOCKER_CONFIG of the docker runner. */
  dockerConfig: string;
  /** JOEY_CONFIG of the joey runner. */
  joeyConfig: string;
  /** The running joeyd's pid (changes on restart). */
  readonly pid: number;
  /** Whether the daemon process is still alive (false after a crash, kill9 or stop). */
  readonly running: boolean;
  /** The environment the docker and joey runners use (DOCKER_HOST, DOCKER_CONFIG, …), for other clients such as docker-py or a shell in a terminal. */
  clientEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Runs the docker CLI against this daemon; resolves whatever the exit code. */
  docker(args: string[], opts?: CmdOptions): Promise<CmdResult>;
  /** Like `docker` but requires exit 0; the error shows the output and the daemon's log. */
  dockerOk(args: string[], opts?: CmdOptions): Promise<CmdResult>;
  /** `docker … ` whose stdout is JSON (e.g. `image inspect`). */
  dockerJson<T = any>(args: string[], opts?: CmdOptions): Promise<T>;
  /** Starts the docker CLI without waiting (for kills mid-operation). */
  dockerSpawn(args: string[], opts?: CmdOptions): { child: ChildProcess; done: Promise<CmdResult> };
  /** Runs the joey CLI against this daemon. */
  joey(args: string[], opts?: CmdOptions): Promise<CmdResult>;
  joeyOk(args: string[], opts?: CmdOptions): Promise<CmdResult>;
  /** A raw HTTP request over the socket; objects are sent as JSON. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiReply>;
  /** joeyd's stderr so far (JSON lines), across restarts. */
  log(): string;
  /** The log lines that parse as JSON. */
  logLines(): Record<string, unknown>[];
  /** A block of text for assertion messages: the command's output and the log's tail. */
  diagnose(r?: CmdResult): string;
  /** SIGTERM; SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill9(): Promise<void>;
  /** Stops (if running) and starts again on the same dirs. */
  restart(): Promise<void>;
  /** Stops, unmounts and removes everything. Mounts found under the dir are a leak: they are listed and, unless told otherwise, thrown after cleaning up. */
  cleanup(opts?: { failOnLeak?: boolean }): Promise<string[]>;
}

/** Without a bridge of its own a test joeyd would make (and leave, as docker0
 * stays) the host-wide default `joey0`: tests that want networks name one. */
function noDefaultBridge(args: string[]): string[] {
  return args.some((a) => a === '--bridge' || a === '-b' || a.startsWith('--bridge=')) ? [] : ['--bridge', 'none'];
}

/** Starts joeyd (assumes `make build` made dist/joeyd.mjs) and waits for GET /_ping. */
export async function startJoeyd(opts: DaemonOptions = {}): Promise<Daemon> {
  const engine = opts.engine ?? TEST_ENGINE;
  if (engine === 'joeyd' && !existsSync(join(REPO_ROOT, 'dist/joeyd.mjs'))) throw new Error(`joeyd is not built: run \`make build\` in ${REPO_ROOT}`);
  const dir = await makeTempDir('joey-it-');
  const socket = join(dir, 'joeyd.sock');
  const d = {
    dir,
    socket,
    host: `unix://${socket}`,
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'exec'),
    pidfile: join(dir, 'joeyd.pid'),
    dockerConfig: join(dir, 'docker-config'),
    joeyConfig: join(dir, 'joey-config'),
  };
  for (const p of [d.dataRoot, d.execRoot, d.dockerConfig, d.joeyConfig]) await mkdir(p, { recursive: true });
  const configFile = join(dir, 'daemon.json');
  await writeFile(configFile, JSON.stringify(opts.config ?? {}));
  // Containers go under a cgroup parent of this daemon's own (never joeyd's
  // default /joey, which a real daemon on the host uses), unless the caller
  // names one (and then removes it, as containers.ts does).
  const ownCgroupParent = engine === 'joeyd' && !(opts.args ?? []).some((a) => a === '--cgroup-parent' || a.startsWith('--cgroup-parent='))
    ? `/joey-it-${process.pid}-${basename(dir)}`
    : undefined;
  const log = new LogBuffer(4 << 20);
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    log.push(`--- joeyd start ${new Date().toISOString()}\n`);
    const common = ['--data-root', d.dataRoot, '--exec-root', d.execRoot, '-H', d.host, '--pidfile', d.pidfile, '--config-file', configFile];
    const [file, args] = engine === 'joeyd'
      ? [process.execPath, [JOEYD_BIN, ...common, ...noDefaultBridge(opts.args ?? []), ...(ownCgroupParent ? ['--cgroup-parent', ownCgroupParent] : []), ...(opts.args ?? [])]]
      : ['dockerd', [...common, '--bridge', 'none', '--iptables=false', '--ip-masq=false', '--storage-driver', 'vfs', ...(opts.args ?? [])]];
    const c = spawn(file, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
    c.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
    c.on('exit', (code, signal) => log.push(`--- joeyd exited ${code ?? signal}\n`));
    const what = `${engine} to answer GET /_ping`;
    await waitWhileRunning(c, what, async () => (await api('GET', '/_ping').catch(() => undefined))?.status === 200, opts.startTimeoutMs ?? 30_000, 100)
      .catch((e: unknown) => {
        c.kill('SIGKILL');
        throw new Error(`${engine}: ${String(e instanceof Error ? e.message : e)}\n--- ${engine} log\n${log.tail()}`);
      });
  };

  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiReply> =>
    new Promise((resolvePromise, reject) => {
      const payload = body === undefined ? undefined
        : Buffer.isBuffer(body) ? body
        : typeof body === 'string' ? Buffer.from(body)
        : Buffer.from(JSON.stringify(body));
      const hdrs: Record<string, string> = { ...headers };
      if (payload) {
        hdrs['content-length'] = String(payload.length);
        if (!hdrs['content-type'] && body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string') hdrs['content-type'] = 'application/json';
      }
      const req = request({ socketPath: socket, method, path, headers: hdrs, timeout: 120_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: buf,
            text: buf.toString(),
            json: () => JSON.parse(buf.toString()),
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.end(payload);
    });

  const clientEnv = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: d.dockerConfig, JOEY_HOST: d.host, JOEY_CONFIG: d.joeyConfig, DOCKER_CLI_HINTS: 'false' };
    for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete env[k];
    return { ...env, ...extra };
  };

  const diagnose = (r?: CmdResult): string => `${r ? `${formatResult(r)}\n` : ''}--- joeyd log (tail)\n${log.tail(6000)}`;
  const withDiag = (r: CmdResult): CmdResult => {
    if (r.code !== 0) throw new Error(`command failed\n${diagnose(r)}`);
    return r;
  };
  const docker = (args: string[], o: CmdOptions = {}): Promise<CmdResult> => run(DOCKER_BIN, args, { ...o, env: clientEnv(o.env) });
  const joey = (args: string[], o: CmdOptions = {}): Promise<CmdResult> => run(process.execPath, [JOEY_BIN, ...args], { ...o, env: clientEnv(o.env) });

  const stop = async (): Promise<void> => {
    if (child) await terminate(child, 10_000);
  };

  // dockerd leaves its managed containerd running when killed: end it too, by its pidfile.
  const killDockerdContainerd = async (): Promise<void> => {
    if (engine !== 'dockerd') return;
    const pid = Number(await readFile(join(d.execRoot, 'containerd/containerd.pid'), 'utf8').catch(() => '0'));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await waitFor('containerd to exit', () => !existsSync(`/proc/${pid}`), 10_000).catch(() => undefined);
    }
  };

  try {
    await launch();
  } catch (e) {
    await killDockerdContainerd();
    for (const m of (await mountsUnder(dir)).reverse()) await run('umount', ['-l', m]);
    await removeDir(dir);
    throw e;
  }
  const daemon: Daemon = {
    ...d,
    get pid() {
      return child?.pid ?? 0;
    },
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    clientEnv,
    docker,
    dockerOk: async (args, o) => withDiag(await docker(args, o)),
    dockerJson: async (args, o) => JSON.parse(withDiag(await docker(args, o)).stdout),
    dockerSpawn: (args, o = {}) => {
      const c = spawn(DOCKER_BIN, args, { env: clientEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      c.stdout!.on('data', (b: Buffer) => out.push(b));
      c.stderr!.on('data', (b: Buffer) => err.push(b));
      const done = new Promise<CmdResult>((res) => c.on('close', (code, signal) => res({
        code: code ?? (signal === 'SIGKILL' ? 137 : 143),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        cmd: ['docker', ...args].join(' '),
      })));
      return { child: c, done };
    },
    joey,
    joeyOk: async (args, o) => withDiag(await joey(args, o)),
    api,
    log: () => log.text(),
    logLines: () => log.text().split('\n').flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    }),
    diagnose,
    stop,
    kill9: async () => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = exited(child);
      child.kill('SIGKILL');
      await gone;
      await killDockerdContainerd();
    },
    restart: async () => {
      await stop();
      await launch();
    },
    cleanup: async ({ failOnLeak = true } = {}) => {
      await stop();
      await killDockerdContainerd();
      const leaked = await mountsUnder(dir);
      // Deepest first, so that nested mounts come off before their parents.
      for (const m of [...leaked].reverse()) {
        const r = await run('umount', [m]);
        if (r.code !== 0) await run('umount', ['-l', m]);
      }
      await removeDir(dir);
      const leftCgroups = ownCgroupParent ? await removeCgroupTree(ownCgroupParent) : [];
      if (leaked.length && failOnLeak) throw new Error(`joeyd leaked ${leaked.length} mount(s) under ${dir}:\n${leaked.join('\n')}`);
      if (leftCgroups.length && failOnLeak) throw new Error(`cgroups left under ${ownCgroupParent}:\n${leftCgroups.join('\n')}`);
      return leaked;
    },
  };
  return daemon;
}

/** Mount points at or below `dir`, in mount order (parents first). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  return info.split('\n').filter(Boolean).map((l) => unescape(l.split(' ')[4]!)).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

