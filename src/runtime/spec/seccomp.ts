// Seccomp: turning a Docker/containers-common profile (archMap, includes and
// excludes on capabilities, arches and kernel versions) into the OCI
// linux.seccomp for this machine's architecture and the container's
// capabilities. A profile already in OCI form passes through unchanged.
import { invalid } from '../../errdefs/index.ts';

interface ProfileArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

interface ProfileFilter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string | null;
}

interface ProfileSyscall {
  name?: string;
  names?: string[] | null;
  action: string;
  errnoRet?: number;
  args?: ProfileArg[] | null;
  includes?: ProfileFilter | null;
  excludes?: ProfileFilter | null;
}

interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }> | null;
  syscalls?: ProfileSyscall[] | null;
  flags?: string[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: Array<{ names: string[]; action: string; errnoRet?: number; args?: ProfileArg[] }>;
}

// Node's process.arch → the Go name profiles use in includes.arches, and the
// libseccomp name used in archMap.
const ARCHES: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  ia32: { go: '386', scmp: 'SCMP_ARCH_X86' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  mips64el: { go: 'mips64le', scmp: 'SCMP_ARCH_MIPSEL64' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
  loong64: { go: 'loong64', scmp: 'SCMP_ARCH_LOONGARCH64' },
};

function kernelAtLeast(kernel: string, min: string): boolean {
  const want = /^(\d+)\.(\d+)/.exec(min);
  if (!want) throw invalid(`seccomp profile: invalid minKernel ${JSON.stringify(min)}: expected "major.minor"`);
  const have = /^(\d+)\.(\d+)/.exec(kernel);
  if (!have) return false;
  const [hM, hm, wM, wm] = [have[1], have[2], want[1], want[2]].map(Number) as [number, number, number, number];
  return hM > wM || (hM === wM && hm >= wm);
}

function checkProfile(p: unknown): Profile {
  const o = p as Profile | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw invalid('seccomp profile is not a JSON object');
  if (typeof o.defaultAction !== 'string' || o.defaultAction === '') throw invalid('seccomp profile has no defaultAction');
  if (o.syscalls != null && !Array.isArray(o.syscalls)) throw invalid('seccomp profile: syscalls is not a list');
  if (o.architectures?.length && o.archMap?.length) {
    throw invalid(`both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'`);
  }
  return o;
}

/** The OCI seccomp config of `profile` for a container with capabilities
 * `caps` (bounding set, CAP_ names) on this host. */
export function convertSeccomp(profile: unknown, caps: string[], host: { arch: string; kernel: string; x32?: boolean }): OciSeccomp {
  const p = checkProfile(profile);
  const arch = ARCHES[host.arch] ?? { go: host.arch, scmp: '' };
  const out: OciSeccomp = { defaultAction: p.defaultAction, syscalls: [] };
  if (typeof p.defaultErrnoRet === 'number') out.defaultErrnoRet = p.defaultErrnoRet;

  if (p.archMap?.length) {
    // Only this machine's architecture and its sub-architectures (x86_64 → x86, x32).
    const native = p.archMap.find((a) => a.architecture === arch.scmp);
    if (native) out.architectures = [native.architecture, ...(native.subArchitectures ?? [])];
  } else if (p.architectures?.length) {
    out.architectures = [...p.architectures];
  }
  // No x32 ABI in this kernel: nothing can make those calls, and the filter is cheaper without.
  if (host.x32 === false && out.architectures) out.architectures = out.architectures.filter((a) => a !== 'SCMP_ARCH_X32');
  if (p.flags?.length) out.flags = [...p.flags];
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;

  for (const [i, s] of (p.syscalls ?? []).entries()) {
    if (!s || typeof s !== 'object' || typeof s.action !== 'string') throw invalid(`seccomp profile: syscalls[${i}] has no action`);
    if (s.name && s.names?.length) throw invalid(`'name' and 'names' were specified in the seccomp profile (syscalls[${i}]), use either 'name' or 'names'`);
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (exc.arches?.includes(arch.go)) continue;
    if (exc.caps?.some((c) => caps.includes(c))) continue;
    if (exc.minKernel && kernelAtLeast(host.kernel, exc.minKernel)) continue;
    if (inc.arches?.length && !inc.arches.includes(arch.go)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) continue;
    if (inc.minKernel && !kernelAtLeast(host.kernel, inc.minKernel)) continue;
    const names = s.name ? [s.name] : [...(s.names ?? [])];
    if (names.length === 0) continue;
    const rule: OciSeccomp['syscalls'][number] = { names, action: s.action };
    if (typeof s.errnoRet === 'number') rule.errnoRet = s.errnoRet;
    if (s.args?.length) rule.args = s.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op }));
    out.syscalls.push(rule);
  }
  return out;
}
