// Legacy links (`docker run --link name:alias`) on the default bridge, driven
// by the docker CLI against a private daemon with its own bridge and subnet:
// the linking container's /etc/hosts line and variables, traffic to the
// alias over the bridge, HostConfig.Links in inspect (following a rename),
// the linking container's hosts file updated when the linked one starts
// again, and dockerd's errors (a missing container, host/container network
// modes, a linked container that is stopped or not on the default bridge),
// and `docker rm --link` taking a link away.
// Links on user networks (names in the embedded DNS) are in
// networks.test.ts and compose.test.ts.
//
// JOEY_TEST_ENGINE=dockerd runs the same against dockerd 20.10: the test
// then makes the bridge itself (dockerd takes an existing one with --bridge,
// --iptables=false from the test lib). That is how the expectations below
// were checked.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { removeAllContainers, removeContainersAndNetworks, removeBridgeRules, startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { TEST_ENGINE, type Daemon } from './lib/daemon.ts';
import { pushImage } from './lib/images.ts';
import { run, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

const DOCKERD = TEST_ENGINE === 'dockerd';
const tag = (process.pid % 100000).toString(36);
const BRIDGE = `jl${tag}0`;
let octet = 0; // the default bridge is 10.<octet>.0.0/24
let reg: Registry;
let image: string;
let cd: ContainerDaemon | undefined;
let d: Daemon;

function it(name: string, fn: () => Promise<void>, timeoutMs = 90_000): void {
  test(name, { timeout: timeoutMs }, fn);
}
const dk = (args: string[]): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000 });
const dkOk = (args: string[]): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000 });
const runD = async (args: string[]): Promise<string> => (await dkOk(['run', '-d', ...args])).stdout.trim();
const inspect = async (name: string): Promise<any> => (await d.dockerJson<any[]>(['container', 'inspect', name]))[0];
const ipOf = async (name: string): Promise<string> => (await inspect(name)).NetworkSettings.Networks.bridge.IPAddress;
const HTTPD = (text: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];
/** An HTTP GET of host:80 with nc, retried while the server starts. */
const ncGet = (host: string): string =>
  `i=0; while [ $i -lt 30 ]; do r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 80) && echo "$r" | grep -q '200 OK' && echo "$r" && exit 0; i=$((i+1)); sleep 0.1; done; exit 1`;
/** The lines of a hosts file that are not the fixed localhost/ip6 ones. */
const hostLines = (text: string): string[] => text.split('\n').filter((l) => l && !/^(127\.0\.0\.1|::1|fe00::|ff0[02]::)/.test(l));

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  for (octet = 160 + (process.pid % 40); routes.includes(`10.${octet}.`); octet++);
  const bip = `10.${octet}.0.1/24`;
  if (DOCKERD) {
    // dockerd's --bridge takes an existing bridge (and no --bip with it).
    await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    await run('ip', ['addr', 'add', bip, 'dev', BRIDGE]);
    await run('ip', ['link', 'set', BRIDGE, 'up']);
  }
  cd = await startContainerDaemon(`link-${tag}`, { args: ['--bridge', BRIDGE, ...(DOCKERD ? [] : ['--bip', bip])] });
  d = cd.d;
  await dkOk(['pull', image]);
});

after(async () => {
  if (d) await removeContainersAndNetworks(d);
  await teardownContainerDaemon(cd).catch((e) => console.error(e));
  await run('ip', ['link', 'del', BRIDGE]);
  await removeBridgeRules(BRIDGE);
  await reg?.stop();
});

