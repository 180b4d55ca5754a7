// The create body for every `run`/`create` flag: compared with what the
// real docker CLI sends for the same flags (key order included), and the
// values a user would check, which hold without docker too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeApi } from '../client/fake-api.ts';
import { containerDaemon } from './fake-containers.ts';
import { dockerAvailable, runDocker, runJoey } from './testing.ts';
import { parseGoDuration, parseCpus, ramInBytes } from './go-values.ts';
import { parsePortSpec, parseUlimit, parseVolume } from './container-opts.ts';

/** Re-serialized (the same keys in the same order, Go's escaping aside),
 * with Env and Binds sorted: docker builds both from Go maps, in random order. */
function normalize(body: string): string {
  const b = JSON.parse(body);
  if (Array.isArray(b.Env)) b.Env.sort();
  if (Array.isArray(b.HostConfig?.Binds)) b.HostConfig.Binds.sort();
  return JSON.stringify(b);
}

/** The create request a CLI sends for `create <flags>`. */
async function createRequest(who: 'docker' | 'joey', flags: string[], cwd?: string) {
  const api = await startFakeApi();
  containerDaemon(api);
  try {
    const argv = ['create', ...flags];
    const r = who === 'docker' ? await runDocker(argv, { host: api.host }) : await runJoey(argv, { host: api.host, env: { JOEY_CONFIG: '/nonexistent-joey-config' }, cwd });
    const req = api.requests.find((q) => q.path === '/containers/create');
    return {
      code: r.code,
      stderr: r.stderr.replace(/\bdocker\b/g, 'joey'),
      query: req ? [...req.query].sort() : undefined,
      body: req ? normalize(req.body.toString()) : undefined,
    };
  } finally {
    await api.close();
  }
}

