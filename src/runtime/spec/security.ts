// --security-opt, and the /proc and /sys paths Docker hides or makes read-only.
import { readFile } from 'node:fs/promises';
import { invalid } from '../../errdefs/index.ts';
import type { HostConfig } from '../../engine/containers/types.ts';
import { convertSeccomp, type OciSeccomp } from './seccomp.ts';

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface SecurityOptions {
  /** 'default' = the daemon's profile; otherwise the profile given. */
  seccomp: 'default' | 'unconfined' | { profile: unknown; from: string };
  noNewPrivileges: boolean;
  /** systempaths=unconfined: no masked or read-only paths. */
  systemPathsUnconfined: boolean;
  /** writable-cgroups=true: /sys/fs/cgroup mounted rw. */
  writableCgroups: boolean;
}

// Go's strconv.ParseBool, which Docker uses for these values.
function parseBool(v: string, opt: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw invalid(`invalid --security-opt ${JSON.stringify(opt)}: ${JSON.stringify(v)} is not a boolean`);
}

async function loadSeccomp(value: string, opt: string): Promise<SecurityOptions['seccomp']> {
  if (value === 'unconfined') return 'unconfined';
  if (value === 'builtin' || value === 'default') return 'default';
  // The docker CLI reads the file itself and sends its content.
  if (value.trimStart().startsWith('{')) {
    try {
      return { profile: JSON.parse(value), from: 'the --security-opt value' };
    } catch (e) {
      throw invalid(`invalid --security-opt seccomp: the profile is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!value.startsWith('/')) {
    throw invalid(`invalid --security-opt ${JSON.stringify(opt)}: seccomp takes "unconfined", "builtin", an absolute path or a JSON profile`);
  }
  let text: string;
  try {
    text = await readFile(value, 'utf8');
  } catch (e) {
    throw invalid(`opening seccomp profile (${value}) failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return { profile: JSON.parse(text), from: value };
  } catch {
    // The file's content is not echoed: the path may be any host file.
    throw invalid(`seccomp profile ${value} is not valid JSON`);
  }
}

/** Parses HostConfig.SecurityOpt as dockerd does ("k=v", the deprecated
 * "k:v", and bare "no-new-privileges"). */
export async function parseSecurityOpts(opts: string[] | null | undefined): Promise<SecurityOptions> {
  const out: SecurityOptions = { seccomp: 'default', noNewPrivileges: false, systemPathsUnconfined: false, writableCgroups: false };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // SELinux label=disable, short form
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw invalid(`invalid --security-opt ${JSON.stringify(opt)}: expected key=value`);
    const i = opt.indexOf(sep);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    switch (key) {
      case 'seccomp':
        out.seccomp = await loadSeccomp(value, opt);
        break;
      case 'no-new-privileges':
        out.noNewPrivileges = parseBool(value, opt);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw invalid(`invalid --security-opt ${JSON.stringify(opt)}: systempaths only takes "unconfined"`);
        out.systemPathsUnconfined = true;
        break;
      case 'writable-cgroups':
        out.writableCgroups = parseBool(value, opt);
        break;
      // joey's hosts have neither AppArmor nor SELinux (see ENV.md), and dockerd
      // ignores these where the LSM is absent: accept them so scripts work.
      case 'apparmor':
      case 'label':
        break;
      default:
        throw invalid(`invalid --security-opt ${JSON.stringify(opt)}: unknown option ${JSON.stringify(key)}`);
    }
  }
  return out;
}

function checkPaths(paths: string[], field: string): string[] {
  for (const p of paths) {
    if (typeof p !== 'string' || !p.startsWith('/')) throw invalid(`${field}: ${JSON.stringify(p)} is not an absolute path`);
  }
  return [...paths];
}

/** linux.maskedPaths and linux.readonlyPaths: Docker's lists, replaced by
 * HostConfig's when given, none when privileged or systempaths=unconfined. */
export function systemPaths(hc: HostConfig, sec: SecurityOptions): { maskedPaths: string[]; readonlyPaths: string[] } {
  if (hc.Privileged || sec.systemPathsUnconfined) return { maskedPaths: [], readonlyPaths: [] };
  return {
    maskedPaths: hc.MaskedPaths ? checkPaths(hc.MaskedPaths, 'MaskedPaths') : [...DEFAULT_MASKED_PATHS],
    readonlyPaths: hc.ReadonlyPaths ? checkPaths(hc.ReadonlyPaths, 'ReadonlyPaths') : [...DEFAULT_READONLY_PATHS],
  };
}

/** linux.seccomp, or undefined for none (privileged, unconfined, or no default profile). */
export function seccompFor(
  hc: HostConfig,
  sec: SecurityOptions,
  defaultProfile: object | undefined,
  caps: string[],
  host: { arch: string; kernel: string; x32?: boolean },
): OciSeccomp | undefined {
  if (hc.Privileged || sec.seccomp === 'unconfined') return undefined;
  if (sec.seccomp === 'default') return defaultProfile ? convertSeccomp(defaultProfile, caps, host) : undefined;
  try {
    return convertSeccomp(sec.seccomp.profile, caps, host);
  } catch (e) {
    throw invalid(`seccomp profile from ${sec.seccomp.from}: ${(e as Error).message}`, e);
  }
}