describe('--link on the default bridge', () => {
  afterEach(() => removeAllContainers(d));

  it('gives the alias in /etc/hosts, the variables, and a way to the linked container', async () => {
    await runD(['--name', 'server', '--expose', '80', '--expose', '53/udp', '-e', 'FOO=bar', '-e', 'SPACE=a b', image, ...HTTPD('from-server')]);
    const s = await inspect('server');
    const ip = s.NetworkSettings.Networks.bridge.IPAddress;
    const id12 = s.Id.slice(0, 12);
    assert.ok(ip.startsWith(`10.${octet}.0.`), ip);
    await runD(['--name', 'client', '--link', 'server:db', '--link', 'server', image, 'sleep', '300']);
    const cip = await ipOf('client');
    const client = await inspect('client');
    // The links' lines before the container's own (joey keeps the links'
    // order; dockerd's varies), alias first; the name is left out where the
    // alias is the name.
    const lines = hostLines((await dkOk(['exec', 'client', 'cat', '/etc/hosts'])).stdout);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.deepEqual(lines.slice(0, 2).sort(), [`${ip}\tdb ${id12} server`, `${ip}\tserver ${id12}`]);
    assert.equal(lines[2], `${cip}\t${client.Id.slice(0, 12)}`);
    // Process 1's environment (an exec's would be built anew).
    const env = (await dkOk(['exec', 'client', 'sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ'])).stdout.split('\n').filter((l) => l.startsWith('DB_'));
    assert.deepEqual(env, [
      `DB_PORT=udp://${ip}:53`, // the lowest port, whatever its protocol
      `DB_PORT_53_UDP=udp://${ip}:53`,
      `DB_PORT_53_UDP_ADDR=${ip}`,
      'DB_PORT_53_UDP_PORT=53',
      'DB_PORT_53_UDP_PROTO=udp',
      `DB_PORT_80_TCP=tcp://${ip}:80`,
      `DB_PORT_80_TCP_ADDR=${ip}`,
      'DB_PORT_80_TCP_PORT=80',
      'DB_PORT_80_TCP_PROTO=tcp',
      'DB_NAME=/client/db',
      ...s.Config.Env.filter((e: string) => !/^(PATH|HOME)=/.test(e)).map((e: string) => `DB_ENV_${e}`),
    ]);
    assert.ok(env.includes('DB_ENV_FOO=bar') && env.includes('DB_ENV_SPACE=a b'), env.join('\n'));
    const execEnv = (await dkOk(['exec', 'client', 'env'])).stdout;
    assert.match(execEnv, /^SERVER_NAME=\/client\/server$/m, 'an exec gets the links\' variables too');
    assert.match(execEnv, new RegExp(`^SERVER_PORT_80_TCP_ADDR=${ip.replace(/\./g, '\\.')}$`, 'm'));
    // The alias resolves through /etc/hosts and reaches the server over the bridge.
    const got = await dk(['exec', 'client', 'sh', '-c', ncGet('db')]);
    assert.match(got.stdout, /from-server/, d.diagnose(got));
    assert.match((await dkOk(['exec', 'client', 'ping', '-c', '1', '-W', '2', 'server'])).stdout, new RegExp(`\\(${ip.replace(/\./g, '\\.')}\\)`));
    // As dockerd shows them; the linked container shows none.
    assert.deepEqual(client.HostConfig.Links, ['/server:/client/db', '/server:/client/server']);
    assert.equal(s.HostConfig.Links, null);
  });

  it('puts a hostname, the container\'s own variables and --add-host where dockerd does', async () => {
    await runD(['--name', 'named', '--hostname', 'dbhost', '--expose', '6379', '-e', 'PATH=/bin', '-e', 'HOME=/root', '-e', 'REDIS=1', image, 'sleep', '300']);
    const ip = await ipOf('named');
    await runD(['--name', 'own', '--add-host', 'extra:192.0.2.9', '--link', 'named:my-db', '-e', 'MY_DB_NAME=mine', '-e', 'MY_DB_ENV_REDIS=2', image, 'sleep', '300']);
    const hosts = (await dkOk(['exec', 'own', 'cat', '/etc/hosts'])).stdout;
    const envText = (await dkOk(['exec', 'own', 'sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ'])).stdout;
    const lines = hostLines(hosts);
    assert.deepEqual(lines.slice(0, 2), ['192.0.2.9\textra', `${ip}\tmy-db dbhost named`], hosts);
    const env = envText.split('\n').filter((l) => l.startsWith('MY_DB'));
    // '-' becomes '_'; the container's own values win, in the links' places; no PATH or HOME.
    assert.deepEqual(env, [
      `MY_DB_PORT=tcp://${ip}:6379`,
      `MY_DB_PORT_6379_TCP=tcp://${ip}:6379`,
      `MY_DB_PORT_6379_TCP_ADDR=${ip}`,
      'MY_DB_PORT_6379_TCP_PORT=6379',
      'MY_DB_PORT_6379_TCP_PROTO=tcp',
      'MY_DB_NAME=mine',
      'MY_DB_ENV_REDIS=2',
    ], envText);
  });

  it('moves the alias in the linking container\'s /etc/hosts when the linked one starts again', async () => {
    await runD(['--name', 'p1', image, 'sleep', '300']);
    const before = await ipOf('p1');
    await runD(['--name', 'c1', '--link', 'p1:db', image, 'sleep', '300']);
    await dkOk(['stop', '-t', '0', 'p1']);
    // Stopped: the line stays as it was. (Read from the host: dockerd refuses
    // an exec into c1 while p1 is down; joey runs it without p1's variables.)
    const hostsPath = (await inspect('c1')).HostsPath;
    assert.ok(hostLines(await readFile(hostsPath, 'utf8')).includes(`${before}\tdb ${(await inspect('p1')).Id.slice(0, 12)} p1`));
    await runD(['--name', 'filler', image, 'sleep', '300']); // takes p1's address
    await dkOk(['start', 'p1']);
    const now = await ipOf('p1');
    assert.notEqual(now, before);
    const hosts = hostLines((await dkOk(['exec', 'c1', 'cat', '/etc/hosts'])).stdout);
    assert.equal(hosts.filter((l) => /\tdb /.test(l)).length, 1, hosts.join('\n'));
    assert.ok(hosts.includes(`${now}\tdb ${(await inspect('p1')).Id.slice(0, 12)} p1`), hosts.join('\n'));
  });

  it('follows renames in HostConfig.Links', async () => {
    await runD(['--name', 's2', image, 'sleep', '300']);
    await dkOk(['create', '--name', 'c2', '--link', 's2:db', image, 'cat', '/etc/hosts']);
    assert.deepEqual((await inspect('c2')).HostConfig.Links, ['/s2:/c2/db']);
    await dkOk(['rename', 's2', 's2b']);
    await dkOk(['rename', 'c2', 'c2b']);
    assert.deepEqual((await inspect('c2b')).HostConfig.Links, ['/s2b:/c2b/db']);
    const r = await dkOk(['start', '-a', 'c2b']);
    assert.match(r.stdout, /\tdb [0-9a-f]{12} s2b$/m);
  });

  it('refuses what dockerd refuses, with its words', async () => {
    // A missing container: 400, not 404 (the CLI would take a 404 for a missing image).
    let r = await dk(['create', '--link', 'nope:db', image, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /could not get container for nope: No such container: nope/);
    const api = await d.api('POST', '/containers/create', { Image: image, HostConfig: { Links: ['nope:db'] } });
    assert.equal(api.status, 400, api.text);
    r = await dk(['create', '--network', 'host', '--link', 'nope:db', image, 'true']);
    assert.match(r.stderr, /conflicting options: host type networking can't be used with links/);
    await runD(['--name', 'up', image, 'sleep', '300']);
    r = await dk(['create', '--network', 'container:up', '--link', 'up:db', image, 'true']);
    assert.match(r.stderr, /conflicting options: container type network can't be used with links/);
    r = await dk(['create', '--network', 'none', '--link', 'nope:db', image, 'true']);
    assert.match(r.stderr, /could not get container for nope/);
    assert.deepEqual((await dkOk(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean), ['up'], 'nothing made');

    // At start: the linked container must run…
    await dkOk(['create', '--name', 'down', image, 'true']);
    await dkOk(['create', '--name', 'c3', '--link', 'down:db', image, 'true']);
    r = await dk(['start', 'c3']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Cannot link to a non running container: \/down AS \/c3\/db/);
    const st = (await inspect('c3')).State;
    assert.equal(st.Status, 'created');
    assert.equal(st.ExitCode, 128);
    assert.equal(st.Error, 'Cannot link to a non running container: /down AS /c3/db');
    assert.equal((await inspect('c3')).NetworkSettings.Networks.bridge.IPAddress, '', 'no address held');
    // …and be on the default bridge.
    await dkOk(['network', 'create', `lnk${tag}`]);
    await runD(['--name', 'elsewhere', '--network', `lnk${tag}`, image, 'sleep', '300']);
    r = await dk(['run', '--rm', '--link', 'elsewhere:e', image, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Cannot link to \/elsewhere, as it does not belong to the default network/);
    // With --network none the links are kept and not looked at.
    await dkOk(['create', '--name', 'c4', '--network', 'none', '--link', 'down:db', image, 'sh', '-c', 'env; cat /etc/hosts']);
    assert.deepEqual((await inspect('c4')).HostConfig.Links, ['/down:/c4/db']);
    r = await dkOk(['start', '-a', 'c4']);
    assert.doesNotMatch(r.stdout, /DB_|\tdb/);
    await removeAllContainers(d);
    await dkOk(['network', 'rm', `lnk${tag}`]);
  });

  it('docker rm --link removes the link, not a container', async () => {
    await runD(['--name', 'server', image, 'sleep', '300']);
    await runD(['--name', 'client', '--link', 'server:db', '--link', 'server', image, 'sleep', '300']);
    const sid12 = (await inspect('server')).Id.slice(0, 12);
    let r = await dk(['rm', '--link', '/client/db']);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.equal(r.stdout, '/client/db\n');
    assert.deepEqual((await inspect('client')).HostConfig.Links, ['/server:/client/server']);
    // The running container's hosts file loses the line at once.
    let hosts = hostLines((await dkOk(['exec', 'client', 'cat', '/etc/hosts'])).stdout);
    assert.ok(!hosts.some((l) => /\tdb /.test(l)), hosts.join('\n'));
    assert.ok(hosts.some((l) => l.endsWith(`\tserver ${sid12}`)), hosts.join('\n'));
    assert.deepEqual((await dkOk(['ps', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort(), ['client', 'server'], 'both still run');
    // dockerd's answers: a container's own name is refused (500), a link
    // that is not there is no such container (404).
    r = await dk(['rm', '--link', 'server']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Conflict, cannot remove the default link name of the container/);
    let api = await d.api('DELETE', '/containers/client?link=1');
    assert.equal(api.status, 500, api.text);
    r = await dk(['rm', '--link', '/client/nope']);
    assert.match(r.stderr, /No such container: client\/nope/);
    api = await d.api('DELETE', '/containers/nope/db?link=1');
    assert.equal(api.status, 404, api.text);
    api = await d.api('DELETE', '/containers/client/server?link=1');
    assert.equal(api.status, 204, api.text);
    // (While it exists, dockerd also takes a link's name as a name of the
    // linked container; joey does not.)
    api = await d.api('DELETE', '/containers/client/server');
    assert.equal(api.status, 404, api.text);
    assert.match(api.text, /No such container: client\/server/);
    assert.equal((await inspect('client')).HostConfig.Links, null);
    await dkOk(['restart', '-t', '0', 'client']);
    hosts = hostLines((await dkOk(['exec', 'client', 'cat', '/etc/hosts'])).stdout);
    assert.equal(hosts.length, 1, hosts.join('\n'));
    // A container that is not running: only its HostConfig changes.
    await dkOk(['create', '--name', 'c2', '--link', 'server:db', image, 'true']);
    r = await dk(['rm', '--link', 'c2/db']);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.equal((await inspect('c2')).HostConfig.Links, null);
    assert.equal((await dkOk(['start', '-a', 'c2'])).code, 0);
  });

  it('keeps links on a user network as names in its DNS (HostConfig.Links null)', async () => {
    await dkOk(['network', 'create', `usr${tag}`]);
    try {
      await runD(['--name', 'us', '--network', `usr${tag}`, image, 'sleep', '300']);
      await runD(['--name', 'uc', '--network', `usr${tag}`, '--link', 'us:alias1', image, 'sleep', '300']);
      const c = await inspect('uc');
      assert.equal(c.HostConfig.Links, null);
      assert.deepEqual(c.NetworkSettings.Networks[`usr${tag}`].Links, ['us:alias1']);
      const hosts = hostLines((await dkOk(['exec', 'uc', 'cat', '/etc/hosts'])).stdout);
      assert.ok(!hosts.some((l) => l.includes('alias1')), 'no hosts line on a user network');
      assert.doesNotMatch((await dkOk(['exec', 'uc', 'env'])).stdout, /ALIAS1_/);
    } finally {
      await removeAllContainers(d);
      await dk(['network', 'rm', `usr${tag}`]);
    }
  });
});
