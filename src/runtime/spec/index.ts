// The OCI spec builder: Docker's create body + image config → config.json for
// runc, one concern per step. What each step allows, refuses and warns about
// follows dockerd (moby's oci defaults and daemon/oci_linux.go).
import { invalid } from '../../errdefs/index.ts';
import type { OciProcess, OciSpec } from '../types.ts';
import { buildAnnotations } from './annotations.ts';
import { rootfsPropagationOf } from './binds.ts';
import { capabilitySets, resolveCapabilities } from './capabilities.ts';
import { buildDevices } from './devices.ts';
import { detectHost } from './host.ts';
import { buildMounts } from './mounts.ts';
import { buildNamespaces } from './namespaces.ts';
import { resolveArgs, resolveCwd, resolveEnv, withInit } from './process.ts';
import { buildResources } from './resources.ts';
import { buildRlimits } from './rlimits.ts';
import { parseSecurityOpts, seccompFor, systemPaths } from './security.ts';
import { buildSysctls } from './sysctls.ts';
import type { BuiltSpec, SpecInput } from './types.ts';
import { resolveUser } from './user.ts';

export type { BuiltSpec, HostFacts, HostLimits, OciDevice, OciDeviceRule, OciMount, ResolvedUser, SpecInput } from './types.ts';
export { resolveUser } from './user.ts';
export { resourcesFromHostConfig } from './resources.ts';
export { ociMountOf, ociMountsOf, rootfsPropagationOf, type MountLike } from './binds.ts';
export { capabilitySets, resolveCapabilities, DEFAULT_CAPABILITIES } from './capabilities.ts';
export { detectHost, readHostLimits } from './host.ts';
export { toOciJson } from './json.ts';
export { RLIM_INFINITY } from './rlimits.ts';
export { INIT_PATH_IN_CONTAINER, DEFAULT_PATH } from './process.ts';
export { HOOK_STAGES, checkHookPaths, checkHooks, mergeHooks, type HookStage, type OciHook, type OciHooks } from './hooks.ts';
export { hookMatches, hooksFor, loadHookDirs, parseHookFile, subjectOf, type HookFile } from './hooks-dir.ts';

export const OCI_VERSION = '1.0.2';

function oomScoreAdj(value: number | undefined, warnings: string[]): number | undefined {
  if (value === undefined || value === 0) return undefined;
  if (!Number.isInteger(value) || value < -1000 || value > 1000) throw invalid(`Invalid value ${value}, range for oom score adj is [-1000, 1000]`);
  if (value < 0) {
    // Lowering it needs CAP_SYS_RESOURCE, which joeyd may lack; a start must not fail over it.
    warnings.push(`OomScoreAdj ${value} was not applied: joey does not lower oom_score_adj (it needs CAP_SYS_RESOURCE); the container keeps the daemon's value`);
    return undefined;
  }
  return value;
}

/** Builds config.json for one container. Throws `invalid` JoeyErrors naming
 * the bad setting; returns the spec and Docker-style warnings. */
export async function buildSpec(input: SpecInput): Promise<BuiltSpec> {
  const host = { ...detectHost(), ...input.host };
  const hc = input.hostConfig ?? {};
  const config = input.config ?? {};
  const image = input.image ?? {};
  const warnings: string[] = [];

  const plan = buildNamespaces({
    hostConfig: hc,
    config,
    cgroupV2: host.cgroupV2,
    netnsPath: input.netnsPath,
    pidnsPath: input.pidnsPath,
    ipcnsPath: input.ipcnsPath,
    utsnsPath: input.utsnsPath,
    shmPath: input.shmPath,
  });
  // Host UTS shows the host's name; so does host networking unless the user named one (dockerd fills it at create).
  const hostname = plan.hostUts || (plan.hostNetwork && !config.Hostname) ? host.hostname : input.hostname;

  const sec = await parseSecurityOpts(hc.SecurityOpt);
  const caps = resolveCapabilities({ capAdd: hc.CapAdd, capDrop: hc.CapDrop, privileged: hc.Privileged, capLastCap: host.capLastCap, bounding: host.capBounding });
  const user = await resolveUser(input.rootfs, config.User || image.User || '', hc.GroupAdd);
  const rlimits = buildRlimits(hc.Ulimits, input.hostLimits);
  const oomAdj = oomScoreAdj(hc.OomScoreAdj, warnings);

  const process: OciProcess = {
    terminal: !!config.Tty,
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
    args: withInit(resolveArgs(image, config), hc.Init, input.initPath),
    env: resolveEnv(image, config, hostname),
    cwd: resolveCwd(image, config),
    capabilities: capabilitySets(caps, user.uid),
  };
  const [h, w] = hc.ConsoleSize ?? [0, 0];
  if (config.Tty && h > 0 && w > 0) process.consoleSize = { height: h, width: w };
  if (rlimits.length) process.rlimits = rlimits;
  if (sec.noNewPrivileges) process.noNewPrivileges = true;
  if (oomAdj !== undefined) process.oomScoreAdj = oomAdj;

  const devices = await buildDevices(hc, host.hostDevices);
  const res = buildResources(hc, host);
  warnings.push(...res.warnings);
  const paths = systemPaths(hc, sec);
  const seccomp = seccompFor(hc, sec, input.seccompProfile, caps, host);
  const sysctl = buildSysctls(hc.Sysctls, { hostNetwork: plan.hostNetwork, sharedNetwork: plan.sharedNetwork, hostIpc: plan.hostIpc });

  const linux: Record<string, unknown> = {
    namespaces: plan.namespaces,
    devices: devices.devices,
    resources: { ...res.resources, devices: devices.rules },
    cgroupsPath: input.cgroupsPath,
  };
  if (Object.keys(sysctl).length) linux.sysctl = sysctl;
  if (paths.maskedPaths.length) linux.maskedPaths = paths.maskedPaths;
  if (paths.readonlyPaths.length) linux.readonlyPaths = paths.readonlyPaths;
  if (seccomp) linux.seccomp = seccomp;

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process,
    root: { path: input.rootfs, readonly: !!hc.ReadonlyRootfs },
    mounts: buildMounts({ hostConfig: hc, plan, files: input.files ?? {}, initPath: input.initPath, extraMounts: input.extraMounts, writableCgroups: sec.writableCgroups }),
    annotations: buildAnnotations({ id: input.id, name: input.name, imageRef: input.imageRef, image, config, hostConfig: hc }),
    linux,
  };
  const propagation = rootfsPropagationOf(spec.mounts ?? []);
  if (propagation) linux.rootfsPropagation = propagation;
  if (!plan.hostUts && !plan.sharedUts) {
    spec.hostname = hostname;
    if (config.Domainname) spec.domainname = config.Domainname;
  }
  return { spec, warnings };
}
