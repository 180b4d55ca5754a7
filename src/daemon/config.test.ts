import { resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is } from '../errdefs/index.ts';
import { parseDaemonArgs, parseHost, type DaemonConfig } from './config.ts';

/** Executables of the fake host: runc where Debian puts it, and some runtimes. */
const BINARIES = new Set(['/usr/sbin/runc', '/opt/rt/myrunc', '/usr/local/bin/kata-runtime']);
const NOT_EXECUTABLE = new Set(['/opt/rt/readme.txt']);

/** Parses with an in-memory file system: path → contents. */
function parse(argv: string[], files: Record<string, string> = {}, binaries: Set<string> = BINARIES) {
  return parseDaemonArgs(argv, {
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`open ${p}: no such file or directory`), { code: 'ENOENT' });
    },
    executable: (p) => (binaries.has(p) ? 'ok' : NOT_EXECUTABLE.has(p) ? 'not-executable' : 'missing'),
    pathEnv: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin',
  });
}
function run(argv: string[], files: Record<string, string> = {}): DaemonConfig {
  const r = parse(argv, files);
  assert.equal(r.kind, 'run');
  return (r as { config: DaemonConfig }).config;
}
const fails = (argv: string[], re: RegExp, files: Record<string, string> = {}) =>
  assert.throws(() => parse(argv, files), (err: unknown) => is(err, 'invalid') && re.test((err as Error).message));

test('defaults, with no config file at the default path', () => {
  const c = run([]);
  assert.deepEqual(c.engine, {
    dataRoot: '/var/lib/joey',
    execRoot: '/run/joey',
    insecureRegistries: [],
    registryMirrors: [],
    maxConcurrentDownloads: 8,
    maxConcurrentUploads: 5,
    cgroupParent: '/joey',
    network: { bridge: 'joey0', iptables: true },
    labels: [],
    debug: false,
    hosts: ['unix:///run/joey/joeyd.sock'],
    runtimes: { runc: { path: '/usr/sbin/runc' } },
    defaultRuntime: 'runc',
    hooksDirs: [],
  });
  assert.deepEqual(c.listeners, [{ kind: 'unix', path: '/run/joey/joeyd.sock', addr: 'unix:///run/joey/joeyd.sock' }]);
  assert.equal(c.pidfile, '/run/joey/joeyd.pid');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.group, 'joey');
  assert.equal(c.groupExplicit, false);
  assert.equal(c.tls, undefined);
  assert.equal(c.configFile, undefined);
});

test('flags, repeatable ones collect', () => {
  const c = run([
    '--data-root', '/tmp/d', '--exec-root', '/tmp/e', '-H', 'unix:///tmp/e/a.sock', '--host', 'unix:///tmp/e/b.sock',
    '--insecure-registry', '127.0.0.1:5000', '--insecure-registry', '10.0.0.0/8',
    '--registry-mirror', 'http://127.0.0.1:5001/', '--max-concurrent-downloads', '3', '--max-concurrent-uploads', '2',
    '--label', 'a=b', '--label', 'c=', '-G', 'staff', '-D',
  ]);
  assert.equal(c.engine.dataRoot, '/tmp/d');
  assert.equal(c.engine.execRoot, '/tmp/e');
  // The pidfile follows exec-root unless given.
  assert.equal(c.pidfile, '/tmp/e/joeyd.pid');
  assert.deepEqual(c.engine.hosts, ['unix:///tmp/e/a.sock', 'unix:///tmp/e/b.sock']);
  assert.deepEqual(c.engine.insecureRegistries, ['127.0.0.1:5000', '10.0.0.0/8']);
  assert.deepEqual(c.engine.registryMirrors, ['http://127.0.0.1:5001']);
  assert.equal(c.engine.maxConcurrentDownloads, 3);
  assert.equal(c.engine.maxConcurrentUploads, 2);
  assert.deepEqual(c.engine.labels, ['a=b', 'c=']);
  assert.equal(c.group, 'staff');
  assert.equal(c.groupExplicit, true);
  assert.equal(c.engine.debug, true);
  assert.equal(c.logLevel, 'debug');
});

