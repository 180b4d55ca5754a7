// IPv6 (dual-stack) bridge networks, driven by the docker CLI against a
// private joeyd whose default bridge is dual-stack too (--ipv6
// --fixed-cidr-v6): addresses from the subnets, what inspect shows, ping6 and
// AAAA names between neighbours, --ip6, refusals, isolation between networks
// over IPv6, a published port reached over IPv6; IPv6 subnets from
// default-address-pools and from a second daemon's own ULA /48; IPv6-only
// networks (API 1.47 EnableIPv4: false): no IPv4 anywhere, DNS on the IPv6
// gateway, ports through ip6tables; and after the networks and the daemons
// are gone, nothing of theirs in ip6tables, no bridge, no netns.
// Every address is a ULA prefix of this run's own (never fd00::/64, the
// host's), and the traffic stays in the bridges and namespaces made here.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeContainersAndNetworks, removeBridgeRules, startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { JOEYD_BIN, type Daemon } from './lib/daemon.ts';
import { pushImage } from './lib/images.ts';
import { run, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

let reg: Registry;
let image: string;
let cd: ContainerDaemon;
let d: Daemon;

const tag = (process.pid % 100000).toString(36);
const BRIDGE = `j6${tag}0`;
/** This run's ULA prefix: fd6a:<pid>:<n>::/64 per network. */
const P = `fd6a:${(process.pid % 0xffff).toString(16)}`;
let octet = 0;
/** The main daemon's default-address-pools IPv6 entry: two /64s. */
const POOL = `${P}:e0::/63`;
const made: string[] = []; // the user networks' bridges, checked gone at the end

const dk = (args: string[]): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000 });
const dkOk = (args: string[]): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000 });
const runD = async (args: string[]): Promise<string> => (await dkOk(['run', '-d', ...args])).stdout.trim();
const inspect = async (name: string): Promise<any> => (await d.dockerJson<any[]>(['container', 'inspect', name]))[0];
const execOut = (name: string, cmd: string): Promise<CmdResult> => dk(['exec', name, 'sh', '-c', cmd]);
const HTTPD = (text: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

/** Lines of ip6tables-save (and iptables-save) that name this daemon's bridges or prefixes. */
async function ruleLines(): Promise<string[]> {
  const out: string[] = [];
  for (const bin of ['ip6tables-save', 'iptables-save']) {
    for (const l of (await run(bin, [])).stdout.split('\n')) {
      if (l.startsWith('#')) continue;
      if (l.includes(P) || l.includes(`joey ${BRIDGE} `) || l.includes(`joey-${BRIDGE}"`) || made.some((b) => l.includes(`joey ${b} `) || l.includes(`joey-${b}"`))) out.push(`${bin}: ${l}`);
    }
  }
  return out;
}

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  for (octet = 160 + (process.pid % 30); routes.includes(`10.${octet}.`); octet++);
  // Its IPv6 pool holds two /64s: networks without an IPv6 subnet get them, a third finds none.
  cd = await startContainerDaemon(`v6-${tag}`, {
    args: ['--bridge', BRIDGE, '--bip', `10.${octet}.0.1/24`, '--ipv6', '--fixed-cidr-v6', `${P}:ff::/64`],
    config: { 'default-address-pools': [{ base: POOL, size: 64 }] },
  });
  d = cd.d;
  await d.dockerOk(['pull', image], { timeoutMs: 60_000 });
});

