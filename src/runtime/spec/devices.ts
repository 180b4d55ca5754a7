// Device nodes and the device cgroup: Docker's default allow list, --device,
// --device-cgroup-rule, and --privileged (every host device, all allowed).
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import type { DeviceMapping, HostConfig } from '../../engine/containers/types.ts';
import { deviceFromStat } from './host.ts';
import type { OciDevice, OciDeviceRule } from './types.ts';

const allowC = (major: number | undefined, minor: number | undefined): OciDeviceRule => ({
  allow: true,
  type: 'c',
  ...(major === undefined ? {} : { major }),
  ...(minor === undefined ? {} : { minor }),
  access: 'rwm',
});

/** Deny everything, then allow the nodes every container has. The nodes
 * themselves (null, zero, …, ptmx) are created by the runtime. */
export const DEFAULT_DEVICE_RULES: OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  allowC(1, 3), // null
  allowC(1, 5), // zero
  allowC(1, 7), // full
  allowC(1, 8), // random
  allowC(1, 9), // urandom
  allowC(5, 0), // tty
  allowC(5, 1), // console
  allowC(5, 2), // ptmx
  allowC(136, undefined), // pts/*
];

const RULE_RE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** "c 1:3 mr", "b 7:* rwm", "a *:* rwm" → an OCI device cgroup rule. */
export function parseDeviceCgroupRule(rule: string): OciDeviceRule {
  const m = RULE_RE.exec(rule.trim());
  if (!m || new Set(m[4]).size !== m[4]!.length) {
    throw invalid(`invalid device cgroup rule ${JSON.stringify(rule)}: expected "TYPE MAJOR:MINOR ACCESS", e.g. "c 1:3 rwm" (type a, b or c; * for any number; access from r, w, m)`);
  }
  return {
    allow: true,
    type: m[1] as 'a' | 'c' | 'b',
    ...(m[2] === '*' ? {} : { major: Number(m[2]) }),
    ...(m[3] === '*' ? {} : { minor: Number(m[3]) }),
    access: m[4]!,
  };
}

function checkPermissions(perms: string, path: string): string {
  if (!/^[rwm]{1,3}$/.test(perms) || new Set(perms).size !== perms.length) {
    throw invalid(`invalid device permissions ${JSON.stringify(perms)} for ${path}: use a combination of r, w and m`);
  }
  return perms;
}

/** The nodes and rules of one --device. A directory adds every device below it. */
export async function customDevice(m: DeviceMapping): Promise<{ devices: OciDevice[]; rules: OciDeviceRule[] }> {
  const onHost = m.PathOnHost;
  if (!onHost || !onHost.startsWith('/')) throw invalid(`invalid device ${JSON.stringify(onHost ?? '')}: PathOnHost must be an absolute path`);
  const inContainer = m.PathInContainer || onHost;
  if (!inContainer.startsWith('/')) throw invalid(`invalid device ${onHost}: PathInContainer ${JSON.stringify(inContainer)} must be an absolute path`);
  const access = checkPermissions(m.CgroupPermissions || 'rwm', onHost);
  const devices: OciDevice[] = [];

  const add = async (host: string, ctr: string, top: boolean): Promise<void> => {
    let st;
    try {
      // The named path may be a link (/dev/disk/by-id/…), as Docker allows;
      // links inside a named directory are not followed (no loops).
      st = top ? await stat(host, { bigint: true }) : await lstat(host, { bigint: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw invalid(`error gathering device information while adding custom device ${JSON.stringify(onHost)}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (st.isDirectory()) {
      for (const name of (await readdir(host)).sort()) await add(join(host, name), posix.join(ctr, name), false);
      return;
    }
    const d = deviceFromStat(ctr, st);
    if (d) devices.push(d);
    else if (top) throw invalid(`error gathering device information while adding custom device ${JSON.stringify(onHost)}: not a device node`);
  };
  await add(onHost, posix.normalize(inContainer), true);
  const rules = devices.map((d): OciDeviceRule => ({ allow: true, type: d.type as 'c' | 'b', major: d.major, minor: d.minor, access }));
  return { devices, rules };
}

/** linux.devices and linux.resources.devices for a container. */
export async function buildDevices(hc: HostConfig, hostDevices: () => OciDevice[]): Promise<{ devices: OciDevice[]; rules: OciDeviceRule[] }> {
  const devices: OciDevice[] = hc.Privileged ? hostDevices() : [];
  const rules: OciDeviceRule[] = hc.Privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  for (const m of hc.Devices ?? []) {
    const c = await customDevice(m);
    for (const d of c.devices) {
      const i = devices.findIndex((x) => x.path === d.path);
      if (i >= 0) devices[i] = d;
      else devices.push(d);
    }
    if (!hc.Privileged) rules.push(...c.rules);
  }
  for (const r of hc.DeviceCgroupRules ?? []) {
    const rule = parseDeviceCgroupRule(r);
    if (!hc.Privileged) rules.push(rule);
  }
  return { devices, rules };
}