test('the config file supplies settings under daemon.json names', () => {
  const file = JSON.stringify({
    'data-root': '/srv/joey',
    hosts: ['unix:///srv/run/j.sock'],
    'registry-mirrors': ['https://mirror.example.com'],
    'insecure-registries': ['reg.local:5000'],
    'log-level': 'warn',
    debug: true,
    labels: ['zone=a'],
    'max-concurrent-downloads': 4,
    pidfile: '/srv/run/j.pid',
    group: 'docker',
  });
  const c = run(['--config-file', '/etc/x.json'], { '/etc/x.json': file });
  assert.equal(c.configFile, '/etc/x.json');
  assert.equal(c.engine.dataRoot, '/srv/joey');
  assert.deepEqual(c.engine.hosts, ['unix:///srv/run/j.sock']);
  assert.deepEqual(c.engine.registryMirrors, ['https://mirror.example.com']);
  assert.equal(c.logLevel, 'warn'); // an explicit level wins over debug
  assert.equal(c.engine.maxConcurrentDownloads, 4);
  assert.equal(c.pidfile, '/srv/run/j.pid');
  assert.equal(c.group, 'docker');
  // The default path is read when present.
  assert.equal(run([], { '/etc/joey/daemon.json': '{"debug":true}' }).engine.debug, true);
});

test('a setting both as a flag and in the file is an error naming both values', () => {
  fails(
    ['--config-file', '/c.json', '--data-root', '/a', '-H', 'unix:///x.sock'],
    /^the following directives are specified both as a flag and in the configuration file: data-root: \(from flag: \/a, from file: \/b\), hosts: \(from flag: \[unix:\/\/\/x\.sock\], from file: \[unix:\/\/\/y\.sock\]\)$/,
    { '/c.json': JSON.stringify({ 'data-root': '/b', hosts: ['unix:///y.sock'] }) },
  );
});

test('config file errors: unknown key, bad JSON, wrong type, missing explicit file', () => {
  fails(['--config-file', '/c.json'], /\/c\.json: the following directives don't match any configuration option: storage-driver, bogus$/, {
    '/c.json': '{"debug":true,"storage-driver":"overlay2","bogus":1}',
  });
  fails(['--config-file', '/c.json'], /^unable to configure the joey daemon with file \/c\.json: .*JSON/, { '/c.json': '{"debug": tru' });
  fails(['--config-file', '/c.json'], /\/c\.json: expected a JSON object/, { '/c.json': '[]' });
  fails(['--config-file', '/c.json'], /hosts must be a list of strings/, { '/c.json': '{"hosts":"unix:///x"}' });
  fails(['--config-file', '/c.json'], /max-concurrent-downloads must be a non-negative integer/, { '/c.json': '{"max-concurrent-downloads":"3"}' });
  fails(['--config-file', '/nope.json'], /^unable to configure the joey daemon with file \/nope\.json: open \/nope\.json: no such file/);
});

test('validation of values', () => {
  fails(['--log-level', 'chatty'], /unable to parse logging level: chatty/);
  fails(['--registry-mirror', 'ftp://m'], /invalid mirror: unsupported scheme "ftp"/);
  fails(['--registry-mirror', 'not a url'], /invalid mirror/);
  fails(['--registry-mirror', 'https://m/?x=1'], /query or fragment/);
  fails(['--insecure-registry', 'http://r:5000'], /should not contain ':\/\/'/);
  fails(['--label', 'novalue'], /bad attribute format: novalue/);
  fails(['--max-concurrent-downloads', '0'], /must be at least 1/);
  fails(['--max-concurrent-downloads', 'many'], /--max-concurrent-downloads.*invalid/);
  fails(['--no-such-flag'], /unknown option '--no-such-flag'/);
  fails(['stray'], /too many arguments|excess/i);
});

