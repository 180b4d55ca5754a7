// Runs generated specs with the real runc (root only): the proof that what
// the builder writes is a config runc accepts on this host.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { HostConfig } from '../../engine/containers/types.ts';
import { buildSpec, readHostLimits, toOciJson } from './index.ts';

const RUNC = '/usr/sbin/runc';
const BUSYBOX = '/bin/busybox';
const SECCOMP = '/usr/share/containers/seccomp.json';
const INIT = ['/usr/bin/catatonit', '/usr/bin/tini-static'].find((p) => existsSync(p));
const PARENT = 'joey-spec-test';
const skip = process.getuid?.() !== 0 ? 'needs root' : !existsSync(RUNC) ? 'runc is not installed' : !existsSync(BUSYBOX) ? 'busybox-static is not installed' : false;

let dir: string;
let rootfs: string;
const stateRoot = () => join(dir, 'runc-state');

function runc(args: string[]) {
  return spawnSync(RUNC, ['--root', stateRoot(), ...args], { encoding: 'utf8', timeout: 30_000 });
}

function removeCgroups(): void {
  // runc delete removes a container's cgroups but not their parent.
  for (const base of ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c))]) {
    const parent = join(base, PARENT);
    if (!existsSync(parent)) continue;
    for (const child of readdirSync(parent, { withFileTypes: true })) if (child.isDirectory()) rmdirSync(join(parent, child.name));
    rmdirSync(parent);
  }
}

async function run(id: string, cmd: string[], hostConfig: HostConfig = {}, user?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const bundle = join(dir, id);
  mkdirSync(bundle);
  const files = { hosts: join(bundle, 'hosts'), hostname: join(bundle, 'hostname'), resolvConf: join(bundle, 'resolv.conf') };
  writeFileSync(files.hosts, '127.0.0.1 localhost\n');
  writeFileSync(files.hostname, `${id}\n`);
  writeFileSync(files.resolvConf, 'nameserver 127.0.0.1\n');
  const { spec } = await buildSpec({
    id,
    rootfs,
    image: { Env: ['PATH=/bin'] },
    config: { Cmd: cmd, ...(user ? { User: user } : {}) },
    hostConfig,
    hostname: id,
    files,
    cgroupsPath: `/${PARENT}/${id}`,
    initPath: INIT,
    seccompProfile: existsSync(SECCOMP) ? JSON.parse(readFileSync(SECCOMP, 'utf8')) : undefined,
    hostLimits: readHostLimits(),
  });
  writeFileSync(join(bundle, 'config.json'), toOciJson(spec, 2));
  try {
    const r = runc(['run', '--bundle', bundle, id]);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    runc(['delete', '-f', id]);
  }
}

describe('runc smoke', { skip }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'joey-spec-runc-'));
    rootfs = join(dir, 'rootfs');
    // No /run: runc 1.1 gives a tmpfs the mode of the directory it covers,
    // overriding mode=; a missing one is created and mode= applies.
    for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777); // so that only a read-only rootfs stops a write there
    copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
    for (const applet of ['sh', 'echo', 'cat', 'id', 'hostname', 'grep', 'touch', 'tr']) symlinkSync('busybox', join(rootfs, 'bin', applet));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/tmp:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nweb:x:1000:\nextra:x:2000:web\n');
  });
  after(() => {
    removeCgroups();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a default spec runs: echo ok', async () => {
    const r = await run(`smoke-${process.pid}`, ['/bin/sh', '-c', 'echo ok']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  test('limits, init, user, tmpfs, sysctls and a read-only rootfs apply', async () => {
    const script = [
      'echo ok',
      'id -u; id -G',
      'hostname',
      'cat /proc/sys/net/ipv4/ip_forward',
      'ulimit -n',
      'cat /proc/1/cmdline | tr "\\0" " " 2>/dev/null; echo',
      'touch /tmp/x 2>/dev/null && echo rootfs-rw || echo rootfs-ro',
      'touch /run/x && echo run-rw',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max',
      'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
    ].join('; ');
    const id = `smoke2-${process.pid}`;
    const r = await run(id, ['/bin/sh', '-c', script], {
      Init: !!INIT,
      Memory: 64 << 20,
      PidsLimit: 64,
      NanoCpus: 5e8,
      Tmpfs: { '/run': 'rw,size=8m,mode=1777' },
      Sysctls: { 'net.ipv4.ip_forward': '1' },
      Ulimits: [{ Name: 'nofile', Soft: 512, Hard: 1024 }],
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
    }, 'web');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'ok');
    assert.equal(lines[1], '1000');
    assert.equal(lines[2], '1000 2000');
    assert.equal(lines[3], id);
    assert.equal(lines[4], '1');
    assert.equal(lines[5], '512');
    if (INIT) assert.match(lines[6]!, /^\/sbin\/docker-init -- \/bin\/sh/);
    assert.equal(lines[7], 'rootfs-ro');
    assert.equal(lines[8], 'run-rw');
    assert.equal(lines[9], String(64 << 20));
    assert.equal(lines[10], '64');
  });

  test('network none: a namespace of its own with only lo, and it is up', async () => {
    const r = await run(`smoke3-${process.pid}`, ['/bin/sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/operstate'], { NetworkMode: 'none' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'lo\nunknown\n'); // "unknown" is what an up loopback reports
  });
});