after(async () => {
  if (d) await removeContainersAndNetworks(d);
  const execRoot = d?.execRoot;
  await teardownContainerDaemon(cd).catch((e) => console.error(e));
  // With its networks and containers gone, the daemon's exit took the default bridge's rules too, in both tables.
  const left = await ruleLines();
  const links = (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
  const netns = execRoot ? await readdir(join(execRoot, 'netns')).catch(() => [] as string[]) : [];
  await run('ip', ['link', 'del', BRIDGE]); // the default bridge outlives a daemon, as docker0 does
  await removeBridgeRules(BRIDGE);
  await reg?.stop();
  assert.deepEqual(left, [], 'ip6tables/iptables rules left after the daemon and its networks went');
  assert.deepEqual(links.filter((l) => made.includes(l)), [], 'a network bridge was left');
  assert.deepEqual(netns, [], 'netns files left');
});

describe('dual-stack networks', () => {
  test('two containers: addresses from both subnets, inspect, ping6, AAAA by name and alias, /etc/hosts, --ip6', { timeout: 120_000 }, async () => {
    const sub6 = `${P}:1::/64`;
    await dkOk(['network', 'create', '--ipv6', '--subnet', `10.${octet}.30.0/24`, '--subnet', sub6, 'dual']);
    const [n] = await d.dockerJson<any[]>(['network', 'inspect', 'dual']);
    made.push(`jbr-${n.Id.slice(0, 11)}`);
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: `10.${octet}.30.0/24`, Gateway: `10.${octet}.30.1` }, { Subnet: sub6, Gateway: `${P}:1::1` }]);

    await runD(['--name', 'a6', '--network', 'dual', '--network-alias', 'alpha', '--ip6', `${P}:1::99`, image, ...HTTPD('a6')]);
    await runD(['--name', 'b6', '--network', 'dual', image, 'sleep', '300']);
    const a = (await inspect('a6')).NetworkSettings.Networks.dual;
    const bFull = await inspect('b6');
    const b = bFull.NetworkSettings.Networks.dual;
    assert.equal(a.GlobalIPv6Address, `${P}:1::99`);
    assert.deepEqual(a.IPAMConfig, { IPv6Address: `${P}:1::99` });
    assert.ok(b.GlobalIPv6Address.startsWith(`${P}:1::`) && b.GlobalIPv6Address !== a.GlobalIPv6Address, JSON.stringify(b));
    assert.equal(b.GlobalIPv6PrefixLen, 64);
    assert.equal(b.IPv6Gateway, `${P}:1::1`);
    assert.ok(b.IPAddress.startsWith(`10.${octet}.30.`), 'IPv4 as before');
    assert.match(b.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(bFull.NetworkSettings.GlobalIPv6Address, '', 'top-level fields are the default bridge\'s only');
    const [withC] = await d.dockerJson<any[]>(['network', 'inspect', 'dual']);
    assert.equal(withC.Containers[bFull.Id].IPv6Address, `${b.GlobalIPv6Address}/64`);
    assert.match((await execOut('b6', 'ip -6 -o addr show eth0')).stdout, new RegExp(`${b.GlobalIPv6Address}/64`));

    // Neighbours over IPv6, by address and by name (the embedded DNS answers AAAA).
    const ping = await execOut('b6', `ping6 -c 1 -W 3 ${P}:1::99`);
    assert.equal(ping.code, 0, d.diagnose(ping));
    for (const name of ['a6', 'alpha']) {
      const r = await execOut('b6', `nslookup -type=AAAA ${name}`);
      assert.match(r.stdout, new RegExp(`${P}:1::99`), `${name}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout.split('Name:')[1] ?? '', new RegExp(`10\\.${octet}\\.30\\.`), 'only AAAA records for an AAAA query');
    }
    const r4 = await execOut('b6', 'nslookup -type=A a6');
    assert.match(r4.stdout, new RegExp(a.IPAddress.replace(/\./g, '\\.')));
    assert.match((await execOut('b6', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${P}:1::99 80`)).stdout, /a6/);
    // /etc/hosts: the IPv6 line after the IPv4 one, as dockerd writes them.
    const hosts = (await execOut('b6', 'cat /etc/hosts')).stdout;
    const host = bFull.Config.Hostname;
    assert.match(hosts, new RegExp(`${b.IPAddress.replace(/\./g, '\\.')}\\t${host}\\n${b.GlobalIPv6Address}\\t${host}\\n`), hosts);

    // --ip6: an address in use, outside the subnet, not an address, on the default bridge.
    const used = await dk(['run', '--rm', '--network', 'dual', '--ip6', `${P}:1::99`, image, 'true']);
    assert.notEqual(used.code, 0);
    const outside = await dk(['create', '--network', 'dual', '--ip6', `${P}:7::5`, image, 'true']);
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, new RegExp(`Invalid address ${P}:7::5: It does not belong to any of this network's subnets`));
    const garbage = await dk(['create', '--network', 'dual', '--ip6', 'fd6a::zz', image, 'true']);
    assert.notEqual(garbage.code, 0);
    assert.match(garbage.stderr, /invalid IPv6 address: fd6a::zz/);
    const api = await d.api('POST', '/containers/create', { Image: image, NetworkingConfig: { EndpointsConfig: { dual: { IPAMConfig: { IPv6Address: `${P}:7::5` } } } } });
    assert.equal(api.status, 400, api.text);
    // A client whose DNS is an IPv4-only network's, where the name is known
    // but has no IPv6 address, still gets the AAAA from the dual-stack network.
    await dkOk(['network', 'create', '--subnet', `10.${octet}.31.0/24`, 'v4only']);
    const [v4] = await d.dockerJson<any[]>(['network', 'inspect', 'v4only']);
    made.push(`jbr-${v4.Id.slice(0, 11)}`);
    await dkOk(['network', 'connect', 'v4only', 'a6']);
    await runD(['--name', 'c6', '--network', 'v4only', image, 'sleep', '300']);
    await dkOk(['network', 'connect', 'dual', 'c6']);
    const across = await execOut('c6', 'nslookup -type=AAAA a6');
    assert.match(across.stdout, new RegExp(`${P}:1::99`), `AAAA across networks: ${across.stdout}${across.stderr}`);
    await dkOk(['rm', '-f', 'a6', 'b6', 'c6']);
    await dkOk(['network', 'rm', 'dual', 'v4only']);
  });

  test('network create refuses overlapping and bad IPv6 subnets and gateways', { timeout: 60_000 }, async () => {
    await dkOk(['network', 'create', '--ipv6', '--subnet', `${P}:3::/64`, 'first']);
    made.push(`jbr-${(await d.dockerJson<any[]>(['network', 'inspect', 'first']))[0].Id.slice(0, 11)}`);
    const overlap = await dk(['network', 'create', '--ipv6', '--subnet', `${P}:3:0:1::/80`, 'second']);
    assert.notEqual(overlap.code, 0);
    assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
    const bad = await d.api('POST', '/networks/create', { Name: 'bad', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd6a:zz::/64' }] } });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /fd6a:zz::\/64/);
    const gw = await d.api('POST', '/networks/create', { Name: 'gw', EnableIPv6: true, IPAM: { Config: [{ Subnet: `${P}:4::/64`, Gateway: `${P}:5::1` }] } });
    assert.equal(gw.status, 400);
    assert.match(gw.text, new RegExp(`invalid gateway ${P}:5::1`));
    // An IPv6 subnet without --ipv6 is kept (as dockerd keeps it) and unused.
    await dkOk(['network', 'create', '--subnet', `${P}:6::/64`, 'v6off']);
    const [off] = await d.dockerJson<any[]>(['network', 'inspect', 'v6off']);
    made.push(`jbr-${off.Id.slice(0, 11)}`);
    assert.equal(off.EnableIPv6, false);
    assert.equal(off.IPAM.Config[1].Subnet, `${P}:6::/64`);
    await runD(['--name', 'off', '--network', 'v6off', image, 'sleep', '300']);
    assert.equal((await inspect('off')).NetworkSettings.Networks.v6off.GlobalIPv6Address, '');
    await dkOk(['rm', '-f', 'off']);
    await dkOk(['network', 'rm', 'first', 'v6off']);
  });

  test('the daemon refuses to start with a --fixed-cidr-v6 that overlaps a network\'s IPv6 subnet, naming both', { timeout: 90_000 }, async () => {
    await dkOk(['network', 'create', '--ipv6', '--subnet', `${P}:d::/64`, 'clash']);
    const [n] = await d.dockerJson<any[]>(['network', 'inspect', 'clash']);
    made.push(`jbr-${n.Id.slice(0, 11)}`);
    await d.stop();
    try {
      // The same daemon (dirs, bridge) with the default bridge moved onto the network's subnet.
      const r = await run(process.execPath, [
        JOEYD_BIN, '--data-root', d.dataRoot, '--exec-root', d.execRoot, '-H', d.host, '--pidfile', d.pidfile, '--config-file', join(d.dir, 'daemon.json'),
        '--bridge', BRIDGE, '--bip', `10.${octet}.0.1/24`, '--ipv6', '--fixed-cidr-v6', `${P}:d::/80`,
      ], { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`--fixed-cidr-v6 ${P}:d::/80 overlaps the IPv6 subnet ${P}:d::/64 of network \\\\?"clash\\\\?"`), r.stderr);
    } finally {
      await d.restart();
    }
    // Started again as it was: the default bridge kept its own subnet.
    const [bridge] = await d.dockerJson<any[]>(['network', 'inspect', 'bridge']);
    assert.equal(bridge.IPAM.Config.find((c: { Subnet: string }) => c.Subnet.includes(':'))?.Subnet, `${P}:ff::/64`);
    await dkOk(['network', 'rm', 'clash']);
  });

  test('isolation over IPv6: another network cannot reach in by address; a published port answers over IPv6', { timeout: 120_000 }, async () => {
    await dkOk(['network', 'create', '--ipv6', '--subnet', `${P}:8::/64`, 'left']);
    await dkOk(['network', 'create', '--ipv6', '--subnet', `${P}:9::/64`, 'right']);
    for (const name of ['left', 'right']) made.push(`jbr-${(await d.dockerJson<any[]>(['network', 'inspect', name]))[0].Id.slice(0, 11)}`);
    const port = 21000 + (process.pid % 4000) * 2;
    await runD(['--name', 'target', '--network', 'left', '-p', `${port}:80`, image, ...HTTPD('target')]);
    await runD(['--name', 'prober', '--network', 'right', image, 'sleep', '300']);
    const target = (await inspect('target')).NetworkSettings.Networks.left.GlobalIPv6Address as string;
    // The host routes IPv6 (the bridge plugin turns forwarding on, as dockerd
    // does): without the isolation rules the packets would get through.
    assert.equal((await run('sysctl', ['-n', 'net.ipv6.conf.all.forwarding'])).stdout.trim(), '1');
    assert.equal((await execOut('prober', `ping6 -c 1 -W 3 ${P}:9::1`)).code, 0, 'its own gateway answers');
    assert.notEqual((await execOut('prober', `ping6 -c 1 -W 2 ${target}`)).code, 0, 'right reached left over IPv6');
    assert.notEqual((await execOut('prober', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${target} 80`)).stdout.includes('target'), true);
    // The default bridge (dual-stack here) is isolated too, and shows its IPv6 fields at the top level.
    await runD(['--name', 'onbridge', image, 'sleep', '300']);
    const ob = (await inspect('onbridge')).NetworkSettings;
    assert.ok(ob.GlobalIPv6Address.startsWith(`${P}:ff::`), JSON.stringify(ob));
    assert.equal(ob.IPv6Gateway, `${P}:ff::1`);
    assert.equal(ob.Networks.bridge.GlobalIPv6Address, ob.GlobalIPv6Address);
    assert.notEqual((await execOut('onbridge', `ping6 -c 1 -W 2 ${target}`)).code, 0, 'the default bridge reached left over IPv6');
    // Published: IPv4 as ever, and IPv6 through a host address (the right network's gateway).
    const get = (url: string): Promise<CmdResult> => run('curl', ['-s', '-g', '-m', '3', '--retry', '10', '--retry-connrefused', '--retry-delay', '0', url]);
    assert.equal((await get(`http://127.0.0.1:${port}/`)).stdout.trim(), 'target');
    assert.equal((await get(`http://[${P}:9::1]:${port}/`)).stdout.trim(), 'target');
    await dkOk(['rm', '-f', 'target', 'prober', 'onbridge']);
    await dkOk(['network', 'rm', 'left', 'right']);
    // The networks' ip6tables chains went with them; only the default bridge's stay while the daemon runs.
    const left = (await ruleLines()).filter((l) => !l.includes(`joey ${BRIDGE} `));
    assert.deepEqual(left, []);
  });

  test('docker-compose 1.29: enable_ipv6 with an IPv6 ipam subnet (file format 2.4)', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'joey-it-v6compose-'));
    const project = `v6c${tag}`;
    const compose = (args: string[]): Promise<CmdResult> => run('docker-compose', ['--ansi', 'never', ...args], { cwd: dir, timeoutMs: 120_000, env: d.clientEnv({ COMPOSE_PROJECT_NAME: project, PATH: process.env.PATH }) });
    try {
      await writeFile(join(dir, 'docker-compose.yml'), [
        "version: '2.4'",
        'services:',
        '  web:',
        `    image: ${image}`,
        '    command: ["sleep", "300"]',
        '    networks:',
        '      net6:',
        `        ipv6_address: ${P}:c::10`,
        'networks:',
        '  net6:',
        '    enable_ipv6: true',
        '    ipam:',
        '      config:',
        `        - subnet: 10.${octet}.40.0/24`,
        `        - subnet: ${P}:c::/64`,
        '',
      ].join('\n'));
      const up = await compose(['up', '-d']);
      assert.equal(up.code, 0, d.diagnose(up));
      const [n] = await d.dockerJson<any[]>(['network', 'inspect', `${project}_net6`]);
      made.push(`jbr-${n.Id.slice(0, 11)}`);
      assert.equal(n.EnableIPv6, true);
      const web = (await inspect(`${project}_web_1`)).NetworkSettings.Networks[`${project}_net6`];
      assert.equal(web.GlobalIPv6Address, `${P}:c::10`);
      // up again: the network is reused, not refused as different
      const again = await compose(['up', '-d']);
      assert.equal(again.code, 0, d.diagnose(again));
    } finally {
      const down = await compose(['down']);
      await rm(dir, { recursive: true, force: true });
      assert.equal(down.code, 0, d.diagnose(down));
    }
  });
});

