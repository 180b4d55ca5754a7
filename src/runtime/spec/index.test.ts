import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { OciProcess } from '../types.ts';
import { buildSpec, toOciJson, type SpecInput } from './index.ts';
import { CAPABILITY_NAMES, DEFAULT_CAPABILITIES } from './capabilities.ts';

const HOST = {
  cgroupV2: false, capLastCap: 40, capBounding: [...CAPABILITY_NAMES], ncpu: 2, cpusOnline: '0-1', memsOnline: '0', kernel: '6.1.0', arch: 'x64', x32: true,
  hostname: 'the-host', swapLimit: true, blkioWeight: true, cpuRealtime: false,
  hostDevices: () => [{ path: '/dev/sda', type: 'b' as const, major: 8, minor: 0 }],
};
const PROFILE = {
  defaultAction: 'SCMP_ACT_ERRNO',
  archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
  syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['reboot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT'] } }],
};

let dir: string;
let rootfs: string;

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'c0ffee',
    rootfs,
    image: { Cmd: ['sh'], Env: ['PATH=/bin'], User: 'web', WorkingDir: '/home/web' },
    config: {},
    hostConfig: {},
    hostname: 'c0ffee12',
    files: { hosts: '/c/hosts', hostname: '/c/hostname', resolvConf: '/c/resolv.conf' },
    cgroupsPath: '/joey/c0ffee',
    seccompProfile: PROFILE,
    hostLimits: { nofileHard: 20000 },
    host: HOST,
    ...over,
  };
}

