// docker start: mount, build the spec, hand the bundle to the runtime, start.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { conflict, forbidden, internal, invalid, messageOf } from '../../errdefs/index.ts';
import { processStartTime } from '../../sys/proc.ts';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import type { ContainerRecord } from './record.ts';
import { mountRootfs, unmountRootfs } from './rootfs.ts';
import { buildContainerSpec } from './spec.ts';
import { runInitScript } from './rich.ts';
import { ZERO_TIME, logPathOf } from './record.ts';
import { rotationPolicy } from './logrotate.ts';
import { initialHealth } from './health.ts';
import { writeNetworkFiles } from './files.ts';
import { resolveLinks, updateLinkers } from './link-setup.ts';
import type { KeptAddresses } from '../networks/index.ts';

/** Docker's exit codes for a start that failed before the process ran. */
export function startFailure(message: string): { code: number; error: Error } {
  // A hook's own output may say anything ("not found"…): it is the hook that failed.
  if (/error running (\w+ )?hook/i.test(message)) return { code: 128, error: internal(message) };
  if (/executable file not found|no such file or directory|not found/i.test(message)) return { code: 127, error: invalid(message) };
  if (/permission denied/i.test(message)) return { code: 126, error: forbidden(message) };
  return { code: 128, error: internal(message) };
}

export async function startContainer(cx: ContainerContext, idOrName: string, hooks: { remove?: (id: string) => Promise<void> } = {}): Promise<boolean> {
  const found = findContainer(cx, idOrName);
  try {
    return await cx.lock(found.id, async () => {
      const c = cx.store.get(found.id);
      if (!c) throw conflict(`container ${idOrName} was removed`);
      if (c.state.Paused) throw conflict(`cannot start a paused container, try unpause instead`);
      if (c.state.Running) return false;
      if (c.state.Status === 'removing') throw conflict(`container ${c.name} is marked for removal and cannot be started`);
      if (cx.upgrading.has(c.id)) throw conflict(`container ${c.name} is being upgraded: it starts again when the upgrade ends`);
      await startLocked(cx, c);
      return true;
    });
  } catch (e) {
    // As dockerd: a --rm container that failed to start goes away (the
    // client is waiting for its removal).
    if (found.hostConfig.AutoRemove && hooks.remove) await hooks.remove(found.id).catch(() => undefined);
    throw e;
  }
}

/** Starts a container that is not running; the caller holds its lock.
 * `addresses`: the IP, MAC and host ports to ask for again (an upgrade). */
export async function startLocked(cx: ContainerContext, c: ContainerRecord, opts: { addresses?: KeptAddresses } = {}): Promise<void> {
  const rt = cx.runtimeOf(c);
  const paths = cx.paths(c.id);
  const previouslyStarted = c.state.StartedAt !== ZERO_TIME;
  c.manuallyStopped = false;
  const t = cx.restartTimers.get(c.id);
  if (t) {
    clearTimeout(t);
    cx.restartTimers.delete(c.id);
  }
  await rm(join(paths.exitDir, c.id), { force: true });
  await rm(paths.persistDir, { recursive: true, force: true });
  await mkdir(paths.persistDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.exitDir, { recursive: true, mode: 0o700 });
  try {
    await mountRootfs(cx, c.id);
    // Volumes with driver options get mounted here; unmountRootfs lets them go.
    const mounts = await cx.deps.volumes.acquire(c.id, cx.deps.volumes.mountsOf(c.id));
    const net = await cx.deps.networks?.attach(c, opts.addresses);
    // Legacy links (default bridge only): hosts lines and variables.
    const links = net ? resolveLinks(cx, c) : undefined;
    if (net) await writeNetworkFiles(paths, c.config.Hostname || c.id.slice(0, 12), c.hostConfig, { ...net, links: links?.hosts });
    if (c.hostConfig.EnableLxcfs) await cx.deps.lxcfs?.ensure();
    const { spec } = await buildContainerSpec(cx, c, { mounts, netnsPath: net?.netnsPath, linkEnv: links?.env });
    const logPath = logPathOf(c, paths);
    if (logPath !== paths.logPath) await mkdir(dirname(logPath), { recursive: true, mode: 0o755 });
    const created = await rt.create({
      id: c.id,
      name: c.name,
      spec,
      paths: { bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, logPath },
      stdin: !!c.config.OpenStdin,
      leaveStdinOpen: !c.config.StdinOnce,
      tty: !!c.config.Tty,
      logSizeMax: logSizeMax(c),
    });
    c.monitorPid = created.monitorPid;
    c.monitorStart = (await processStartTime(created.monitorPid).catch(() => undefined)) ?? null;
    c.state = {
      ...c.state,
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: created.pid,
      ExitCode: 0,
      Error: '',
      StartedAt: new Date().toISOString(),
      FinishedAt: c.state.FinishedAt || ZERO_TIME,
      Health: initialHealth(c.config, c.state.Health),
    };
    // Saved before `runc start`: should joeyd die right now, start-up finds a
    // monitor to re-attach to instead of a container it never heard of.
    cx.store.save(c);
    await runInitScript(cx, c, spec);
    await cx.runBeforeStart(c.id, join(paths.bundle, 'attach'));
    await rt.start(c.id);
  } catch (e) {
    const msg = messageOf(e);
    await rt.delete(c.id, { force: true }).catch(() => undefined);
    await unmountRootfs(cx, c.id).catch(() => undefined);
    await cx.deps.networks?.detach(c).catch(() => undefined);
    const { code, error } = startFailure(msg);
    c.state = { ...c.state, Status: previouslyStarted ? 'exited' : 'created', StartedAt: previouslyStarted ? c.state.StartedAt : ZERO_TIME, Running: false, Pid: 0, ExitCode: code, Error: msg, FinishedAt: new Date().toISOString() };
    c.monitorPid = null;
    cx.store.save(c);
    cx.deps.events.publish({ Type: 'container', Action: 'die', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef, exitCode: String(code), error: msg } }, status: 'die', id: c.id, from: c.imageRef });
    cx.notifyExit(c.id, code);
    throw error;
  }
  // Containers linking to this one (default bridge) get its new address,
  // once it runs: a start that failed has given its address back.
  await updateLinkers(cx, c);
  cx.deps.events.publish({ Type: 'container', Action: 'start', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef, ...(c.config.Labels ?? {}) } }, status: 'start', id: c.id, from: c.imageRef });
  cx.health?.track(c.id);
}

/** With max-file=1 conmon itself truncates at max-size, as json-file does.
 * With more files joeyd rotates (logrotate.ts) and conmon must not: its byte
 * counter survives reopens, so its truncation would drop the live file. */
function logSizeMax(c: ContainerRecord): number | undefined {
  const p = rotationPolicy(c);
  return p && p.maxFiles === 1 ? p.maxSize : undefined;
}
