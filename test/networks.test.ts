// Networks, driven by the docker CLI against a private joeyd: the default
// bridge (its own name and subnet per daemon), outbound NAT checked against a
// network namespace this test makes as "outside", published ports from the
// host and from other containers, user-defined networks with their embedded
// DNS, connect/disconnect, live restore across a daemon restart; and after
// each group, nothing of the daemon's left: netns files, veths on its
// bridges, bridges, iptables rules.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { removeAllContainers, removeContainersAndNetworks, removeBridgeRules, startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import type { Daemon } from './lib/daemon.ts';
import { pushImage } from './lib/images.ts';
import { makeTempDir, removeDir, run, waitFor, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

let reg: Registry;
let image: string;
let work: string;
let cd: ContainerDaemon;
let d: Daemon;

// Per run: a bridge name and subnets that no other daemon or host route uses.
const tag = (process.pid % 100000).toString(36);
const BRIDGE = `jt${tag}0`;
let octet = 0; // 10.<octet>.x.0
let BIP = '';
let OUTSIDE = { ns: '', hostIp: '', nsIp: '', veth: '' };
let outsideServer: ChildProcess | undefined;

async function hostRoutes(): Promise<string> {
  return (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
}

function it(name: string, fn: () => Promise<void>, timeoutMs = 90_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

const dk = (args: string[]): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000 });
const dkOk = (args: string[]): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000 });
async function runD(args: string[]): Promise<string> {
  return (await dkOk(['run', '-d', ...args])).stdout.trim();
}
async function inspect(name: string): Promise<any> {
  return (await d.dockerJson<any[]>(['container', 'inspect', name]))[0];
}
const execOut = async (name: string, cmd: string): Promise<CmdResult> => dk(['exec', name, 'sh', '-c', cmd]);
const HTTPD = (text: string, port = 80): string[] => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p ${port} -h /www`];

/** GET from the host, retried while the server inside starts. */
async function httpGet(url: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 30; i++) {
    const r = await run('curl', ['-s', '-m', '3', url]);
    if (r.code === 0) return r.stdout.trim();
    last = `curl failed ${r.code}`;
    await new Promise((res) => setTimeout(res, 100));
  }
  return last;
}
/** An HTTP GET from inside a container with nc (this busybox's wget
 * crashes), retried while the server starts. */
const ncGet = (url: string, tries = 30): string => {
  const m = /^http:\/\/([^/:]+)(?::(\d+))?\//.exec(url)!;
  return `i=0; while [ $i -lt ${tries} ]; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${m[1]} ${m[2] ?? 80} | grep -q '200 OK' && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${m[1]} ${m[2] ?? 80} && exit 0; i=$((i+1)); sleep 0.1; done; exit 1`;
};
const wgetIn = (name: string, url: string): Promise<CmdResult> => execOut(name, ncGet(url));

/** What the daemon may leave on the host: netns files, veths on its bridges,
 * its bridges, iptables lines naming its CNI networks or subnets (but for the
 * rules of its networks that still exist: their chains `JOEY-<tag>-*`, each
 * rule commented `joey <bridge> <subnet>`, live as long as the network). */
async function footprint(): Promise<{ netns: string[]; bridges: string[]; veths: string[]; iptables: string[] }> {
  const netns = await readdir(join(d.execRoot, 'netns')).catch(() => [] as string[]);
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string; master?: string }>;
  const ours = (n: string): boolean => n === BRIDGE || n.startsWith('jbr-');
  const mine = new Set((await d.dockerJson<any[]>(['network', 'inspect', ...(await dkOk(['network', 'ls', '-q'])).stdout.split('\n').filter(Boolean)])).map((n) => n.Options?.['com.docker.network.bridge.name'] ?? (n.Driver === 'bridge' ? `jbr-${n.Id.slice(0, 11)}` : undefined)).filter(Boolean));
  const bridges = links.filter((l) => ours(l.ifname) && mine.has(l.ifname)).map((l) => l.ifname);
  const veths = links.filter((l) => l.master && mine.has(l.master)).map((l) => l.ifname);
  const save = (await run('iptables-save', [])).stdout.split('\n');
  const ofLiveNetwork = (l: string): boolean => {
    const m = /--comment "?joey (\S+) /.exec(l);
    return !!m && mine.has(m[1]!);
  };
  const iptables = save.filter((l) => !l.startsWith('#') && (l.includes(`joey-${BRIDGE}"`) || l.includes(`10.${octet}.`)) && !ofLiveNetwork(l));
  return { netns, bridges, veths, iptables };
}