/** The eight 16-bit groups of an IPv6 address in canonical text. */
function groups(addr: string): number[] {
  const [l = '', r = ''] = addr.split('::');
  const left = l ? l.split(':') : [];
  const right = addr.includes('::') && r ? r.split(':') : [];
  return [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right].map((g) => parseInt(g, 16));
}
const v6Config = (n: any): { Subnet: string; Gateway: string } => n.IPAM.Config.find((c: { Subnet: string }) => c.Subnet.includes(':'));
/** A GET from inside a container with busybox nc, retried while the server starts. */
const ncGet = (host: string, port = 80): string =>
  `i=0; while [ $i -lt 30 ]; do out=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port}) && case "$out" in *'200 OK'*) echo "$out"; exit 0;; esac; i=$((i+1)); sleep 0.1; done; exit 1`;

describe('IPv6 subnets that nobody picked', () => {
  test('from default-address-pools: its /64s in order with the ::1 gateway, then a clear error when none is left', { timeout: 120_000 }, async () => {
    const create = (name: string, third: number): Promise<CmdResult> => dk(['network', 'create', '--ipv6', '--subnet', `10.${octet}.${third}.0/24`, name]);
    const made1 = async (name: string): Promise<any> => {
      const [n] = await d.dockerJson<any[]>(['network', 'inspect', name]);
      made.push(`jbr-${n.Id.slice(0, 11)}`);
      return n;
    };
    const info = await dkOk(['info', '--format', '{{json .DefaultAddressPools}}']);
    assert.deepEqual(JSON.parse(info.stdout), [{ Base: POOL, Size: 64 }]);
    assert.equal((await create('pool1', 50)).code, 0);
    assert.equal((await create('pool2', 51)).code, 0);
    const [n1, n2] = [await made1('pool1'), await made1('pool2')];
    assert.deepEqual(n1.IPAM.Config, [{ Subnet: `10.${octet}.50.0/24`, Gateway: `10.${octet}.50.1` }, { Subnet: `${P}:e0::/64`, Gateway: `${P}:e0::1` }]);
    assert.deepEqual(v6Config(n2), { Subnet: `${P}:e0:1::/64`, Gateway: `${P}:e0:1::1` });
    assert.equal(n2.EnableIPv6, true);
    await runD(['--name', 'p1', '--network', 'pool1', image, 'sleep', '300']);
    const p1 = (await inspect('p1')).NetworkSettings.Networks.pool1;
    assert.ok(p1.GlobalIPv6Address.startsWith(`${P}:e0::`) && p1.GlobalIPv6PrefixLen === 64, JSON.stringify(p1));
    assert.equal((await execOut('p1', `ping6 -c 1 -W 3 ${P}:e0::1`)).code, 0, 'the allocated gateway answers');
    // The pool holds two: a third network gets none, and nothing of it is made.
    const full = await create('pool3', 52);
    assert.notEqual(full.code, 0);
    assert.match(full.stderr, /could not find an available, non-overlapping IPv6 address pool/);
    // dockerd's IPAM says it with NotFound: a 404.
    const fullApi = await d.api('POST', '/networks/create', { Name: 'pool3', EnableIPv6: true, IPAM: { Config: [{ Subnet: `10.${octet}.52.0/24` }] } });
    assert.equal(fullApi.status, 404, fullApi.text);
    assert.notEqual((await dk(['network', 'inspect', 'pool3'])).code, 0);
    // A removed network's /64 is free again.
    await dkOk(['rm', '-f', 'p1']);
    await dkOk(['network', 'rm', 'pool1']);
    assert.equal((await create('pool3', 52)).code, 0);
    assert.equal(v6Config(await made1('pool3')).Subnet, `${P}:e0::/64`);
    await dkOk(['network', 'rm', 'pool2', 'pool3']);
  });

  test('without an IPv6 pool: /64s of a ULA /48 of the daemon\'s own (fd + 40 random bits), kept across a restart', { timeout: 120_000 }, async () => {
    const cd2 = await startContainerDaemon(`v6u-${tag}`, { args: ['--bip', `10.${octet}.2.1/24`] });
    try {
      const d2 = cd2.d;
      const make = async (name: string, third: number): Promise<{ Subnet: string; Gateway: string }> => {
        await d2.dockerOk(['network', 'create', '--ipv6', '--subnet', `10.${octet}.${third}.0/24`, name]);
        const [n] = await d2.dockerJson<any[]>(['network', 'inspect', name]);
        made.push(`jbr-${n.Id.slice(0, 11)}`);
        return v6Config(n);
      };
      const a = await make('ula1', 60);
      const b = await make('ula2', 61);
      for (const c of [a, b]) {
        assert.match(c.Subnet, /^fd[0-9a-f]{2}:[0-9a-f:]+\/64$/, c.Subnet);
        assert.deepEqual(groups(c.Gateway), [...groups(c.Subnet.split('/')[0]!).slice(0, 7), 1], `${c.Gateway} is the subnet's ::1`);
      }
      assert.notEqual(a.Subnet, b.Subnet);
      const g48 = (c: { Subnet: string }): number[] => groups(c.Subnet.split('/')[0]!).slice(0, 3);
      assert.deepEqual(g48(a), g48(b), 'one /48 per daemon');
      assert.notDeepEqual(g48(a), groups(`${P}::`).slice(0, 3));
      await d2.restart();
      const c = await make('ula3', 62);
      assert.deepEqual(g48(c), g48(a), 'the global ID is kept across a restart');
      assert.ok(c.Subnet !== a.Subnet && c.Subnet !== b.Subnet);
      await d2.dockerOk(['network', 'rm', 'ula1', 'ula2', 'ula3']);
    } finally {
      await teardownContainerDaemon(cd2);
    }
  });

  test('malformed default-address-pools stop joeyd, naming the setting', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'joey-it-v6pool-'));
    try {
      const cfg = join(dir, 'daemon.json');
      await writeFile(cfg, JSON.stringify({ 'default-address-pools': [{ base: `${P}:e0::/48`, size: 32 }] }));
      const r = await run(process.execPath, [JOEYD_BIN, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${join(dir, 's.sock')}`, '--pidfile', join(dir, 'pid'), '--config-file', cfg, '--bridge', 'none'], { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /invalid default-address-pools entry .*"size" must be between the base's prefix length \(48\) and 126/, r.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('IPv6-only networks (API 1.47 EnableIPv4: false)', () => {
  test('refused without EnableIPv6 or with an IPv4 subnet; ignored before API 1.47', { timeout: 60_000 }, async () => {
    const neither = await d.api('POST', '/v1.47/networks/create', { Name: 'neither', EnableIPv4: false });
    assert.equal(neither.status, 400, neither.text);
    assert.match(neither.text, /EnableIPv4 is false, so EnableIPv6 must be true/);
    const v4 = await d.api('POST', '/v1.47/networks/create', { Name: 'v4sub', EnableIPv4: false, EnableIPv6: true, IPAM: { Config: [{ Subnet: `10.${octet}.70.0/24` }, { Subnet: `${P}:21::/64` }] } });
    assert.equal(v4.status, 400, v4.text);
    assert.match(v4.text, new RegExp(`IPv4 subnet.*10\\.${octet}\\.70\\.0/24.*needs EnableIPv4`));
    const old = await d.api('POST', '/v1.44/networks/create', { Name: 'oldapi', EnableIPv4: false, IPAM: { Config: [{ Subnet: `10.${octet}.71.0/24` }] } });
    assert.equal(old.status, 201, old.text);
    const [n] = await d.dockerJson<any[]>(['network', 'inspect', 'oldapi']);
    made.push(`jbr-${n.Id.slice(0, 11)}`);
    assert.equal(n.EnableIPv4, true);
    assert.equal(n.IPAM.Config[0].Subnet, `10.${octet}.71.0/24`);
    await dkOk(['network', 'rm', 'oldapi']);
    // The docker CLI (28) sends it for --ipv4=false; with no IPv6 subnet the pool gives one.
    await dkOk(['network', 'create', '--ipv4=false', '--ipv6', 'cli6only']);
    const [c] = await d.dockerJson<any[]>(['network', 'inspect', 'cli6only']);
    made.push(`jbr-${c.Id.slice(0, 11)}`);
    assert.equal(c.EnableIPv4, false);
    assert.deepEqual(c.IPAM.Config, [{ Subnet: `${P}:e0::/64`, Gateway: `${P}:e0::1` }]);
    const cliRefused = await dk(['network', 'create', '--ipv4=false', 'cli4off']);
    assert.notEqual(cliRefused.code, 0);
    assert.match(cliRefused.stderr, /EnableIPv4 is false, so EnableIPv6 must be true/);
    await dkOk(['network', 'rm', 'cli6only']);
  });

  test('containers get only IPv6: names over the DNS on the IPv6 gateway, a published port over IPv6 (one bound to an IPv4 address refused), all back after a daemon restart; nothing left after rm', { timeout: 120_000 }, async () => {
    const sub6 = `${P}:20::/64`;
    const gw6 = `${P}:20::1`;
    const created = await d.api('POST', '/v1.47/networks/create', { Name: 'only6', EnableIPv4: false, EnableIPv6: true, IPAM: { Config: [{ Subnet: sub6 }] } });
    assert.equal(created.status, 201, created.text);
    const [n] = await d.dockerJson<any[]>(['network', 'inspect', 'only6']);
    const br = `jbr-${n.Id.slice(0, 11)}`;
    made.push(br);
    assert.equal(n.EnableIPv4, false);
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: sub6, Gateway: gw6 }]);
    const brAddrs = (JSON.parse((await run('ip', ['-j', 'addr', 'show', 'dev', br])).stdout) as Array<{ addr_info: Array<{ family: string; local: string }> }>)[0]!.addr_info;
    assert.deepEqual(brAddrs.filter((a) => a.family === 'inet'), [], 'no IPv4 on the bridge');
    assert.ok(brAddrs.some((a) => a.family === 'inet6' && a.local === gw6), JSON.stringify(brAddrs));

    const port = 21001 + (process.pid % 4000) * 2;
    await runD(['--name', 'srv6', '--network', 'only6', '-p', `${port}:80`, image, ...HTTPD('only6')]);
    await runD(['--name', 'cli6', '--network', 'only6', image, 'sleep', '300']);
    const srv = (await inspect('srv6')).NetworkSettings.Networks.only6;
    assert.equal(srv.IPAddress, '');
    assert.equal(srv.IPPrefixLen, 0);
    assert.equal(srv.Gateway, '');
    assert.ok(srv.GlobalIPv6Address.startsWith(`${P}:20::`), JSON.stringify(srv));
    assert.equal(srv.IPv6Gateway, gw6);
    const [withC] = await d.dockerJson<any[]>(['network', 'inspect', 'only6']);
    const srvId = (await inspect('srv6')).Id;
    assert.equal(withC.Containers[srvId].IPv4Address, '');
    assert.equal(withC.Containers[srvId].IPv6Address, `${srv.GlobalIPv6Address}/64`);

    // eth0: IPv6 (and link-local) only.
    const v4 = await execOut('cli6', 'ip -4 addr show dev eth0');
    assert.equal(v4.code, 0, d.diagnose(v4));
    assert.doesNotMatch(v4.stdout, /inet /);
    const v6 = (await execOut('cli6', 'ip -6 addr show dev eth0')).stdout;
    assert.match(v6, new RegExp(`inet6 ${P}:20::[0-9a-f:]+/64`));
    assert.match(v6, /inet6 fe80::/);
    assert.doesNotMatch((await execOut('cli6', 'ip -4 route')).stdout, /default/);
    // The resolver is the network's IPv6 gateway; it answers AAAA, and A with nothing.
    const resolv = (await execOut('cli6', 'cat /etc/resolv.conf')).stdout;
    assert.match(resolv, new RegExp(`^nameserver ${gw6}$`, 'm'), resolv);
    assert.doesNotMatch(resolv, /^nameserver \d+\./m);
    const aaaa = await execOut('cli6', 'nslookup -type=AAAA srv6');
    assert.match(aaaa.stdout, new RegExp(`Address: ${srv.GlobalIPv6Address}\\b`), `${aaaa.stdout}${aaaa.stderr}`);
    const a = await execOut('cli6', 'nslookup -type=A srv6');
    assert.match(a.stdout, new RegExp(`Server:\\s+${gw6}`), 'the query went to the IPv6 gateway');
    assert.doesNotMatch(a.stdout.split(/Name:/).slice(1).join(''), /Address/, `an A query is answered with no address: ${a.stdout}${a.stderr}`);
    assert.doesNotMatch(`${a.stdout}${a.stderr}`, /NXDOMAIN/, 'the name is known: an empty answer, not NXDOMAIN');
    // By name over IPv6: ping and HTTP.
    assert.equal((await execOut('cli6', 'ping6 -c 1 -W 3 srv6')).code, 0);
    const got = await execOut('cli6', ncGet('srv6'));
    assert.match(got.stdout, /only6/, d.diagnose(got));
    // /etc/hosts names the container by its IPv6 address alone.
    const hosts = (await execOut('cli6', 'cat /etc/hosts')).stdout;
    const host = (await inspect('cli6')).Config.Hostname;
    assert.match(hosts, new RegExp(`\\n${P}:20::[0-9a-f:]+\\t${host}\\n`), hosts);
    assert.doesNotMatch(hosts, new RegExp(`^\\d+\\.\\d+\\.\\d+\\.\\d+\\t${host}$`, 'm'));

    // Published over IPv6 (ip6tables DNAT): from the host, through the network's gateway address.
    const get = await run('curl', ['-s', '-g', '-m', '3', '--retry', '10', '--retry-connrefused', '--retry-delay', '0', `http://[${gw6}]:${port}/`]);
    assert.equal(get.stdout.trim(), 'only6', d.diagnose(get));
    // Shown as bound on IPv6 alone: there is no IPv4 side to reach it on.
    assert.deepEqual((await inspect('srv6')).NetworkSettings.Ports['80/tcp'], [{ HostIp: '::', HostPort: String(port) }]);
    // An IPv4 host address would publish nothing there: the start is refused, naming it.
    const v4bound = await dk(['run', '-d', '--name', 'v4bound', '--network', 'only6', '-p', `127.0.0.1:${port + 1}:80`, image, 'sleep', '300']);
    assert.notEqual(v4bound.code, 0);
    assert.match(v4bound.stderr, /cannot publish port 80\/tcp on 127\.0\.0\.1: network only6 is IPv6-only/, v4bound.stderr);
    assert.equal((await inspect('v4bound')).State.Running, false);
    await dkOk(['rm', '-f', 'v4bound']);
    const nat6 = (await run('ip6tables-save', ['-t', 'nat'])).stdout;
    assert.match(nat6, new RegExp(`--dport ${port}\\b`), 'portmap\'s DNAT is in ip6tables');
    assert.doesNotMatch((await run('iptables-save', ['-t', 'nat'])).stdout, new RegExp(`--dport ${port}\\b`), 'and not in iptables');
    // The network's own rules: ip6tables only, commented with its IPv6 subnet.
    const rules = await ruleLines();
    assert.ok(rules.some((l) => l.startsWith('ip6tables-save') && l.includes(`joey ${br} ${sub6}`)), rules.join('\n'));
    assert.ok(!rules.some((l) => l.startsWith('iptables-save') && l.includes(`joey ${br} `)), rules.join('\n'));

    // Across a daemon restart (the containers live on): the bridge with its IPv6 gateway alone, the DNS on it, the port.
    await d.restart();
    const brAfter = (JSON.parse((await run('ip', ['-j', 'addr', 'show', 'dev', br])).stdout) as Array<{ addr_info: Array<{ family: string; local: string }> }>)[0]!.addr_info;
    assert.deepEqual(brAfter.filter((x) => x.family === 'inet'), []);
    assert.ok(brAfter.some((x) => x.family === 'inet6' && x.local === gw6), JSON.stringify(brAfter));
    const aaaa2 = await execOut('cli6', 'nslookup -type=AAAA srv6');
    assert.match(aaaa2.stdout, new RegExp(`Address: ${srv.GlobalIPv6Address}\\b`), `${aaaa2.stdout}${aaaa2.stderr}`);
    const get2 = await run('curl', ['-s', '-g', '-m', '3', '--retry', '10', '--retry-connrefused', '--retry-delay', '0', `http://[${gw6}]:${port}/`]);
    assert.equal(get2.stdout.trim(), 'only6', d.diagnose(get2));

    await dkOk(['rm', '-f', 'srv6', 'cli6']);
    await dkOk(['network', 'rm', 'only6']);
    const links = (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
    assert.ok(!links.includes(br), 'the bridge went with the network');
    assert.deepEqual((await ruleLines()).filter((l) => l.includes(`joey ${br} `) || l.includes(`${P}:20:`) || new RegExp(`--dport (${port}|${port + 1})\\b`).test(l)), []);
    assert.doesNotMatch((await run('ip6tables-save', ['-t', 'nat'])).stdout, new RegExp(`--dport ${port}\\b`), 'no DNAT left');
  });
});