const FLAG_CASES: string[][] = [
  ['busybox'],
  ['busybox', 'echo', 'hi', '--rm'],
  ['-it', '--rm', '--name', 'x', '-e', 'A=1', '-w', '/w', '-u', '1:2', '--entrypoint', '/bin/sh', '--hostname', 'h', '-l', 'a=b', 'busybox', 'echo', 'hi'],
  ['--read-only', '--init', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '--privileged', 'busybox'],
  ['--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_TIME', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--security-opt', 'label=disable', 'busybox'],
  ['--ulimit', 'nofile=10:20', '--ulimit', 'core=-1', '--ulimit', 'nproc=5', '--shm-size', '64m', '--tmpfs', '/t:size=1m', '--tmpfs', '/u', 'busybox'],
  ['-m', '512m', '--memory-swap', '1g', '--memory-reservation', '256m', '--cpus', '1.5', '-c', '512', 'busybox'],
  ['--memory-swap', '-1', '--cpus', '3/4', '--kernel-memory', '4m', '--memory-swappiness', '50', 'busybox'],
  ['--cpu-quota', '1000', '--cpu-period', '0x2710', '--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--pids-limit', '10', '--oom-kill-disable', '--oom-score-adj', '-5', 'busybox'],
  ['--device', '/dev/fuse', '--device', '/dev/sda:/dev/xvda:r', '--device', '/dev/sdb:rw', '--device-cgroup-rule', 'c 1:3 mr', 'busybox'],
  ['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=100', '--pid', 'host', '--ipc', 'shareable', '--uts', 'host', '--group-add', 'audio', 'busybox'],
  ['--health-cmd', 'curl -f http://localhost/', '--health-interval', '1s', '--health-timeout', '500ms', '--health-retries', '3', '--health-start-period', '1m30s', '--health-start-interval', '2s', 'busybox'],
  ['--health-interval', '1h2m3.5s', 'busybox'],
  ['--no-healthcheck', 'busybox'],
  ['--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', '--network', 'host', 'busybox'],
  ['--pull', 'always', '--platform', 'linux/amd64', '--cgroup-parent', '/x', '--cgroupns', 'private', 'busybox'],
  ['--net', 'none', '--runtime', 'runc', '--init=false', 'busybox'],
  ['-v', '/a:/b:ro', '-v', '/anon', '-v', 'named:/data:nocopy', 'busybox'],
  ['-v', './rel:/x', 'busybox'],
  ['--mount', 'type=bind,src=/x,dst=/y,readonly,bind-propagation=rslave', '--mount', 'type=tmpfs,dst=/tt,tmpfs-size=1m,tmpfs-mode=1777', 'busybox'],
  ['--mount', 'type=volume,src=v,dst=/v,volume-label=a=b,volume-nocopy,volume-driver=local,volume-opt=o=addr', '--mount', 'target=/anon', 'busybox'],
  ['-p', '8080:80', '-p', '127.0.0.1:9000-9001:90-91/udp', '-p', '80', '-p', '[::1]:8081:81', '-p', '5000-5001:50', 'busybox'],
  ['-p', 'published=5000,target=50,protocol=udp', '-P', '--expose', '7000-7001', '--expose', '53/udp', 'busybox'],
  ['--dns', '8.8.8.8', '--dns', '2001:4860:4860:0:0:0:0:8888', '--dns-search', 'example.com', '--dns-option', 'ndots:2', '--dns-opt', 'use-vc', 'busybox'],
  ['--add-host', 'a:1.2.3.4', '--add-host', 'b=::1', '--add-host', 'gw:host-gateway', '--volumes-from', 'other:ro', 'busybox'],
  ['--ip', '172.30.0.2', '--mac-address', '92:d0:c6:0a:29:33', 'busybox'],
  ['--network', 'mynet', '--network-alias', 'al', '--ip', '10.0.0.2', '--ip6', 'fd00::2', '--link', 'foo:bar', 'busybox'],
  ['--network', 'name=n1,alias=a1,ip=10.1.1.1,driver-opt=k=v,gw-priority=5', '--network', 'n2', 'busybox'],
  ['--restart', 'on-failure:3', '-a', 'stdout', '-a', 'STDIN', 'busybox'],
  ['--restart', 'unless-stopped', '--blkio-weight', '300', '--blkio-weight-device', '/dev/sda:200', '--device-read-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sda:10k', 'busybox'],
  ['--device-read-iops', '/dev/sda:100', '--device-write-iops', '/dev/sdb:5', '--annotation', 'a=b', '--storage-opt', 'size=1G', 'busybox'],
  ['--userns', 'host', '--domainname', 'd', '--cidfile', '', '--isolation', 'default', '--volume-driver', 'local', 'busybox'],
  ['--security-opt', 'systempaths=unconfined', '--security-opt', 'seccomp=unconfined', 'busybox'],
  ['--entrypoint=', '-h', 'myhost', 'busybox'],
  ['-e', 'ONLY_NAME', '-e', 'A=1', '-e', 'A=2', '-e', 'B=x', '-v', '/1:/1', '-v', '/2:/2', 'busybox'],
  // errors: the message and exit code, and no request
  ['--stop-timeout', 'x', 'busybox'],
  ['-m', '1x', 'busybox'],
  ['--cpus', '0.0000000001', 'busybox'],
  ['--health-interval', 'abc', 'busybox'],
  ['--blkio-weight', '99999', 'busybox'],
  ['--ulimit', 'nofile=20:10', 'busybox'],
  ['--restart', 'foo:x', 'busybox'],
  ['--rm', '--restart', 'always', 'busybox'],
  ['-p', '99999:80', 'busybox'],
  ['--expose', '1:2', 'busybox'],
  ['-e', '=x', 'busybox'],
  ['--mount', 'type=bind,dst=/x,volume-nocopy', 'busybox'],
  ['--pid', 'bogus', 'busybox'],
  ['--dns', 'foo', 'busybox'],
  ['--sysctl', 'kernel.foo=1', 'busybox'],
  ['--device', '/a:/b:xyz', 'busybox'],
  ['--no-healthcheck', '--health-cmd', 'x', 'busybox'],
  ['--log-driver', 'none', '--log-opt', 'a=b', 'busybox'],
  ['--memory-swappiness', '101', 'busybox'],
  ['-v', 'a::b', 'busybox'],
  ['--network', 'host', '--network', 'mynet', 'busybox'],
  ['--network-alias', 'x', 'busybox'],
  ['-a', 'foo', 'busybox'],
  // networking: where each value goes, and docker's refusals
  ['--network', 'mynet', '--network-alias', 'a', '--network-alias', 'b', '--ip', '10.9.0.5', '--mac-address', '02:42:ac:11:00:02', 'busybox'],
  ['--network', 'bridge', '--ip', '10.231.7.9', '-p', '127.0.0.1::80', '-p', '8080:80/tcp', '-p', '53:53/udp', '-P', '--expose', '81', 'busybox'],
  ['--network', 'name=mynet,alias=a', '--network-alias', 'b', 'busybox'],
  ['--network', 'mynet', '--mac-address', 'zz', 'busybox'],
  ['--network', 'none', '-p', '80', 'busybox'],
  ['--add-host', 'h:bogus', 'busybox'],
  ['--dns-search', 'bad_domain!', 'busybox'],
  ['-p', '80/bogus', 'busybox'],
  ['--expose', '80-bogus', 'busybox'],
];

test('create sends the body docker sends, for every flag', { skip: !dockerAvailable() && 'docker CLI not installed' }, async () => {
  for (const flags of FLAG_CASES) {
    const [docker, joey] = [await createRequest('docker', flags), await createRequest('joey', flags, process.cwd())];
    assert.deepEqual(joey, docker, flags.join(' '));
  }
});

test('values: units, cpus, ulimits, restart, durations, ports, mounts, volumes', async () => {
  const { body } = await createRequest('joey', [
    '-m', '512m', '--cpus', '1.5', '--ulimit', 'nofile=1024:2048', '--restart', 'on-failure:3',
    '--health-cmd', 'true', '--health-interval', '1m30s', '-p', '127.0.0.1:8080:80/udp',
    '--mount', 'type=bind,source=/src,target=/dst,readonly', '-v', '/host:/ctr:ro', 'busybox',
  ]);
  const b = JSON.parse(body!);
  assert.equal(b.HostConfig.Memory, 536870912);
  assert.equal(b.HostConfig.NanoCpus, 1_500_000_000);
  assert.deepEqual(b.HostConfig.Ulimits, [{ Name: 'nofile', Hard: 2048, Soft: 1024 }]);
  assert.deepEqual(b.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 90_000_000_000 });
  assert.deepEqual(b.ExposedPorts, { '80/udp': {} });
  assert.deepEqual(b.HostConfig.PortBindings, { '80/udp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.deepEqual(b.HostConfig.Mounts, [{ Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true }]);
  assert.deepEqual(b.HostConfig.Binds, ['/host:/ctr:ro']);
  assert.deepEqual(b.Volumes, {});
  assert.equal(b.HostConfig.MemorySwappiness, -1);
  assert.deepEqual(b.NetworkingConfig.EndpointsConfig.default.IPAMConfig, null);
});

test('env files and label files: docker\'s format, names taken from our environment', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-envfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'env'), '\uFEFF# comment\n\n  A=1\nB=two words\nFROM_CLI\nUNSET\nC=\n');
  writeFileSync(path.join(dir, 'labels'), 'l1=x\nbare\n');
  const api = await startFakeApi();
  containerDaemon(api);
  t.after(() => api.close());
  const r = await runJoey(['create', '--env-file', path.join(dir, 'env'), '-e', 'D=4', '--label-file', path.join(dir, 'labels'), 'busybox'], {
    host: api.host,
    env: { FROM_CLI: 'yes', JOEY_CONFIG: '/nonexistent' },
  });
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(api.requests.find((q) => q.path === '/containers/create')!.body.toString());
  assert.deepEqual(b.Env, ['A=1', 'B=two words', 'FROM_CLI=yes', 'C=', 'D=4']);
  assert.deepEqual(b.Labels, { l1: 'x' });
  const bad = await runJoey(['create', '--env-file', path.join(dir, 'nope'), 'busybox'], { host: api.host });
  assert.equal(bad.code, 125);
  assert.equal(bad.stderr, `joey: open ${path.join(dir, 'nope')}: no such file or directory\n\nRun 'joey create --help' for more information\n`);
});