async function assertClean(what: string): Promise<void> {
  await removeAllContainers(d);
  const f = await footprint();
  assert.deepEqual(f.netns, [], `${what}: netns left`);
  assert.deepEqual(f.veths, [], `${what}: veths left`);
  assert.deepEqual(f.iptables, [], `${what}: iptables rules left`);
}

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  work = await makeTempDir();
  const routes = await hostRoutes();
  for (octet = 200 + (process.pid % 40); routes.includes(`10.${octet}.`); octet++);
  BIP = `10.${octet}.0.1/24`;
  // "Outside": a namespace reachable from the host only, with no route back
  // to the containers: replies reach them only if their traffic was NATed.
  OUTSIDE = { ns: join(work, 'outside-ns'), hostIp: `10.${octet}.250.1`, nsIp: `10.${octet}.250.2`, veth: `jto${tag}` };
  await run('touch', [OUTSIDE.ns]);
  await run('unshare', [`--net=${OUTSIDE.ns}`, 'true']);
  await run('ip', ['link', 'add', OUTSIDE.veth, 'type', 'veth', 'peer', 'name', `${OUTSIDE.veth}p`]);
  const nsPid = spawn('nsenter', [`--net=${OUTSIDE.ns}`, 'sleep', '600'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 200));
  await run('ip', ['link', 'set', `${OUTSIDE.veth}p`, 'netns', String(nsPid.pid)]);
  nsPid.kill('SIGKILL');
  await run('ip', ['addr', 'add', `${OUTSIDE.hostIp}/30`, 'dev', OUTSIDE.veth]);
  await run('ip', ['link', 'set', OUTSIDE.veth, 'up']);
  const inNs = (args: string[]) => run('nsenter', [`--net=${OUTSIDE.ns}`, ...args]);
  await inNs(['ip', 'addr', 'add', `${OUTSIDE.nsIp}/30`, 'dev', `${OUTSIDE.veth}p`]);
  await inNs(['ip', 'link', 'set', `${OUTSIDE.veth}p`, 'up']);
  await inNs(['ip', 'link', 'set', 'lo', 'up']);
  await run('mkdir', ['-p', join(work, 'www')]);
  await run('sh', ['-c', `echo outside > ${join(work, 'www/index.html')}`]);
  outsideServer = spawn('nsenter', [`--net=${OUTSIDE.ns}`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', join(work, 'www')], { stdio: 'ignore' });

  cd = await startContainerDaemon(`net-${tag}`, { args: ['--bridge', BRIDGE, '--bip', BIP] });
  d = cd.d;
  await d.dockerOk(['pull', image], { timeoutMs: 60_000 });
});

after(async () => {
  // User networks (and their bridges) outlive a daemon, as Docker's do: remove them first.
  if (d) await removeContainersAndNetworks(d);
  await teardownContainerDaemon(cd).catch((e) => console.error(e));
  // With its networks and containers gone, the daemon's exit took the rules of its default bridge too.
  const left = (await run('iptables-save', [])).stdout.split('\n').filter((l) => !l.startsWith('#') && (l.includes(`joey ${BRIDGE} `) || l.includes(`10.${octet}.`)));
  outsideServer?.kill('SIGKILL');
  await run('ip', ['link', 'del', OUTSIDE.veth]);
  await run('umount', [OUTSIDE.ns]);
  // The daemon's default bridge outlives it (as docker0 does); a test daemon's goes.
  await run('ip', ['link', 'del', BRIDGE]);
  await removeBridgeRules(BRIDGE);
  await reg?.stop();
  if (work) await removeDir(work);
  assert.deepEqual(left, [], 'iptables rules left after the daemon and its networks went');
});

