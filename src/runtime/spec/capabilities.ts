// Capabilities: Docker's default set, CapAdd/CapDrop (with "ALL"), and
// --privileged = every capability the daemon itself may hold (its bounding
// set, within what the running kernel knows): runc cannot grant more, and a
// root without CAP_SYS_RESOURCE is common in containers-in-VMs and CI.
import { invalid } from '../../errdefs/index.ts';

/** Capability names by number (linux/capability.h). */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Docker's default capabilities. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability the kernel knows (numbers 0..cap_last_cap that have a name). */
export function allCapabilities(capLastCap: number): string[] {
  return CAPABILITY_NAMES.slice(0, Math.max(0, Math.min(capLastCap, CAPABILITY_NAMES.length - 1)) + 1);
}

/** The names of the capabilities set in `mask` (a CapBnd-style bit mask), within the kernel's. */
export function capabilitiesInMask(mask: bigint, capLastCap: number): string[] {
  return allCapabilities(capLastCap).filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

/** "net_admin", "CAP_NET_ADMIN", "Net_Admin" → "CAP_NET_ADMIN"; "all" → "ALL". */
function normalize(name: string, known: readonly string[], flag: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!known.includes(cap)) {
    const why = (CAPABILITY_NAMES as readonly string[]).includes(cap) ? ' (not supported by this kernel)' : '';
    throw invalid(`invalid ${flag}: unknown capability: ${JSON.stringify(name)}${why}`);
  }
  return cap;
}

/** The capability set after CapAdd/CapDrop, as Docker computes it: add ALL =
 * everything but what is dropped; drop ALL = only what is added; otherwise the
 * defaults minus drops plus adds. Privileged ignores both lists. "Everything"
 * is `bounding` (the daemon's own bounding set; all the kernel knows when not
 * given); naming a capability outside it is an error rather than a runc
 * failure at start. */
export function resolveCapabilities(opts: { capAdd?: string[] | null; capDrop?: string[] | null; privileged?: boolean; capLastCap: number; bounding?: readonly string[] }): string[] {
  const known = allCapabilities(opts.capLastCap);
  const all = opts.bounding ? known.filter((c) => opts.bounding!.includes(c)) : known;
  if (opts.privileged) return all;
  const add = (opts.capAdd ?? []).map((c) => normalize(c, known, 'CapAdd'));
  const drop = (opts.capDrop ?? []).map((c) => normalize(c, known, 'CapDrop'));
  for (const c of add) {
    if (c !== 'ALL' && !all.includes(c)) throw invalid(`invalid CapAdd: ${c} is not in joeyd's own capability bounding set, so no container can be given it`);
  }
  let caps: string[];
  if (add.includes('ALL')) caps = all.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c) && all.includes(c)), ...add];
  return [...new Set(caps)];
}

/** OCI process.capabilities. Inheritable stays empty (CVE-2022-24769) and
 * ambient unset, as Docker. A non-root user gets only the bounding set, as
 * dockerd does, to match what execve gives a non-root process. */
export function capabilitySets(caps: string[], uid: number): { bounding: string[]; effective?: string[]; permitted?: string[] } {
  if (uid !== 0) return { bounding: [...caps] };
  return { bounding: [...caps], effective: [...caps], permitted: [...caps] };
}
