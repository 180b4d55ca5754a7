// docker exec: a process beside the container's, through the runtime's exec,
// with the container's identity (user resolved in its rootfs, its env, caps).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalid, messageOf, notFound, unavailable } from '../../errdefs/index.ts';
import { DEFAULT_PATH, capabilitySets, detectHost, resolveCapabilities, resolveUser } from '../../runtime/spec/index.ts';
import type { OciProcess } from '../../runtime/types.ts';
import { log } from '../../util/log.ts';
import { AttachPipe } from './attach.ts';
import type { ContainerContext, ExecRecord } from './context.ts';
import { mergeEnv } from './create.ts';
import { resolveLinks } from './link-setup.ts';
import { underLinkEnv } from './links.ts';
import { findContainer } from './lookup.ts';
import { startFailure } from './start.ts';
import type { AttachSession, ExecConfig, ExecInspect } from './types.ts';

export async function execCreate(cx: ContainerContext, idOrName: string, cfg: ExecConfig): Promise<{ Id: string }> {
  const c = findContainer(cx, idOrName);
  if (!c.state.Running) throw conflict(`Container ${c.id} is not running`);
  if (c.state.Paused) throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
  if (!Array.isArray(cfg.Cmd) || cfg.Cmd.length === 0) throw invalid('No exec command specified');
  const id = randomBytes(32).toString('hex');
  cx.execs.set(id, { id, containerId: c.id, config: cfg, running: false, exitCode: null, pid: 0 });
  cx.deps.events.publish({ Type: 'container', Action: `exec_create: ${cfg.Cmd.join(' ')}`, Actor: { ID: c.id, Attributes: { name: c.name, execID: id } }, status: `exec_create: ${cfg.Cmd.join(' ')}`, id: c.id });
  return { Id: id };
}

function execRecord(cx: ContainerContext, execId: string): ExecRecord {
  const ex = cx.execs.get(execId);
  if (!ex) throw notFound(`No such exec instance: ${execId}`);
  return ex;
}

/** How long a finished exec stays inspectable. */
const FINISHED_EXEC_TTL_MS = 5 * 60_000;