test("joey's own flags ride as PouchContainer's fields", async (t) => {
  const api = await startFakeApi();
  containerDaemon(api);
  t.after(() => api.close());
  const r = await runJoey(
    ['run', '-d', '--rich', '--rich-mode', 'systemd', '--initscript', '/init.sh', '--enableLxcfs', '--disk-quota', '10g', '--disk-quota', '/data=5g', '--quota-id', '1000', 'busybox'],
    { host: api.host },
  );
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(api.requests.find((q) => q.path === '/containers/create')!.body.toString());
  assert.equal(b.Rich, true);
  assert.equal(b.RichMode, 'systemd');
  assert.equal(b.Tty, true, 'systemd mode has a terminal (the daemon gives it one; attach must agree)');
  assert.equal(b.InitScript, '/init.sh');
  assert.deepEqual(b.DiskQuota, { '/': '10g', '/data': '5g' });
  assert.equal(b.QuotaID, '1000');
  assert.equal(b.HostConfig.EnableLxcfs, true);
  // absent unless asked for, so docker's body stays docker's
  const plain = await createRequest('joey', ['busybox']);
  assert.doesNotMatch(plain.body!, /Rich|InitScript|DiskQuota|QuotaID|EnableLxcfs/);
  const bad = await runJoey(['create', '--disk-quota', 'a=b=c', 'busybox'], { host: api.host });
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /^joey: invalid format for disk quota: a=b=c\n/);
});

