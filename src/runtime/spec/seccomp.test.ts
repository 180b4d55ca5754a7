import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DEFAULT_CAPABILITIES } from './capabilities.ts';
import { convertSeccomp, type OciSeccomp } from './seccomp.ts';
import { kernelHasX32 } from './host.ts';

const PROFILE_PATH = '/usr/share/containers/seccomp.json';
const HOST = { arch: 'x64', kernel: '6.1.0-18-amd64' };

const allowed = (s: OciSeccomp): Set<string> => new Set(s.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
const denied = (s: OciSeccomp, name: string) => s.syscalls.find((r) => r.action === 'SCMP_ACT_ERRNO' && r.names.includes(name));

describe('seccomp', () => {
  const real = existsSync(PROFILE_PATH) ? JSON.parse(readFileSync(PROFILE_PATH, 'utf8')) : undefined;

  test('the containers-common profile converts for x86_64 and the default caps', { skip: !real && `${PROFILE_PATH} is not installed` }, () => {
    const s = convertSeccomp(real, DEFAULT_CAPABILITIES, HOST);
    assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(s.defaultErrnoRet, 38); // ENOSYS: unknown syscalls look unimplemented
    assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    // A kernel built without the x32 ABI: the filter goes without it; the rules stay the same.
    const noX32 = convertSeccomp(real, DEFAULT_CAPABILITIES, { ...HOST, x32: false });
    assert.deepEqual(noX32.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    assert.deepEqual(noX32.syscalls, s.syscalls);
    const ok = allowed(s);
    for (const name of ['read', 'execve', 'clone', 'arch_prctl', 'modify_ldt', 'chroot']) assert.ok(ok.has(name), `${name} allowed`);
    // Other architectures' syscalls are left out.
    for (const name of ['s390_pci_mmio_read', 'arm_fadvise64_64', 'sync_file_range2']) assert.ok(!s.syscalls.some((r) => r.names.includes(name)), `${name} absent`);
    // Capability-gated syscalls: refused with EPERM unless the capability is there.
    for (const [name, cap] of [['bpf', 'CAP_SYS_ADMIN'], ['acct', 'CAP_SYS_PACCT'], ['iopl', 'CAP_SYS_RAWIO'], ['settimeofday', 'CAP_SYS_TIME'], ['open_by_handle_at', 'CAP_DAC_READ_SEARCH']] as const) {
      assert.ok(!ok.has(name), `${name} not allowed by default`);
      assert.equal(denied(s, name)?.errnoRet, 1, `${name} gets EPERM`);
      const withCap = convertSeccomp(real, [...DEFAULT_CAPABILITIES, cap], HOST);
      assert.ok(allowed(withCap).has(name), `${name} allowed with ${cap}`);
      assert.equal(denied(withCap, name), undefined, `no EPERM rule for ${name} with ${cap}`);
    }
    // Argument filters come through (personality values, socket(AF_NETLINK, …, NETLINK_AUDIT)).
    const personality = s.syscalls.filter((r) => r.names.includes('personality'));
    assert.ok(personality.some((r) => r.args?.[0]?.value === 8 && r.args[0].op === 'SCMP_CMP_EQ'));
    // No Docker-only fields are left for runc to choke on.
    for (const r of s.syscalls) assert.deepEqual(Object.keys(r).filter((k) => !['names', 'action', 'errnoRet', 'args'].includes(k)), []);
    assert.doesNotThrow(() => JSON.stringify(s));
  });

  test('includes.caps as in Docker\'s own profile: reboot only with CAP_SYS_BOOT', () => {
    // containers-common allows reboot outright (in a PID namespace it only ends
    // the container); Docker's profile gates it, which this mirrors.
    const docker = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['reboot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT'] } },
        { names: ['kexec_load'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT', 'CAP_SYS_ADMIN'] } },
      ],
    };
    assert.ok(!allowed(convertSeccomp(docker, DEFAULT_CAPABILITIES, HOST)).has('reboot'));
    assert.ok(allowed(convertSeccomp(docker, [...DEFAULT_CAPABILITIES, 'CAP_SYS_BOOT'], HOST)).has('reboot'));
    // Every listed capability is required.
    assert.ok(!allowed(convertSeccomp(docker, ['CAP_SYS_BOOT'], HOST)).has('kexec_load'));
    assert.ok(allowed(convertSeccomp(docker, ['CAP_SYS_BOOT', 'CAP_SYS_ADMIN'], HOST)).has('kexec_load'));
    assert.deepEqual(convertSeccomp(docker, [], { arch: 'arm64', kernel: '6.1' }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.equal(convertSeccomp(docker, [], HOST).defaultErrnoRet, 1);
  });

  test('minKernel and arches in includes and excludes', () => {
    const p = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['new_in_4_8'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
        { names: ['old_only'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.0' } },
        { names: ['amd64_only'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
        { names: ['not_amd64'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
        { name: 'single', action: 'SCMP_ACT_ALLOW' },
      ],
    };
    assert.deepEqual([...allowed(convertSeccomp(p, [], { arch: 'x64', kernel: '4.4.0' }))].sort(), ['amd64_only', 'old_only', 'single']);
    assert.deepEqual([...allowed(convertSeccomp(p, [], { arch: 'x64', kernel: '5.10.0-x' }))].sort(), ['amd64_only', 'new_in_4_8', 'single']);
    assert.deepEqual([...allowed(convertSeccomp(p, [], { arch: 'arm64', kernel: '4.10' }))].sort(), ['new_in_4_8', 'not_amd64', 'old_only', 'single']);
  });

  test('an OCI-format profile passes through', () => {
    const oci = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
    assert.deepEqual(convertSeccomp(oci, [], HOST), oci);
  });

  test('malformed profiles are invalid errors', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /not a JSON object/],
      [[], /not a JSON object/],
      [{ syscalls: [] }, /no defaultAction/],
      [{ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }, /both 'architectures' and 'archMap'/],
      [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, /'name' and 'names'/],
      [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['a'] }] }, /syscalls\[0\] has no action/],
      [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 'six' } }] }, /invalid minKernel "six"/],
    ];
    for (const [p, message] of cases) assert.throws(() => convertSeccomp(p, [], HOST), { kind: 'invalid', message }, JSON.stringify(p));
  });
});

test('x32: absent only where the kernel config says it was left out', () => {
  assert.equal(kernelHasX32('CONFIG_IA32_EMULATION=y\n# CONFIG_X86_X32_ABI is not set\n'), false);
  assert.equal(kernelHasX32('CONFIG_X86_X32_ABI=y\n'), true);
  assert.equal(kernelHasX32(undefined), true, 'no config to read: keep x32 in the filter');
});