export async function execStart(cx: ContainerContext, execId: string, opts: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }): Promise<AttachSession | undefined> {
  const ex = execRecord(cx, execId);
  if (ex.running || ex.exitCode !== null) throw conflict(`Exec command ${execId} has already run`);
  const c = cx.store.get(ex.containerId);
  if (!c || !c.state.Running) throw conflict(`Container ${ex.containerId} is not running`);
  const cfg = ex.config;
  const tty = opts.Tty ?? cfg.Tty ?? false;
  const paths = cx.paths(c.id);
  const user = await resolveUser(paths.rootfs, cfg.User || c.config.User || '', c.hostConfig.GroupAdd ?? []);
  const host = detectHost();
  const caps = resolveCapabilities({ capAdd: c.hostConfig.CapAdd, capDrop: c.hostConfig.CapDrop, privileged: !!(c.hostConfig.Privileged || cfg.Privileged), capLastCap: host.capLastCap, bounding: host.capBounding });
  // dockerd gives an exec the variables of the container's links too (but
  // fails it when a linked container is down: joey leaves those out).
  const own = underLinkEnv(resolveLinks(cx, c, { lenient: true }).env, c.config.Env);
  const env = mergeEnv(mergeEnv(own, tty ? ['TERM=xterm'] : []), cfg.Env ?? []);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH}`);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
  const process: OciProcess = {
    terminal: tty,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    args: cfg.Cmd,
    env,
    cwd: cfg.WorkingDir || c.config.WorkingDir || '/',
    capabilities: capabilitySets(caps, user.uid),
    ...(c.hostConfig.SecurityOpt?.some((o) => /^no-new-privileges(=true)?$/.test(o)) ? { noNewPrivileges: true } : {}),
    ...(tty && opts.ConsoleSize && opts.ConsoleSize[0] > 0 ? { consoleSize: { height: opts.ConsoleSize[0], width: opts.ConsoleSize[1] } } : {}),
  };
  const detach = !!opts.Detach;
  const execDir = join(paths.bundle, 'execs', execId.slice(0, 12));
  const pipe = detach ? undefined : new AttachPipe({ stdout: cfg.AttachStdout ?? true, stderr: cfg.AttachStderr ?? true, stdin: !!cfg.AttachStdin }, tty);
  ex.running = true;
  let session;
  try {
    session = await cx.runtimeOf(c).exec(c.id, {
      process,
      tty,
      stdin: !!cfg.AttachStdin,
      dir: execDir,
      detach,
      ...(pipe ? { beforeStart: (socket: string) => pipe.connect(socket) } : {}),
    });
  } catch (e) {
    // As dockerd: 127 for a command that is not there, 126 for one that
    // cannot run. The exec then shows as exited with that code.
    ex.running = false;
    ex.exitCode = startFailure(messageOf(e)).code === 127 ? 127 : 126;
    void rm(execDir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  ex.pid = session.pid;
  ex.resize = session.resize;
  ex.kill = session.kill;
  cx.deps.events.publish({ Type: 'container', Action: `exec_start: ${cfg.Cmd.join(' ')}`, Actor: { ID: c.id, Attributes: { name: c.name, execID: execId } }, status: `exec_start: ${cfg.Cmd.join(' ')}`, id: c.id });
  const finished = session.exited.then(
    (code) => code,
    (e) => {
      log.warn('exec exit unknown', { exec: execId, err: e });
      return 126;
    },
  );
  const settled = finished.then((code) => {
    ex.running = false;
    ex.exitCode = code;
    ex.pid = 0;
    ex.kill = undefined;
    cx.deps.events.publish({ Type: 'container', Action: 'exec_die', Actor: { ID: c.id, Attributes: { name: c.name, execID: execId, exitCode: String(code) } }, status: 'exec_die', id: c.id });
    // conmon is gone: its directory can go now; the record stays for inspect
    // a while, as dockerd keeps finished execs, then goes too.
    void rm(execDir, { recursive: true, force: true }).catch(() => undefined);
    setTimeout(() => cx.execs.delete(execId), FINISHED_EXEC_TTL_MS).unref();
  });
  ex.ended = settled;
  if (!pipe) return undefined;
  // The output ends when the process does; the exit code is recorded before
  // the stream ends, so that the client's inspect right after sees it.
  const out = pipe.output;
  const wrapped = {
    async *[Symbol.asyncIterator]() {
      for await (const p of out) yield p;
      await settled;
    },
  };
  const s = pipe.session(() => undefined);
  return { ...s, output: wrapped };
}

export async function execInspect(cx: ContainerContext, execId: string): Promise<ExecInspect> {
  const ex = execRecord(cx, execId);
  const cfg = ex.config;
  return {
    ID: ex.id,
    Running: ex.running,
    ExitCode: ex.exitCode,
    ProcessConfig: { tty: !!cfg.Tty, entrypoint: cfg.Cmd[0] ?? '', arguments: cfg.Cmd.slice(1), privileged: !!cfg.Privileged, user: cfg.User ?? '' },
    OpenStdin: !!cfg.AttachStdin,
    OpenStderr: cfg.AttachStderr ?? true,
    OpenStdout: cfg.AttachStdout ?? true,
    CanRemove: !ex.running,
    ContainerID: ex.containerId,
    DetachKeys: cfg.DetachKeys ?? '',
    Pid: ex.pid,
  };
}

export async function execResize(cx: ContainerContext, execId: string, height: number, width: number): Promise<void> {
  const ex = execRecord(cx, execId);
  if (!ex.running) throw conflict(`Exec ${execId} is not running`);
  await ex.resize?.(height, width);
}

/** How long a killed exec may take to be reported gone. */
const KILLED_EXEC_GRACE_MS = 10_000;

/** Kills a running exec: its process and what that started (SIGKILL), found
 * by the pid the runtime recorded. Resolves once its exit is recorded;
 * nothing to do for one that has ended. */
export async function execKill(cx: ContainerContext, execId: string): Promise<void> {
  const ex = execRecord(cx, execId);
  if (!ex.running || !ex.kill) return;
  const ended = ex.ended;
  await ex.kill();
  if (!ended) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), KILLED_EXEC_GRACE_MS)));
  const tooLate = await Promise.race([ended.then(() => false), late]);
  clearTimeout(timer);
  if (tooLate) throw unavailable(`exec ${execId} was killed but has not ended after ${KILLED_EXEC_GRACE_MS / 1000}s`);
}