describe('buildSpec', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'joey-spec-index-'));
    rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/home/web:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nusers:x:100:web\nweb:x:1000:\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a default container', async () => {
    const { spec, warnings } = await buildSpec(input());
    assert.deepEqual(warnings, []);
    assert.equal(spec.ociVersion, '1.0.2');
    const p = spec.process!;
    assert.deepEqual(p.args, ['sh']);
    assert.deepEqual(p.env, ['PATH=/bin', 'HOSTNAME=c0ffee12']);
    assert.equal(p.cwd, '/home/web');
    assert.equal(p.terminal, false);
    assert.deepEqual(p.user, { uid: 1000, gid: 1000, additionalGids: [1000, 100] });
    assert.deepEqual([...p.capabilities!.bounding!].sort(), [...DEFAULT_CAPABILITIES].sort());
    // A non-root user gets the bounding set only, as from execve.
    assert.deepEqual(Object.keys(p.capabilities!), ['bounding']);
    assert.equal(p.rlimits, undefined);
    assert.equal(p.oomScoreAdj, undefined);
    assert.equal(p.noNewPrivileges, undefined);
    assert.equal(spec.hostname, 'c0ffee12');
    assert.deepEqual(spec.root, { path: rootfs, readonly: false });
    const linux = spec.linux as Record<string, any>;
    assert.equal(linux.cgroupsPath, '/joey/c0ffee');
    assert.deepEqual(linux.namespaces.map((n: { type: string }) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
    assert.deepEqual(linux.resources.devices[0], { allow: false, access: 'rwm' });
    assert.ok(linux.maskedPaths.includes('/proc/kcore'));
    assert.ok(linux.readonlyPaths.includes('/proc/sys'));
    assert.deepEqual(linux.seccomp.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(linux.seccomp.syscalls, [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }]);
    assert.equal(linux.sysctl['net.ipv4.ip_unprivileged_port_start'], '0');
    assert.equal(spec.annotations!['io.joey.container.id'], 'c0ffee');
    assert.doesNotThrow(() => JSON.parse(toOciJson(spec)));
  });

  test('the container config wins over the image', async () => {
    const { spec } = await buildSpec(input({
      config: { User: '0:0', Entrypoint: ['/bin/echo'], Cmd: ['hi'], Env: ['A=1'], WorkingDir: '/tmp', Tty: true, StopSignal: 'SIGQUIT', Domainname: 'example.org' },
      hostConfig: { ConsoleSize: [30, 100], Init: true, SecurityOpt: ['no-new-privileges'], CapAdd: ['SYS_BOOT'], OomScoreAdj: 500, Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }], ReadonlyRootfs: true, Annotations: { 'com.example/x': 'y' } },
      initPath: '/usr/bin/catatonit',
    }));
    const p = spec.process as OciProcess;
    assert.deepEqual(p.args, ['/sbin/docker-init', '--', '/bin/echo', 'hi']);
    assert.deepEqual(p.env, ['PATH=/bin', 'HOSTNAME=c0ffee12', 'TERM=xterm', 'A=1']);
    assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [0] });
    assert.equal(p.cwd, '/tmp');
    assert.equal(p.terminal, true);
    assert.deepEqual(p.consoleSize, { height: 30, width: 100 });
    assert.equal(p.noNewPrivileges, true);
    assert.equal(p.oomScoreAdj, 500);
    assert.deepEqual(p.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }]);
    assert.equal(spec.root!.readonly, true);
    assert.equal(spec.domainname, 'example.org');
    assert.equal(spec.mounts!.at(-1)!.destination, '/sbin/docker-init');
    assert.equal(spec.annotations!['org.opencontainers.image.stopSignal'], 'SIGQUIT');
    assert.equal(spec.annotations!['com.example/x'], 'y');
    // CAP_SYS_BOOT added: the profile's rule for reboot now applies.
    const names = (spec.linux as any).seccomp.syscalls.flatMap((r: { names: string[] }) => r.names);
    assert.ok(names.includes('reboot'));
  });

  test('privileged', async () => {
    const { spec } = await buildSpec(input({ config: { User: 'root' }, hostConfig: { Privileged: true, SecurityOpt: ['seccomp=builtin'] } }));
    const linux = spec.linux as Record<string, any>;
    assert.deepEqual(spec.process!.capabilities, { bounding: [...CAPABILITY_NAMES], effective: [...CAPABILITY_NAMES], permitted: [...CAPABILITY_NAMES] });
    assert.equal(linux.seccomp, undefined);
    assert.equal(linux.maskedPaths, undefined);
    assert.equal(linux.readonlyPaths, undefined);
    assert.deepEqual(linux.devices, [{ path: '/dev/sda', type: 'b', major: 8, minor: 0 }]);
    assert.deepEqual(linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.ok(!spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
    assert.ok(!spec.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
  });

  test('privileged where the daemon lacks a capability: the daemon\'s bounding set, no more', async () => {
    const bounding = CAPABILITY_NAMES.filter((c) => c !== 'CAP_SYS_RESOURCE');
    const { spec } = await buildSpec(input({ config: { User: 'root' }, hostConfig: { Privileged: true }, host: { ...HOST, capBounding: bounding } }));
    assert.deepEqual(spec.process!.capabilities!.bounding, bounding);
    assert.deepEqual(spec.process!.capabilities!.effective, bounding);
  });

  test('host UTS and host network take the host\'s name', async () => {
    const uts = await buildSpec(input({ hostConfig: { UTSMode: 'host' } }));
    assert.equal(uts.spec.hostname, undefined);
    assert.ok(uts.spec.process!.env.includes('HOSTNAME=the-host'));
    const net = await buildSpec(input({ hostConfig: { NetworkMode: 'host' } }));
    assert.equal(net.spec.hostname, 'the-host');
    assert.equal((net.spec.linux as any).sysctl, undefined);
    const named = await buildSpec(input({ config: { Hostname: 'mine' }, hostname: 'mine', hostConfig: { NetworkMode: 'host' } }));
    assert.equal(named.spec.hostname, 'mine');
  });

  test('warnings and refusals', async () => {
    const neg = await buildSpec(input({ hostConfig: { OomScoreAdj: -500, Memory: 64 << 20, BlkioWeight: 300 }, host: { ...HOST, blkioWeight: false } }));
    assert.equal(neg.spec.process!.oomScoreAdj, undefined);
    assert.equal(neg.warnings.length, 2);
    assert.match(neg.warnings[0]!, /OomScoreAdj -500 was not applied/);
    assert.match(neg.warnings[1]!, /Weight discarded/);
    assert.equal((neg.spec.linux as any).resources.memory.limit, 64 << 20);

    const cases: Array<[Partial<SpecInput>, RegExp]> = [
      [{ config: { User: 'nobody' } }, /unable to find user nobody: no matching entries in passwd file/],
      [{ hostConfig: { OomScoreAdj: 2000 } }, /range for oom score adj is \[-1000, 1000\]/],
      [{ hostConfig: { CapAdd: ['BOGUS'] } }, /unknown capability: "BOGUS"/],
      [{ hostConfig: { SecurityOpt: ['bogus=1'] } }, /unknown option "bogus"/],
      [{ hostConfig: { Sysctls: { 'kernel.pid_max': '1' } } }, /sysctl kernel\.pid_max is not allowed/],
      [{ hostConfig: { Memory: 1 } }, /Minimum memory limit allowed is 6MB/],
      [{ hostConfig: { Ulimits: [{ Name: 'nofile', Soft: 30000, Hard: 30000 }] } }, /exceeds the daemon's hard limit 20000/],
      [{ hostConfig: { Devices: [{ PathOnHost: '/dev/nope', PathInContainer: '', CgroupPermissions: 'rwm' }] } }, /custom device "\/dev\/nope"/],
      [{ image: {}, config: {} }, /No command specified/],
    ];
    for (const [over, message] of cases) await assert.rejects(buildSpec(input(over)), { kind: 'invalid', message }, JSON.stringify(over));
  });

  test('extra mounts are appended', async () => {
    const extraMounts = [{ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] }];
    const { spec } = await buildSpec(input({ extraMounts }));
    assert.deepEqual(spec.mounts!.at(-1), extraMounts[0]);
  });
});