test('hosts: unix and tcp forms; fd:// and others refused', () => {
  assert.deepEqual(parseHost('unix:///tmp/a.sock'), { kind: 'unix', path: '/tmp/a.sock', addr: 'unix:///tmp/a.sock' });
  assert.deepEqual(parseHost('unix://'), { kind: 'unix', path: '/run/joey/joeyd.sock', addr: 'unix:///run/joey/joeyd.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376, addr: 'tcp://127.0.0.1:2376' });
  assert.deepEqual(parseHost('tcp://[::1]:9000'), { kind: 'tcp', host: '::1', port: 9000, addr: 'tcp://[::1]:9000' });
  assert.deepEqual(parseHost('tcp://:2377'), { kind: 'tcp', host: '127.0.0.1', port: 2377, addr: 'tcp://127.0.0.1:2377' });
  assert.deepEqual(parseHost('0.0.0.0:2376'), { kind: 'tcp', host: '0.0.0.0', port: 2376, addr: 'tcp://0.0.0.0:2376' });
  assert.throws(() => parseHost('unix://rel/path.sock'), /must be absolute/);
  assert.throws(() => parseHost('fd://'), /fd:\/\/ hosts \(socket activation\) are not supported/);
  assert.throws(() => parseHost('ssh://host'), /invalid bind address format/);
  assert.throws(() => parseHost('tcp://h:1/path'), /invalid bind address format/);
});

test('tcp needs TLS; TLS needs its files', () => {
  fails(['-H', 'tcp://127.0.0.1:2376'], /^binding to tcp without TLS is insecure, use --tlsverify$/);
  fails(['--tls', '-H', 'tcp://127.0.0.1:2376'], /need --tlscert and --tlskey/);
  fails(['--tlsverify', '--tlscert', 'c.pem', '--tlskey', 'k.pem', '-H', 'tcp://127.0.0.1:2376'], /--tlsverify needs --tlscacert/);
  const c = run(['--tlsverify', '--tlscacert', '/t/ca.pem', '--tlscert', '/t/c.pem', '--tlskey', '/t/k.pem', '-H', 'tcp://127.0.0.1:2376']);
  assert.deepEqual(c.tls, { verify: true, cert: '/t/c.pem', key: '/t/k.pem', cacert: '/t/ca.pem' });
  const t = run(['--tls', '--tlscert', '/t/c.pem', '--tlskey', '/t/k.pem', '-H', 'tcp://127.0.0.1:2376']);
  assert.equal(t.tls!.verify, false);
});

test('--version and --help', () => {
  assert.deepEqual(parse(['--version']), { kind: 'version' });
  assert.deepEqual(parse(['-v']), { kind: 'version' });
  const h = parse(['--help']);
  assert.equal(h.kind, 'help');
  assert.match((h as { text: string }).text, /--data-root <dir>/);
  assert.match((h as { text: string }).text, /--insecure-registry <host>/);
});

test('network flags as dockerd names them', () => {
  assert.deepEqual(run(['-b', 'jt0', '--bip', '10.44.0.1/24', '--fixed-cidr', '10.44.0.128/25', '--iptables=false']).engine.network, { bridge: 'jt0', bip: '10.44.0.1/24', fixedCidr: '10.44.0.128/25', iptables: false });
  assert.throws(() => run(['--bip', '10.44.0.1']), /invalid --bip/);
  assert.throws(() => run(['-b', 'a-very-long-bridge-name']), /invalid bridge name/);
  assert.throws(() => run(['-b', 'none', '--bip', '10.44.0.1/24']), /need a bridge/);
  assert.deepEqual(run(['-b', 'jt0', '--ipv6', '--fixed-cidr-v6', 'FD00:44::/64']).engine.network, { bridge: 'jt0', iptables: true, fixedCidrV6: 'fd00:44::/64' });
  assert.equal(run(['-b', 'jt0', '--fixed-cidr-v6', 'fd00:44::/64']).engine.network?.fixedCidrV6, undefined, 'without --ipv6 it is not used, as in dockerd');
  assert.throws(() => run(['--ipv6']), /--ipv6 needs --fixed-cidr-v6/);
  assert.throws(() => run(['--ipv6', '--fixed-cidr-v6', 'fd00:zz::/64']), /invalid --fixed-cidr-v6 "fd00:zz::\/64"/);
});

test('--fixed-cidr-v6 must be an IPv6 network with room for containers', () => {
  const refused = (v: string, why: RegExp): void => {
    assert.throws(() => run(['--ipv6', '--fixed-cidr-v6', v]), (err: Error) => {
      assert.match(err.message, new RegExp(`invalid --fixed-cidr-v6 "${v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`));
      assert.match(err.message, why);
      return true;
    }, v);
  };
  for (const v of ['fd00::', 'fd00::/129', '10.0.0.0/8', '1.2.3.4::/64', 'fd00::/x', '/64', 'fd00:1::2::/64']) refused(v, /expected an IPv6 CIDR/);
  refused('fd00:1::5/64', /host bits are set; the network is fd00:1::\/64/);
  refused('fd00:1:0:0:1::/63', /host bits are set; the network is fd00:1::\/63/);
  refused('fd00::/125', /a \/125 leaves no room for containers; the prefix can be at most \/124/);
  refused('fd00::/128', /at most \/124/);
  assert.equal(run(['--ipv6', '--fixed-cidr-v6', 'fd00::10/124']).engine.network?.fixedCidrV6, 'fd00::10/124');
  assert.equal(run(['--ipv6', '--fixed-cidr-v6', '2001:db8:1::/80']).engine.network?.fixedCidrV6, '2001:db8:1::/80');
  assert.throws(() => run(['--fixed-cidr-v6', 'fd00::5/64']), /host bits are set/, 'checked without --ipv6 too');
});

test('lxcfs: off unless --enable-lxcfs; its home and binary from flags or daemon.json', () => {
  assert.equal(run([]).engine.lxcfs, undefined);
  assert.equal(run(['--lxcfs-home', '/x']).engine.lxcfs, undefined, 'a home alone does not turn it on');
  assert.deepEqual(run(['--enable-lxcfs']).engine.lxcfs, { home: '/var/lib/lxcfs', binary: '/usr/bin/lxcfs', pinCpus: true });
  assert.equal(run(['--enable-lxcfs', '--lxcfs-pin-cpus=false']).engine.lxcfs?.pinCpus, false);
  assert.deepEqual(run(['--enable-lxcfs', '--lxcfs-home', '/run/jx/lxcfs/', '--lxcfs', '/opt/lxcfs']).engine.lxcfs, { home: '/run/jx/lxcfs', binary: '/opt/lxcfs', pinCpus: true });
  const file = { '/etc/j.json': JSON.stringify({ 'enable-lxcfs': true, 'lxcfs-home': '/srv/lxcfs', 'lxcfs-pin-cpus': false }) };
  assert.deepEqual(run(['--config-file', '/etc/j.json'], file).engine.lxcfs, { home: '/srv/lxcfs', binary: '/usr/bin/lxcfs', pinCpus: false });
  fails(['--enable-lxcfs', '--lxcfs-home', 'rel/dir'], /--lxcfs-home must be an absolute path/);
  fails(['--enable-lxcfs', '--lxcfs', 'lxcfs'], /--lxcfs must be an absolute path/);
});

test('runtimes: --add-runtime (repeatable) and --default-runtime; crun is built in where installed', () => {
  const c = run(['--add-runtime', 'myrunc=/opt/rt/myrunc', '--add-runtime', 'Kata = kata-runtime', '--default-runtime', 'myrunc']);
  assert.deepEqual(c.engine.runtimes, {
    runc: { path: '/usr/sbin/runc' },
    myrunc: { path: '/opt/rt/myrunc' },
    // Names are lower-cased as dockerd does; a bare command is found on PATH.
    kata: { path: '/usr/local/bin/kata-runtime' },
  });
  assert.equal(c.engine.defaultRuntime, 'myrunc');
  const withCrun = parse([], {}, new Set([...BINARIES, '/usr/bin/crun']));
  assert.equal(withCrun.kind, 'run');
  assert.deepEqual((withCrun as { config: DaemonConfig }).config.engine.runtimes, { runc: { path: '/usr/sbin/runc' }, crun: { path: '/usr/bin/crun' } });
});

test('runtimes: daemon.json "runtimes" with runtimeArgs, and "default-runtime"', () => {
  const file = JSON.stringify({ runtimes: { myrunc: { path: '/opt/rt/myrunc', runtimeArgs: ['--debug'] }, crun: { path: '/opt/rt/myrunc' } }, 'default-runtime': 'crun' });
  const c = run(['--config-file', '/etc/j.json'], { '/etc/j.json': file });
  assert.deepEqual(c.engine.runtimes, {
    runc: { path: '/usr/sbin/runc' },
    myrunc: { path: '/opt/rt/myrunc', runtimeArgs: ['--debug'] },
    // The user's own crun, not a built-in one.
    crun: { path: '/opt/rt/myrunc' },
  });
  assert.equal(c.engine.defaultRuntime, 'crun');
});

test('runtimes: conflicts and bad values are refused, naming what is wrong', () => {
  fails(['--add-runtime', 'a=/opt/rt/myrunc', '--add-runtime', 'A=/opt/rt/myrunc'], /runtime 'a' was already defined/);
  fails(['--add-runtime', 'runc=/opt/rt/myrunc'], /runtime name 'runc' is reserved/);
  fails(['--add-runtime', 'a'], /invalid runtime argument: a/);
  fails(['--add-runtime', '=/opt/rt/myrunc'], /invalid runtime argument/);
  fails(['--add-runtime', 'a/b=/opt/rt/myrunc'], /invalid runtime name 'a\/b'/);
  fails(['--add-runtime', '..=/opt/rt/myrunc'], /invalid runtime name '\.\.'/);
  fails(['--add-runtime', 'a=/opt/rt/missing'], /runtime 'a': \/opt\/rt\/missing does not exist/);
  fails(['--add-runtime', 'a=/opt/rt/readme.txt'], /runtime 'a': \/opt\/rt\/readme.txt is not an executable file/);
  fails(['--add-runtime', 'a=rt/myrunc'], /must be absolute/);
  fails(['--add-runtime', 'a=nosuch-runtime'], /runtime 'a': nosuch-runtime not found in PATH/);
  fails(['--default-runtime', 'crun'], /specified default runtime 'crun' does not exist \(defined: runc\)/);
  const viaFile = (v: unknown, re: RegExp) => fails(['--config-file', '/j.json'], re, { '/j.json': JSON.stringify(v) });
  viaFile({ runtimes: ['a'] }, /runtimes must be an object/);
  viaFile({ runtimes: { a: '/opt/rt/myrunc' } }, /runtime 'a' must be an object with a "path"/);
  viaFile({ runtimes: { a: {} } }, /runtime 'a' needs a "path"/);
  viaFile({ runtimes: { a: { path: '/opt/rt/myrunc', runtimeArgs: '--debug' } } }, /"runtimeArgs" must be a list of strings/);
  viaFile({ runtimes: { a: { path: '/opt/rt/myrunc', args: [] } } }, /unknown key "args"/);
  viaFile({ runtimes: { kata: { runtimeType: 'io.containerd.kata.v2' } } }, /"runtimeType" \(a containerd shim\) is not supported/);
  viaFile({ runtimes: { runc: { path: '/opt/rt/myrunc' } } }, /runtime name 'runc' is reserved/);
  viaFile({ 'default-runtime': 'nosuch' }, /specified default runtime 'nosuch' does not exist/);
  // As with every setting: not both a flag and in the file.
  fails(['--config-file', '/j.json', '--add-runtime', 'a=/opt/rt/myrunc'], /specified both as a flag and in the configuration file: runtimes/, {
    '/j.json': JSON.stringify({ runtimes: { b: { path: '/opt/rt/myrunc' } } }),
  });
  fails(['--config-file', '/j.json', '--default-runtime', 'runc'], /default-runtime/, { '/j.json': JSON.stringify({ 'default-runtime': 'runc' }) });
});

test('--hooks-dir repeats and resolves; daemon.json "hooks-dir" is a list; both at once is an error', () => {
  assert.deepEqual(run(['--hooks-dir', '/etc/joey/hooks.d', '--hooks-dir', 'rel/hooks']).engine.hooksDirs, ['/etc/joey/hooks.d', resolve('rel/hooks')]);
  const files = { '/c.json': JSON.stringify({ 'hooks-dir': ['/usr/share/containers/oci/hooks.d'] }) };
  assert.deepEqual(run(['--config-file', '/c.json'], files).engine.hooksDirs, ['/usr/share/containers/oci/hooks.d']);
  fails(['--config-file', '/c.json', '--hooks-dir', '/x'], /hooks-dir/, files);
  fails(['--config-file', '/bad.json'], /hooks-dir must be a list of strings/, { '/bad.json': JSON.stringify({ 'hooks-dir': '/x' }) });
});

test('p2p flags and daemon.json keys; p2p without a secret refuses to start', () => {
  const c = run(['--p2p-listen', '127.0.0.1:7070', '--p2p-tracker', 'http://127.0.0.1:7071', '--p2p-tracker-listen', '127.0.0.1:7071', '--p2p-secret', 'sixteen-chars-or-more']);
  assert.deepEqual(c.engine.p2p, {
    listen: { host: '127.0.0.1', port: 7070 },
    advertise: 'http://127.0.0.1:7070',
    tracker: 'http://127.0.0.1:7071',
    trackerListen: { host: '127.0.0.1', port: 7071 },
    secret: 'sixteen-chars-or-more',
  });
  const f = run(['--config-file', '/etc/d.json', '--p2p-tracker', 'http://10.0.0.1:7071'], { '/etc/d.json': JSON.stringify({ 'p2p-secret': 'sixteen-chars-or-more' }) });
  assert.equal(f.engine.p2p?.tracker, 'http://10.0.0.1:7071');
  assert.equal(run([]).engine.p2p, undefined);
  fails(['--p2p-listen', '127.0.0.1:7070', '--p2p-tracker', 'http://127.0.0.1:7071'], /--p2p-secret/);
  fails(['--p2p-tracker', 'tcp://127.0.0.1:7071', '--p2p-secret', 'sixteen-chars-or-more'], /--p2p-tracker/);
  fails(['--p2p-listen', 'nowhere', '--p2p-tracker', 'http://t:1', '--p2p-secret', 'sixteen-chars-or-more'], /--p2p-listen/);
});

test('default-address-pools: from daemon.json or --default-address-pool, checked at start naming the setting', () => {
  const file = (v: unknown) => ({ '/etc/j.json': JSON.stringify({ 'default-address-pools': v }) });
  const pools = [{ base: 'fd00:77::/48', size: 64 }, { base: '10.77.0.0/16', size: 24 }];
  assert.deepEqual(run(['--config-file', '/etc/j.json'], file(pools)).engine.network?.addressPools, pools);
  assert.deepEqual(run(['--default-address-pool', 'base=fd00:78::/48,size=64', '--default-address-pool', 'base=10.78.0.0/16,size=24']).engine.network?.addressPools, [{ base: 'fd00:78::/48', size: 64 }, { base: '10.78.0.0/16', size: 24 }]);
  assert.equal(run([]).engine.network?.addressPools, undefined);
  fails(['--config-file', '/etc/j.json'], /default-address-pools must be a list of \{"base": "CIDR", "size": N\}/, file({ base: 'fd00::/48', size: 64 }));
  fails(['--config-file', '/etc/j.json'], /invalid default-address-pools entry .*"size" must be between the base's prefix length \(48\) and 126/, file([{ base: 'fd00::/48', size: 32 }]));
  fails(['--config-file', '/etc/j.json'], /invalid default-address-pools entry .*"base"/, file([{ base: 'fd00:zz::/48', size: 64 }]));
  fails(['--config-file', '/etc/j.json'], /invalid default-address-pools entry .*unknown key "Base"/, file([{ Base: 'fd00::/48', size: 64 }]));
  fails(['--default-address-pool', 'fd00::/48'], /--default-address-pool/);
  fails(['--default-address-pool', 'base=fd00::/48,size=64', '--config-file', '/etc/j.json'], /specified both as a flag and in the configuration file: default-address-pools/, file(pools));
});
