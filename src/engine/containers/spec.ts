// Glue between a container record and the OCI spec builder.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSpec } from '../../runtime/spec/index.ts';
import type { OciSpec } from '../../runtime/types.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';

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

export async function buildContainerSpec(cx: ContainerContext, c: ContainerRecord): Promise<{ spec: OciSpec; warnings: string[] }> {
  const paths = cx.paths(c.id);
  return buildSpec({
    id: c.id,
    rootfs: paths.rootfs,
    image: {},
    config: c.config,
    hostConfig: c.hostConfig,
    hostname: c.config.Hostname || c.id.slice(0, 12),
    files: { hosts: paths.hostsPath, hostname: paths.hostnamePath, resolvConf: paths.resolvConfPath },
    cgroupsPath: cgroupsPathOf(cx, c),
    initPath: cx.deps.initPath,
    seccompProfile: await seccompProfile(cx.deps.seccompProfilePath),
    hostLimits: { nofileHard: nofileHard() },
  });
}
