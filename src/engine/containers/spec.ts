// Glue between a container record and the OCI spec builder.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalid } from '../../errdefs/index.ts';
import { buildSpec, hooksFor, mergeHooks, ociMountsOf, subjectOf, type OciMount } from '../../runtime/spec/index.ts';
import { CFS_PERIOD } from '../../runtime/spec/resources.ts';
import type { OciResources, OciSpec } from '../../runtime/types.ts';
import type { HostConfig } from './types.ts';
import type { ContainerMount } from '../volumes/types.ts';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import { underLinkEnv } from './links.ts';
import { prepareRich } from './rich.ts';
import type { ContainerRecord } from './record.ts';
import { shmPathOf } from './rootfs.ts';
import { lxcfsNotEnabled } from '../lxcfs.ts';

let seccompCache: { path: string; profile: object } | undefined;

async function seccompProfile(path: string | undefined): Promise<object | undefined> {
  if (!path) return undefined;
  if (seccompCache?.path === path) return seccompCache.profile;
  try {
    const profile = JSON.parse(await readFile(path, 'utf8')) as object;
    seccompCache = { path, profile };
    return profile;
  } catch {
    return undefined;
  }
}

function nofileHard(): number {
  // The daemon's own hard limit: a container may not be given more.
  try {
    const lim = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return lim && lim[1] !== 'unlimited' ? Number(lim[1]) : 1 << 20;
  } catch {
    return 1 << 20;
  }
}

export function cgroupsPathOf(cx: ContainerContext, c: ContainerRecord): string {
  const parent = c.hostConfig.CgroupParent || cx.deps.cgroupParent;
  return join(parent.startsWith('/') ? parent : `/${parent}`, c.id);
}

type NsKind = 'net' | 'pid' | 'ipc' | 'uts';

/** The namespace files of the containers that "container:<name|id>" modes
 * name. At create a stopped peer is fine (Docker checks at start); at start
 * it must run. */
function peerNamespaces(cx: ContainerContext, c: ContainerRecord, creating: boolean): { netnsPath?: string; pidnsPath?: string; ipcnsPath?: string; utsnsPath?: string; shmPath?: string } {
  const hc = c.hostConfig;
  const out: { netnsPath?: string; pidnsPath?: string; ipcnsPath?: string; utsnsPath?: string; shmPath?: string } = {};
  if (hc.IpcMode === 'shareable') out.shmPath = shmPathOf(cx, c.id);
  const modes: Array<[string | undefined, NsKind, 'netnsPath' | 'pidnsPath' | 'ipcnsPath' | 'utsnsPath', string]> = [
    [hc.NetworkMode, 'net', 'netnsPath', 'network namespace'],
    [hc.PidMode, 'pid', 'pidnsPath', 'PID namespace'],
    [hc.IpcMode, 'ipc', 'ipcnsPath', 'IPC namespace'],
    [hc.UTSMode, 'uts', 'utsnsPath', 'UTS namespace'],
  ];
  for (const [mode, kind, key, what] of modes) {
    if (!mode?.startsWith('container:')) continue;
    const ref = mode.slice('container:'.length);
    if (!ref) continue; // the spec builder names the bad mode
    const peer = findContainer(cx, ref);
    if (peer.id === c.id) throw invalid(`cannot join the ${what} of the container itself (${mode})`);
    if (kind === 'ipc' && peer.hostConfig.IpcMode !== 'shareable' && peer.hostConfig.IpcMode !== 'host') {
      throw conflict(`cannot join the IPC namespace of container ${ref}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    if (kind === 'ipc' && peer.hostConfig.IpcMode === 'shareable') out.shmPath = shmPathOf(cx, peer.id);
    if (peer.state.Running && peer.state.Pid > 0 && !peer.state.Restarting) out[key] = `/proc/${peer.state.Pid}/ns/${kind}`;
    // Only checked here; the spec built at create is thrown away.
    else if (creating) out[key] = `/proc/self/ns/${kind}`;
  }
  return out;
}

/** An lxcfs container with a CPU quota and no cpuset of its own gets as
 * many CPUs as the quota is worth (engine/lxcfs-cpus.ts), so that nproc
 * agrees with its /proc/cpuinfo. `resources` is the OCI one, changed in place. */
export async function pinLxcfsCpus(cx: ContainerContext, c: ContainerRecord, hc: HostConfig, resources: OciResources | undefined): Promise<void> {
  if (!hc.EnableLxcfs || hc.CpusetCpus || !cx.deps.lxcfs || !resources) return;
  const cpu = resources['cpu'] as { quota?: number; period?: number; cpus?: string } | undefined;
  if (!cpu?.quota) return;
  const cpus = await cx.deps.lxcfs.cpusFor(c.id, cpu.quota, cpu.period ?? CFS_PERIOD);
  if (cpus !== undefined) cpu.cpus = cpus;
}

/** `linkEnv`: the variables of legacy links, under the container's own (as dockerd). */
export async function buildContainerSpec(cx: ContainerContext, c: ContainerRecord, opts: { creating?: boolean; mounts?: ContainerMount[]; netnsPath?: string; linkEnv?: string[] } = {}): Promise<{ spec: OciSpec; warnings: string[] }> {
  const paths = cx.paths(c.id);
  const mounts = opts.mounts ?? cx.deps.volumes.mountsOf(c.id);
  const extraMounts: OciMount[] = ociMountsOf(mounts);
  if (c.hostConfig.EnableLxcfs) {
    if (!cx.deps.lxcfs) throw lxcfsNotEnabled();
    extraMounts.push(...cx.deps.lxcfs.mounts());
  }
  const built = await buildSpec({
    ...(opts.netnsPath ? { netnsPath: opts.netnsPath } : {}),
    ...peerNamespaces(cx, c, !!opts.creating),
    extraMounts,
    id: c.id,
    rootfs: paths.rootfs,
    image: {},
    config: opts.linkEnv?.length ? { ...c.config, Env: underLinkEnv(opts.linkEnv, c.config.Env) } : c.config,
    hostConfig: c.hostConfig,
    hostname: c.config.Hostname || c.id.slice(0, 12),
    files: { hosts: paths.hostsPath, hostname: paths.hostnamePath, resolvConf: paths.resolvConfPath },
    cgroupsPath: cgroupsPathOf(cx, c),
    initPath: cx.deps.initPath,
    seccompProfile: await seccompProfile(cx.deps.seccompProfilePath),
    hostLimits: { nofileHard: nofileHard() },
  });
  if (!opts.creating) await pinLxcfsCpus(cx, c, c.hostConfig, built.spec.linux?.resources as OciResources | undefined);
  await prepareRich(cx, c, built.spec);
  // The daemon's hooks match the finished spec (annotations, args[0]); the
  // container's own come after them at each stage.
  const files = cx.deps.hookFiles?.() ?? [];
  const fromDirs = files.length ? hooksFor(files, subjectOf(built.spec, mounts.some((m) => m.Type === 'bind'))) : undefined;
  mergeHooks(built.spec, fromDirs, c.hostConfig.OciHooks);
  return built;
}