test('--oci-hooks-file and --oci-hook STAGE=PATH become HostConfig.OciHooks', async (t) => {
  const api = await startFakeApi();
  containerDaemon(api);
  t.after(() => api.close());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-hooks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'hooks.json');
  writeFileSync(file, JSON.stringify({ prestart: [{ path: '/usr/libexec/a', args: ['a', '--x'] }] }));
  const r = await runJoey(['create', '--oci-hooks-file', file, '--oci-hook', 'prestart=/usr/libexec/b', '--oci-hook', 'poststop=/usr/libexec/c', 'busybox'], { host: api.host });
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(api.requests.find((q) => q.path === '/containers/create')!.body.toString());
  assert.deepEqual(b.HostConfig.OciHooks, {
    prestart: [{ path: '/usr/libexec/a', args: ['a', '--x'] }, { path: '/usr/libexec/b' }],
    poststop: [{ path: '/usr/libexec/c' }],
  });
  const plain = await createRequest('joey', ['busybox']);
  assert.doesNotMatch(plain.body!, /OciHooks/);
  const bad = await runJoey(['create', '--oci-hook', '/usr/libexec/b', 'busybox'], { host: api.host });
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid argument "\/usr\/libexec\/b" for "--oci-hook" flag: expected STAGE=PATH/);
  writeFileSync(file, '[1]');
  const notObject = await runJoey(['create', '--oci-hooks-file', file, 'busybox'], { host: api.host });
  assert.match(notObject.stderr, /invalid --oci-hooks-file .*expected an object of stages/);
});

test('Go parsers: sizes, rationals, durations, ulimits, ports, volume specs', () => {
  assert.equal(ramInBytes('1.5g'), 1610612736);
  assert.equal(ramInBytes('10KiB'), 10240);
  assert.throws(() => ramInBytes('1x'), /invalid suffix: 'x'/);
  assert.equal(parseCpus('0.001'), 1_000_000);
  assert.equal(parseCpus('2e-1'), 200_000_000);
  assert.throws(() => parseCpus('1.0000000001'), /value is too precise/);
  assert.equal(parseGoDuration('1h2m3.5s'), 3_723_500_000_000);
  assert.equal(parseGoDuration('250ms'), 250_000_000);
  assert.throws(() => parseGoDuration('5'), /time: missing unit in duration "5"/);
  assert.deepEqual(parseUlimit('core=-1'), { Name: 'core', Hard: -1, Soft: -1 });
  assert.deepEqual(
    parsePortSpec('1.2.3.4:8000-8001:80-81/tcp').map((p) => `${p.HostIp}:${p.HostPort}->${p.port}`),
    ['1.2.3.4:8000->80/tcp', '1.2.3.4:8001->81/tcp'],
  );
  assert.deepEqual(parsePortSpec('8000-8010:80').map((p) => p.HostPort), ['8000-8010']);
  assert.deepEqual(parseVolume('/a:/b:ro'), { Source: '/a', Target: '/b', Type: 'bind' });
  assert.deepEqual(parseVolume('name:/b'), { Source: 'name', Target: '/b', Type: 'volume' });
  assert.throws(() => parseVolume('/a:/b:ro:x'), /invalid spec: \/a:\/b:ro:x: too many colons/);
});
