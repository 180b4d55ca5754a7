// Rich containers, the engine's half: reads the rootfs (what /sbin/init is,
// where the command lives), writes the generated files on the host
// (<data-root>/containers/<id>/rich/, rewritten at every start), and runs the
// init script in the created container before its PID 1 starts. What the
// files say and how the spec changes is runtime/spec/rich.ts.
import { mkdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { deadlineExceeded, failedPrecondition, invalid, messageOf } from '../../errdefs/index.ts';
import { DEFAULT_PATH } from '../../runtime/spec/process.ts';
import {
  PROFILE_SCRIPT_PATH, RICH_UNIT_DIR, RICH_UNIT_NAME, applyRich, environmentFile, fallbackProfile, inittab,
  normalizeRichConfig, profileScript, richModeOf, richStopSignal, systemdUnit, type RichSetup,
} from '../../runtime/spec/rich.ts';
import { readFileInRoot, resolveInRoot } from '../../runtime/spec/rootfs-file.ts';
import type { OciSpec } from '../../runtime/types.ts';
import { AttachPipe } from './attach.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerConfig } from './types.ts';

/** How long an init script may run before the start fails. */
export const INIT_SCRIPT_TIMEOUT_MS = 120_000;
/** How much of its output goes into the error. */
const INIT_SCRIPT_OUTPUT_MAX = 8192;

type InitKind = 'busybox' | 'systemd' | 'other' | 'missing';

async function hostPathIn(rootfs: string, path: string): Promise<string> {
  return resolveInRoot(await realpath(rootfs), path);
}

/** What the image's /sbin/init is, by the file its links lead to. */
export async function sbinInitKind(rootfs: string): Promise<InitKind> {
  const host = await hostPathIn(rootfs, '/sbin/init');
  const st = await stat(host).catch(() => undefined);
  if (!st?.isFile()) return 'missing';
  const name = basename(host);
  return name === 'busybox' ? 'busybox' : name === 'systemd' ? 'systemd' : 'other';
}

async function isExecutable(rootfs: string, path: string): Promise<boolean> {
  const st = await stat(await hostPathIn(rootfs, path)).catch(() => undefined);
  return !!st && st.isFile() && (st.mode & 0o111) !== 0;
}

/** arg 0 as an absolute path in the container, looked up in the container's
 * PATH as execvp would (init systems do not search the container's PATH). */
export async function resolveCommand(rootfs: string, arg0: string, env: string[], cwd: string): Promise<string> {
  if (arg0.includes('/')) return posix.isAbsolute(arg0) ? arg0 : posix.join(cwd || '/', arg0);
  const path = env.find((e) => e.startsWith('PATH='))?.slice(5) || DEFAULT_PATH;
  for (const dir of path.split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = posix.join(dir, arg0);
    if (await isExecutable(rootfs, candidate)) return candidate;
  }
  throw invalid(`exec: "${arg0}": executable file not found in $PATH`);
}

/** At create: checks and fills Rich/RichMode/InitScript and, unless the user
 * or the image chose one, the stop signal the init system wants. */
export async function applyRichDefaults(config: ContainerConfig, rootfs: string): Promise<void> {
  normalizeRichConfig(config);
  const mode = richModeOf(config);
  // systemd writes to /dev/console (never to its stdout): only a terminal gives the log one.
  if (mode === 'systemd') config.Tty = true;
  if (!mode || config.StopSignal) return;
  const sig = richStopSignal(mode, mode === 'sbin-init' ? await sbinInitKind(rootfs) : 'other');
  if (sig) config.StopSignal = sig;
}

/** The systemd binary: /sbin/init when it is systemd, else its usual homes. */
async function systemdPath(rootfs: string): Promise<string> {
  if ((await sbinInitKind(rootfs)) === 'systemd') return '/sbin/init';
  for (const p of ['/lib/systemd/systemd', '/usr/lib/systemd/systemd']) if (await isExecutable(rootfs, p)) return p;
  throw failedPrecondition('rich mode systemd: the image has no systemd (/sbin/init, /lib/systemd/systemd or /usr/lib/systemd/systemd)');
}

/** Writes a container's generated files and makes its spec a rich one (no-op
 * for a container that is not rich). */
export async function prepareRich(cx: ContainerContext, c: ContainerRecord, spec: OciSpec): Promise<void> {
  const mode = richModeOf(c.config);
  if (!mode) return;
  const rootfs = cx.paths(c.id).rootfs;
  const dir = join(cx.paths(c.id).dir, 'rich');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const proc = spec.process!;
  const setup: RichSetup = { mode, binds: [] };
  const file = async (name: string, content: string, destination: string, readonly = true): Promise<void> => {
    const source = join(dir, name);
    await writeFile(source, content, { mode: 0o644 });
    setup.binds.push({ source, destination, readonly });
  };

  // The environment, for login shells and PAM sessions.
  await file('joey-env.sh', profileScript(proc.env), PROFILE_SCRIPT_PATH);
  if ((await readRootFile(rootfs, '/etc/profile')) === undefined) await file('profile', fallbackProfile(), '/etc/profile');
  await file('environment', environmentFile(proc.env, (await readRootFile(rootfs, '/etc/environment')) ?? ''), '/etc/environment');

  if (mode === 'dumb-init') {
    if (!cx.deps.initPath) throw failedPrecondition('rich mode dumb-init needs a static init on the host: install catatonit or tini');
    setup.initPath = cx.deps.initPath;
  } else if (mode === 'sbin-init') {
    const kind = await sbinInitKind(rootfs);
    if (kind === 'missing') throw failedPrecondition('rich mode sbin-init: the image has no /sbin/init');
    setup.initArgs = ['/sbin/init'];
    if (kind === 'busybox') {
      const args = [await resolveCommand(rootfs, proc.args[0]!, proc.env, proc.cwd), ...proc.args.slice(1)];
      await file('inittab', inittab(args), '/etc/inittab');
    }
  } else {
    setup.initArgs = [await systemdPath(rootfs)];
    const args = [await resolveCommand(rootfs, proc.args[0]!, proc.env, proc.cwd), ...proc.args.slice(1)];
    const units = join(dir, 'systemd');
    await mkdir(join(units, 'multi-user.target.wants'), { recursive: true, mode: 0o755 });
    await writeFile(join(units, RICH_UNIT_NAME), systemdUnit({ args, env: proc.env, cwd: proc.cwd, user: c.config.User }), { mode: 0o644 });
    await symlink(`../${RICH_UNIT_NAME}`, join(units, 'multi-user.target.wants', RICH_UNIT_NAME));
    // systemd's runtime unit directory: writable, as systemctl --runtime expects.
    setup.binds.push({ source: units, destination: RICH_UNIT_DIR, readonly: false });
  }
  applyRich(spec, setup);
}

async function readRootFile(rootfs: string, path: string): Promise<string | undefined> {
  try {
    return await readFileInRoot(rootfs, path, 1 << 20);
  } catch {
    return undefined; // not a regular file: treated as absent
  }
}

/** Runs the init script in the created container (before its PID 1 runs);
 * a failure fails the start with the script's output. */
export async function runInitScript(cx: ContainerContext, c: ContainerRecord, spec: OciSpec): Promise<void> {
  const script = c.config.Rich ? c.config.InitScript : undefined;
  if (!script) return;
  const dir = join(cx.paths(c.id).bundle, 'execs', 'initscript');
  const pipe = new AttachPipe({ stdout: true, stderr: true, stdin: false }, false);
  const chunks: Buffer[] = [];
  let size = 0;
  const collected = (async () => {
    for await (const p of pipe.output) {
      if (size < INIT_SCRIPT_OUTPUT_MAX) chunks.push(p.data);
      size += p.data.length;
    }
  })().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    let session;
    try {
      session = await cx.runtimeOf(c).exec(c.id, {
        process: { ...spec.process!, args: [script], terminal: false, consoleSize: undefined },
        tty: false,
        stdin: false,
        dir,
        detach: false,
        beforeStart: (socket) => pipe.connect(socket),
      });
    } catch (e) {
      throw failedPrecondition(`init script ${script} could not run: ${messageOf(e)}`, e);
    }
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), INIT_SCRIPT_TIMEOUT_MS);
    });
    const code = await Promise.race([session.exited, timedOut]);
    if (code === 'timeout') throw deadlineExceeded(`init script ${script} did not finish within ${INIT_SCRIPT_TIMEOUT_MS / 1000}s`);
    // The output ends with the process; wait for the last of it, briefly.
    await Promise.race([collected, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (code !== 0) {
      const out = Buffer.concat(chunks).toString('utf8').slice(0, INIT_SCRIPT_OUTPUT_MAX).trim();
      throw failedPrecondition(`init script ${script} failed with exit code ${code}${out ? `: ${out}` : ' (no output)'}`);
    }
  } finally {
    if (timer) clearTimeout(timer);
    pipe.close();
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
