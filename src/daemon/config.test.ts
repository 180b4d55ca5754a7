import { resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is } from '../errdefs/index.ts';
import { parseDaemonArgs, parseHost, type DaemonConfig } from './config.ts';

/** Parses with an in-memory file system: path → contents. */
function parse(argv: string[], files: Record<string, string> = {}) {
  return parseDaemonArgs(argv, {
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`open ${p}: no such file or directory`), { code: 'ENOENT' });
    },
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
});

test('--hooks-dir repeats and resolves; daemon.json "hooks-dir" is a list; both at once is an error', () => {
  assert.deepEqual(run(['--hooks-dir', '/etc/joey/hooks.d', '--hooks-dir', 'rel/hooks']).engine.hooksDirs, ['/etc/joey/hooks.d', resolve('rel/hooks')]);
  const files = { '/c.json': JSON.stringify({ 'hooks-dir': ['/usr/share/containers/oci/hooks.d'] }) };
  assert.deepEqual(run(['--config-file', '/c.json'], files).engine.hooksDirs, ['/usr/share/containers/oci/hooks.d']);
  fails(['--config-file', '/c.json', '--hooks-dir', '/x'], /hooks-dir/, files);
  fails(['--config-file', '/bad.json'], /hooks-dir must be a list of strings/, { '/bad.json': JSON.stringify({ 'hooks-dir': '/x' }) });
});