describe('default bridge', () => {
  afterEach(() => assertClean('default bridge'));

  it('gives each container an address in --bip, a gateway and outbound NAT', async () => {
    await runD(['--name', 'na', image, 'sleep', '300']);
    await runD(['--name', 'nb', image, HTTPD('from-b')].flat());
    const a = await inspect('na');
    const b = await inspect('nb');
    const prefix = `10.${octet}.0.`;
    assert.ok(a.NetworkSettings.IPAddress.startsWith(prefix), JSON.stringify(a.NetworkSettings));
    assert.equal(a.NetworkSettings.Gateway, `10.${octet}.0.1`);
    assert.equal(a.NetworkSettings.IPPrefixLen, 24);
    assert.match(a.NetworkSettings.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(a.NetworkSettings.Networks.bridge.IPAddress, a.NetworkSettings.IPAddress);
    assert.notEqual(a.NetworkSettings.IPAddress, b.NetworkSettings.IPAddress);
    const addr = await execOut('na', 'ip -4 -o addr show eth0');
    assert.match(addr.stdout, new RegExp(`${a.NetworkSettings.IPAddress.replace(/\./g, '\\.')}/24`));
    // container → container, and container → outside through NAT
    assert.match((await wgetIn('na', `http://${b.NetworkSettings.IPAddress}/`)).stdout, /from-b/);
    const out = await wgetIn('na', `http://${OUTSIDE.nsIp}:8080/`);
    assert.match(out.stdout, /outside/, d.diagnose(out));
    // No embedded resolver on the default bridge, as in Docker (the host's
    // resolvers; nothing is queried here: tests send no DNS off the machine).
    assert.doesNotMatch((await execOut('na', 'cat /etc/resolv.conf')).stdout, new RegExp(`nameserver 10\\.${octet}\\.`));
    // The network shows the container.
    const [net] = await d.dockerJson<any[]>(['network', 'inspect', 'bridge']);
    assert.equal(net.IPAM.Config[0].Subnet, `10.${octet}.0.0/24`);
    assert.ok(net.Containers[a.Id], JSON.stringify(net.Containers));
  });

  it('--add-host, --dns, --dns-search, --dns-option, --network none|host|container', async () => {
    const r = await dkOk(['run', '--rm', '--add-host', 'db:10.1.2.3', '--add-host', 'gw:host-gateway', '--dns', '10.9.9.9', '--dns-search', 'example.test', '--dns-option', 'ndots:3', image, 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf']);
    assert.match(r.stdout, /10\.1\.2\.3\s+db/);
    assert.match(r.stdout, new RegExp(`10\\.${octet}\\.0\\.1\\s+gw`));
    assert.match(r.stdout, /nameserver 10\.9\.9\.9/);
    assert.match(r.stdout, /search example\.test/);
    assert.match(r.stdout, /options ndots:3/);
    assert.equal((await dkOk(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'ls /sys/class/net'])).stdout.trim(), 'lo');
    await runD(['--name', 'owner', image, 'sleep', '300']);
    const ip = (await inspect('owner')).NetworkSettings.IPAddress;
    assert.match((await dkOk(['run', '--rm', '--network', 'container:owner', image, 'ip', '-4', '-o', 'addr'])).stdout, new RegExp(ip.replace(/\./g, '\\.')));
    assert.match((await dkOk(['run', '--rm', '--network', 'host', image, 'ip', '-o', 'link'])).stdout, /eth0/);
  });
});

describe('published ports', () => {
  afterEach(() => assertClean('published ports'));

  it('-p host ip, host port, ranges, udp and -P with the image EXPOSE; from the host and from containers', async () => {
    const base = 20000 + (process.pid % 5000) * 2;
    await runD(['--name', 'web', '-p', `127.0.0.1:${base}:80`, '-p', `${base + 1}:80`, image, HTTPD('web')].flat());
    assert.equal(await httpGet(`http://127.0.0.1:${base}/`), 'web');
    assert.equal(await httpGet(`http://127.0.0.1:${base + 1}/`), 'web');
    const hostIp = (await run('ip', ['-4', '-j', 'addr', 'show', 'dev', 'eth0'])).stdout;
    const eth0 = (JSON.parse(hostIp) as any[])[0]?.addr_info?.[0]?.local as string | undefined;
    if (eth0) {
      assert.equal(await httpGet(`http://${eth0}:${base + 1}/`), 'web');
      // hairpin: a container reaches the published port through the host's address
      const r = await dkOk(['run', '--rm', image, 'sh', '-c', ncGet(`http://${eth0}:${base + 1}/`)]);
      assert.match(r.stdout, /web/);
    }
    const port = await dkOk(['port', 'web', '80']);
    assert.match(port.stdout, new RegExp(`127\\.0\\.0\\.1:${base}`));
    assert.match(port.stdout, new RegExp(`0\\.0\\.0\\.0:${base + 1}`));
    // Ranges map one to one.
    await runD(['--name', 'range', '-p', `${base + 2}-${base + 3}:80-81`, image, 'sh', '-c', 'mkdir /w && echo r > /w/index.html && (httpd -p 81 -h /w) && exec httpd -f -p 80 -h /w']);
    assert.equal(await httpGet(`http://127.0.0.1:${base + 2}/`), 'r');
    assert.equal(await httpGet(`http://127.0.0.1:${base + 3}/`), 'r');
    // A host port in use is refused.
    const taken = await dk(['run', '-d', '-p', `${base + 1}:80`, image, 'sleep', '1']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /already allocated/);
    // udp: the container's busybox has no UDP server; a node one runs in its network namespace.
    const udpId = await runD(['--name', 'udp', '-p', `${base + 4}:5353/udp`, image, 'sleep', '300']);
    const listener = spawn('nsenter', [`--net=${join(d.execRoot, 'netns', udpId)}`, process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.on('message',(m)=>{process.stdout.write(m);process.exit(0)});s.bind(5353,()=>console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    listener.stdout!.on('data', (b: Buffer) => (got += b.toString()));
    await waitFor('the udp listener', () => got.includes('ready'), 5000);
    const sender = createSocket('udp4');
    await waitFor('the udp datagram', async () => {
      sender.send('ping-udp', base + 4, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
      return got.includes('ping-udp');
    }, 5000).finally(() => {
      sender.close();
      listener.kill('SIGKILL');
    });
    // -P with the image's EXPOSE
    await runD(['--name', 'expose-src', image, 'sleep', '300']);
    await dkOk(['commit', '--change', 'EXPOSE 80/tcp', 'expose-src', 'exposed:1']);
    await runD(['--name', 'pub', '-P', 'exposed:1', ...HTTPD('pub')]);
    const ports = (await inspect('pub')).NetworkSettings.Ports['80/tcp'];
    assert.ok(ports?.length, JSON.stringify((await inspect('pub')).NetworkSettings.Ports));
    assert.equal(await httpGet(`http://127.0.0.1:${ports[0].HostPort}/`), 'pub');
    const ps = await dkOk(['ps', '--filter', 'name=pub', '--format', '{{.Ports}}']);
    assert.match(ps.stdout, new RegExp(`0\\.0\\.0\\.0:${ports[0].HostPort}->80/tcp`));
    await dkOk(['rm', '-f', 'pub']);
    await dkOk(['rmi', 'exposed:1']);
  });
});

/** User network bridges holding an address in this run's 10.<octet>/16 (a
 * test running beside this one, in another session, has bridges of its own). */
const userBridges = async (): Promise<string[]> =>
  (JSON.parse((await run('ip', ['-j', 'addr', 'show'])).stdout) as Array<{ ifname: string; addr_info?: Array<{ local?: string }> }>)
    .filter((l) => l.ifname.startsWith('jbr-') && (l.addr_info ?? []).some((a) => a.local?.startsWith(`10.${octet}.`)))
    .map((l) => l.ifname);

describe('user-defined networks', () => {
  let bridgesBefore: string[] = [];
  before(async () => {
    bridgesBefore = await userBridges();
  });
  afterEach(async () => {
    await assertClean('user networks');
    await dk(['network', 'prune', '-f']);
    const left = (await dkOk(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(left, ['bridge', 'host', 'none']);
    const left2 = (await userBridges()).filter((b) => !bridgesBefore.includes(b));
    assert.deepEqual(left2, [], 'a user network bridge was left');
  });

  it('create, ls, inspect, rm with subnet, gateway, ip-range, labels, --internal', async () => {
    const sub = `10.${octet}.16.0/24`;
    const id = (await dkOk(['network', 'create', '--subnet', sub, '--gateway', `10.${octet}.16.254`, '--ip-range', `10.${octet}.16.128/25`, '--label', 'team=a', 'app'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const [n] = await d.dockerJson<any[]>(['network', 'inspect', 'app']);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: sub, IPRange: `10.${octet}.16.128/25`, Gateway: `10.${octet}.16.254` }]);
    assert.deepEqual(n.Labels, { team: 'a' });
    assert.equal(n.Driver, 'bridge');
    assert.match((await dkOk(['network', 'ls'])).stdout, /app\s+bridge\s+local/);
    assert.match((await dkOk(['network', 'ls', '--filter', 'label=team=a', '-q'])).stdout, new RegExp(id.slice(0, 12)));
    const dup = await dk(['network', 'create', 'app']);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /already exists/);
    await runD(['--name', 'u1', '--network', 'app', image, 'sleep', '300']);
    const ip = (await inspect('u1')).NetworkSettings.Networks.app.IPAddress as string;
    assert.ok(Number(ip.split('.')[3]) >= 128, ip);
    const busy = await dk(['network', 'rm', 'app']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /active endpoints/);
    await dkOk(['rm', '-f', 'u1']);
    // --internal: no way out, neighbours still reachable
    await dkOk(['network', 'create', '--internal', '--subnet', `10.${octet}.17.0/24`, 'sealed']);
    await runD(['--name', 's1', '--network', 'sealed', image, ...HTTPD('s1')]);
    await runD(['--name', 's2', '--network', 'sealed', image, 'sleep', '300']);
    assert.match((await wgetIn('s2', 'http://s1/')).stdout, /s1/);
    assert.notEqual((await execOut('s2', ncGet(`http://${OUTSIDE.nsIp}:8080/`, 1))).code, 0);
    await dkOk(['rm', '-f', 's1', 's2']);
    await dkOk(['network', 'rm', 'app', 'sealed']);
  });

  it('names, aliases and short ids resolve; --ip and --mac-address; addresses are never handed out twice', async () => {
    await dkOk(['network', 'create', '--subnet', `10.${octet}.18.0/24`, 'dnsnet']);
    const w = await runD(['--name', 'web1', '--network', 'dnsnet', '--network-alias', 'www', '--ip', `10.${octet}.18.50`, '--mac-address', '02:42:0a:00:00:50', image, ...HTTPD('web1')]);
    await runD(['--name', 'cli', '--network', 'dnsnet', image, 'sleep', '300']);
    const ep = (await inspect('web1')).NetworkSettings.Networks.dnsnet;
    assert.equal(ep.IPAddress, `10.${octet}.18.50`);
    assert.equal(ep.MacAddress, '02:42:0a:00:00:50');
    assert.deepEqual(ep.Aliases, ['www']);
    assert.ok(ep.DNSNames.includes('web1') && ep.DNSNames.includes('www'), JSON.stringify(ep.DNSNames));
    for (const name of ['web1', 'www', w.slice(0, 12)]) {
      const r = await execOut('cli', `nslookup ${name}`);
      assert.match(r.stdout, new RegExp(`10\\.${octet}\\.18\\.50`), `${name}: ${r.stdout}${r.stderr}`);
    }
    assert.match((await wgetIn('cli', 'http://www/')).stdout, /web1/);
    assert.match((await execOut('cli', 'cat /etc/resolv.conf')).stdout, new RegExp(`nameserver 10\\.${octet}\\.18\\.1`));
    const again = await dk(['run', '-d', '--network', 'dnsnet', '--ip', `10.${octet}.18.50`, image, 'sleep', '1']);
    assert.notEqual(again.code, 0, 'an address in use was handed out again');
    const ips = new Set<string>();
    for (let i = 0; i < 4; i++) {
      await runD(['--name', `many${i}`, '--network', 'dnsnet', image, 'sleep', '300']);
      ips.add((await inspect(`many${i}`)).NetworkSettings.Networks.dnsnet.IPAddress);
    }
    assert.equal(ips.size, 4);
    assert.ok(![...ips].includes(`10.${octet}.18.50`));
  });

  it('the gateway keeps its MAC address while ports come and go, so containers that cached it still reach the DNS', async () => {
    const id = (await dkOk(['network', 'create', '--subnet', `10.${octet}.21.0/24`, 'macnet'])).stdout.trim();
    const bridge = `jbr-${id.slice(0, 11)}`;
    const sys = (f: string): Promise<string> => readFile(`/sys/class/net/${bridge}/${f}`, 'utf8').then((s) => s.trim());
    const mac = await sys('address');
    assert.equal(await sys('addr_assign_type'), '3', 'the bridge\'s MAC address is set, not taken from its ports');
    // A port with a lower MAC than any random one: a bridge whose address
    // was never set takes it, and gives it back when the port goes, which a
    // container that resolved the gateway meanwhile would not notice.
    const port = `jtm${process.pid % 100000}`;
    try {
      await run('ip', ['link', 'add', port, 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', `${port}p`]);
      await run('ip', ['link', 'set', port, 'master', bridge, 'up']);
      assert.equal(await sys('address'), mac, 'a port with a lower MAC took over the gateway\'s');
      await runD(['--name', 'm1', '--network', 'macnet', '--dns', '127.0.0.1', image, 'sleep', '300']);
      assert.equal((await execOut('m1', 'nslookup m1')).code, 0);
    } finally {
      await run('ip', ['link', 'del', port]);
    }
    assert.equal(await sys('address'), mac);
    const ns = await execOut('m1', `nslookup m1 && ip neigh show 10.${octet}.21.1`);
    assert.equal(ns.code, 0, `the DNS on the gateway stopped answering once a port left: ${ns.stdout}${ns.stderr}`);
    assert.match(ns.stdout, new RegExp(`lladdr ${mac}`), 'the container\'s ARP entry for the gateway is the bridge\'s address');
    await dkOk(['rm', '-f', 'm1']);
    await dkOk(['network', 'rm', 'macnet']);
  });

  it('connect and disconnect a running container', async () => {
    await dkOk(['network', 'create', '--subnet', `10.${octet}.19.0/24`, 'front']);
    await dkOk(['network', 'create', '--subnet', `10.${octet}.20.0/24`, 'back']);
    await runD(['--name', 'api', '--network', 'back', image, ...HTTPD('api')]);
    // --dns 127.0.0.1: names the embedded DNS does not know go to the host's
    // loopback (nothing there), never off the machine.
    await runD(['--name', 'proxy', '--network', 'front', '--dns', '127.0.0.1', image, 'sleep', '300']);
    assert.notEqual((await execOut('proxy', 'nslookup api')).code, 0);
    // Isolation, as Docker's: another network's containers are out of reach by address, ...
    const apiIp = (await inspect('api')).NetworkSettings.Networks.back.IPAddress as string;
    assert.notEqual((await execOut('proxy', ncGet(`http://${apiIp}/`, 1))).code, 0, 'front reached back directly');
    await runD(['--name', 'onbridge', image, 'sleep', '300']);
    assert.notEqual((await execOut('onbridge', ncGet(`http://${apiIp}/`, 1))).code, 0, 'the default bridge reached back directly');
    // ... but not its published ports, nor the way out.
    const pubPort = 20000 + (process.pid % 5000) * 2 + 5;
    await runD(['--name', 'pub', '--network', 'back', '-p', `${pubPort}:80`, image, ...HTTPD('pub')]);
    const frontGw = (await inspect('proxy')).NetworkSettings.Networks.front.Gateway as string;
    assert.match((await wgetIn('proxy', `http://${frontGw}:${pubPort}/`)).stdout, /pub/);
    assert.match((await wgetIn('proxy', `http://${OUTSIDE.nsIp}:8080/`)).stdout, /outside/);
    await dkOk(['rm', '-f', 'pub', 'onbridge']);
    await dkOk(['network', 'connect', '--alias', 'backend', 'back', 'proxy']);
    const nets = (await inspect('proxy')).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets).sort(), ['back', 'front']);
    assert.match((await execOut('proxy', 'ip -o link')).stdout, /eth1/);
    assert.match((await wgetIn('proxy', 'http://api/')).stdout, /api/);
    assert.match((await execOut('api', 'nslookup backend')).stdout, new RegExp(nets.back.IPAddress.replace(/\./g, '\\.')));
    const twice = await dk(['network', 'connect', 'back', 'proxy']);
    assert.notEqual(twice.code, 0);
    await dkOk(['network', 'disconnect', 'back', 'proxy']);
    assert.doesNotMatch((await execOut('proxy', 'ip -o link')).stdout, /eth1/);
    assert.deepEqual(Object.keys((await inspect('proxy')).NetworkSettings.Networks), ['front']);
    // A stopped container connects now, gets its address at start.
    await dkOk(['create', '--name', 'late', image, 'sleep', '300']);
    await dkOk(['network', 'connect', 'back', 'late']);
    await dkOk(['start', 'late']);
    assert.ok((await inspect('late')).NetworkSettings.Networks.back.IPAddress);
  });

  it('prune: networks that only stopped containers use go, as in Docker; --filter until and label', async () => {
    await dkOk(['network', 'create', '--subnet', `10.${octet}.21.0/24`, '--label', 'keep=no', 'idle']);
    await dkOk(['network', 'create', '--subnet', `10.${octet}.22.0/24`, 'busy']);
    await runD(['--name', 'stopped', '--network', 'idle', image, 'true']);
    await dkOk(['wait', 'stopped']);
    await runD(['--name', 'runs', '--network', 'busy', image, 'sleep', '300']);
    // nothing is older than an hour ago, and no network has keep=yes
    assert.doesNotMatch((await dkOk(['network', 'prune', '-f', '--filter', 'until=1h'])).stdout, /idle|busy/);
    assert.doesNotMatch((await dkOk(['network', 'prune', '-f', '--filter', 'label=keep=yes'])).stdout, /idle|busy/);
    const out = (await dkOk(['network', 'prune', '-f'])).stdout;
    assert.match(out, /Deleted Networks:\nidle\n/);
    assert.doesNotMatch(out, /busy/, 'a running container holds its network');
    const start = await dk(['start', 'stopped']);
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /network idle not found/);
    await dkOk(['rm', '-f', 'stopped', 'runs']);
    await dkOk(['network', 'rm', 'busy']);
  });
});

describe('live restore', () => {
  afterEach(async () => {
    await assertClean('live restore');
    await dk(['network', 'prune', '-f']);
  });

  it('running containers keep their addresses and names across a daemon restart', async () => {
    await dkOk(['network', 'create', '--subnet', `10.${octet}.21.0/24`, 'keep']);
    await runD(['--name', 'k1', '--network', 'keep', image, ...HTTPD('k1')]);
    await runD(['--name', 'k2', '--network', 'keep', '-p', '127.0.0.1::80', image, ...HTTPD('k2')]);
    const before = (await inspect('k1')).NetworkSettings.Networks.keep.IPAddress;
    const hostPort = (await inspect('k2')).NetworkSettings.Ports['80/tcp'][0].HostPort;
    await d.restart();
    assert.equal((await inspect('k1')).NetworkSettings.Networks.keep.IPAddress, before);
    assert.match((await execOut('k2', 'nslookup k1')).stdout, new RegExp(before.replace(/\./g, '\\.')));
    assert.equal(await httpGet(`http://127.0.0.1:${hostPort}/`), 'k2');
    await runD(['--name', 'k3', '--network', 'keep', image, 'sleep', '300']);
    assert.notEqual((await inspect('k3')).NetworkSettings.Networks.keep.IPAddress, before);
    // A stop releases the address and the rules; a start wires it again.
    await dkOk(['stop', '-t', '1', 'k1']);
    assert.deepEqual((await footprint()).netns.sort(), [(await inspect('k2')).Id, (await inspect('k3')).Id].sort());
    await dkOk(['start', 'k1']);
    assert.match((await wgetIn('k2', 'http://k1/')).stdout, /k1/);
  });
});
