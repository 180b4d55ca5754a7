// docker-compose (Debian's Python 1.29, unmodified) against a private joeyd:
// a busybox httpd service serving a file a second service wrote into a named
// volume, a client service that reaches it by service name on a user network
// the compose file defines (and by a link alias), a port published on
// 127.0.0.1 and read from the host; `up -d`, `ps`, `logs`, `exec`, `run`, a
// foreground `up`, stop/start/pause, `restart`, a recreate, `--scale`,
// `down -v`; and afterwards nothing of the project left: containers,
// network, volume, netns files, veths, the bridge, iptables rules.
//
// No traffic leaves the machine: the image comes from the test's registry on
// loopback, and names the embedded DNS does not know go to 127.0.0.1 (`dns:`
// in the file), never to the host's resolvers.
//
// JOEY_TEST_ENGINE=dockerd runs the same against dockerd 20.10 (started with
// --iptables=false by the test lib: its published ports go through docker-proxy).
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { formatResult, freePort, makeTempDir, removeDir, run, waitFor, type CmdResult } from './lib/proc.ts';
import { pushImage } from './lib/images.ts';
import { startRegistry, type Registry } from './lib/registry.ts';
import { TEST_ENGINE, type Daemon } from './lib/daemon.ts';

const COMPOSE_BIN = process.env.JOEY_TEST_COMPOSE || 'docker-compose';
const tag = (process.pid % 100000).toString(36);
const PROJECT = `jtc${tag}`;
const PROJECT_LABEL = `label=com.docker.compose.project=${PROJECT}`;
const CONTENT = `compose-volume-${tag}`;

let reg: Registry;
let image: string;
let work: string;
let cd: ContainerDaemon | undefined;
let d: Daemon;
let octet = 0; // the project network is 10.<octet>.7.0/24, the default bridge 10.<octet>.0.0/24
let hostPort = 0;
let upSeen: { bridge: string; veths: string[] } = { bridge: '', veths: [] };

function it(name: string, fn: () => Promise<void>, timeoutMs = 120_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

/** Runs docker-compose in the project dir against the test daemon. */
function compose(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CmdResult> {
  return run(COMPOSE_BIN, ['--ansi', 'never', ...args], {
    cwd: work,
    timeoutMs: 120_000,
    env: d.clientEnv({ COMPOSE_PROJECT_NAME: PROJECT, COMPOSE_HTTP_TIMEOUT: '60', PATH: process.env.PATH, ...env }),
  });
}
async function composeOk(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CmdResult> {
  const r = await compose(args, env);
  if (r.code !== 0) throw new Error(`docker-compose failed\n${d.diagnose(r)}`);
  return r;
}

/** An HTTP GET of the root with nc (this host's busybox wget crashes), retried; `$$` is compose's escaped `$`. */
const NC_GET = (host: string): string =>
  `i=0; until printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 80 > /tmp/r && grep -q '200 OK' /tmp/r; do ` +
  `i=$$((i+1)); [ $$i -gt 150 ] && echo client gave up && exit 1; sleep 0.2; done; echo "client got: $$(tail -n 1 /tmp/r)"`;

/** The compose file: JSON is YAML, and spares the quoting. */
function composeFile(): string {
  const common = { image, stop_grace_period: '1s', dns: ['127.0.0.1'], networks: ['appnet'] };
  return JSON.stringify({
    version: '2.4',
    services: {
      writer: {
        ...common,
        volumes: ['shared:/data'],
        command: ['sh', '-c', `echo ${CONTENT} > /data/index.html && echo writer done && exec sleep 3600`],
      },
      web: {
        ...common,
        environment: { MARK: '${MARK:-one}' },
        depends_on: ['writer'],
        volumes: ['shared:/data'],
        ports: [`127.0.0.1:${hostPort}:80`],
        command: ['httpd', '-f', '-p', '80', '-h', '/data'],
      },
      client: {
        ...common,
        depends_on: ['web'],
        // On a user network a link is a name only this container resolves.
        links: ['web:webserver'],
        command: ['sh', '-c', `${NC_GET('web')} && exec sleep 3600`],
      },
      // Only with --profile once: a one-shot that `up` runs in the foreground.
      once: {
        ...common,
        profiles: ['once'],
        depends_on: ['web'],
        volumes: ['shared:/data:ro'],
        command: ['sh', '-c', 'echo once sees $$(cat /data/index.html); exit 0'],
      },
    },
    volumes: { shared: {} },
    networks: { appnet: { ipam: { config: [{ subnet: `10.${octet}.7.0/24` }] } } },
  }, null, 2);
}

/** GET http://127.0.0.1:PORT/ from the host with Node's client, retried while the server starts. */
async function hostGet(port: number): Promise<string> {
  return waitFor(`127.0.0.1:${port} to serve`, () => new Promise<string | undefined>((res) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res(r.statusCode === 200 ? body.trim() : undefined));
      r.on('error', () => res(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => res(undefined));
  }), 20_000, 200);
}

const lines = (s: string): string[] => s.split('\n').map((l) => l.trim()).filter(Boolean);
const listed = async (args: string[]): Promise<string[]> => lines((await d.dockerOk(args, { timeoutMs: 30_000 })).stdout);

/** The host interface holding the project network's gateway, and the veths on it. */
async function projectLinks(): Promise<{ bridge: string; veths: string[] }> {
  const addrs = JSON.parse((await run('ip', ['-4', '-j', 'addr', 'show'])).stdout) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  const bridge = addrs.find((a) => a.addr_info.some((i) => i.local.startsWith(`10.${octet}.7.`)))?.ifname ?? '';
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string; master?: string }>;
  return { bridge, veths: bridge ? links.filter((l) => l.master === bridge).map((l) => l.ifname) : [] };
}

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  work = await makeTempDir('joey-it-compose-');
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  for (octet = 160 + (process.pid % 40); routes.includes(`10.${octet}.`); octet++);
  hostPort = await freePort();
  await writeFile(join(work, 'docker-compose.yml'), composeFile());
  // dockerd runs with --bridge none (test lib): no default bridge to place.
  cd = await startContainerDaemon(`compose-${tag}`, { args: TEST_ENGINE === 'joeyd' ? ['--bip', `10.${octet}.0.1/24`] : [] });
  d = cd.d;
});

after(async () => {
  // Whatever a failed test left: the project's containers, network and volume.
  if (d?.running) await compose(['down', '-v', '--remove-orphans', '-t', '1']).catch(() => undefined);
  await teardownContainerDaemon(cd).catch((e) => console.error(e));
  await reg?.stop();
  if (work) await removeDir(work);
});

describe('docker-compose 1.29', () => {
  it('up -d: the volume, the network, three services in dependency order, the client reaching web by name', async () => {
    const up = await composeOk(['up', '-d']);
    for (const s of ['writer', 'web', 'client']) assert.match(up.stderr, new RegExp(`Creating ${PROJECT}_${s}_1\\s+\\.\\.\\. done`), formatResult(up));
    assert.match(up.stderr, new RegExp(`Creating network "${PROJECT}_appnet"`));
    assert.match(up.stderr, new RegExp(`Creating volume "${PROJECT}_shared"`));
    // From the host, through the published port.
    assert.equal(await hostGet(hostPort), CONTENT);
    // The client found web by its service name.
    const logs = await waitFor('the client to print', async () => {
      const r = await composeOk(['logs', '--no-color', 'client']);
      return /client (got|gave up)/.test(r.stdout) ? r.stdout : undefined;
    }, 40_000, 300);
    assert.match(logs, new RegExp(`client_1\\s+\\| client got: ${CONTENT}`), logs);
    // What compose made, as the engine shows it.
    const [vol] = await d.dockerJson<any[]>(['volume', 'inspect', `${PROJECT}_shared`]);
    assert.equal(vol.Labels['com.docker.compose.project'], PROJECT);
    assert.equal(vol.Labels['com.docker.compose.volume'], 'shared');
    const [net] = await d.dockerJson<any[]>(['network', 'inspect', `${PROJECT}_appnet`]);
    assert.equal(net.Labels['com.docker.compose.network'], 'appnet');
    assert.equal(net.IPAM.Config[0].Subnet, `10.${octet}.7.0/24`);
    const [web] = await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_web_1`]);
    assert.equal(web.Config.Labels['com.docker.compose.service'], 'web');
    assert.ok(web.NetworkSettings.Networks[`${PROJECT}_appnet`].Aliases.includes('web'), JSON.stringify(web.NetworkSettings.Networks));
    assert.deepEqual(web.HostConfig.PortBindings['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }]);
    upSeen = await projectLinks();
    assert.ok(upSeen.bridge, 'no host interface holds the project network gateway');
    assert.equal(upSeen.veths.length, 3, JSON.stringify(upSeen));
    // A second `up -d` finds everything up to date.
    const again = await composeOk(['up', '-d']);
    for (const s of ['writer', 'web', 'client']) assert.match(again.stderr, new RegExp(`${PROJECT}_${s}_1 is up-to-date`), formatResult(again));
  });

  it('ps shows the services Up with the published port', async () => {
    const ps = await composeOk(['ps']);
    for (const s of ['writer', 'web', 'client']) assert.match(ps.stdout, new RegExp(`^${PROJECT}_${s}_1\\s.*\\sUp\\b`, 'm'), ps.stdout);
    assert.match(ps.stdout, new RegExp(`127\\.0\\.0\\.1:${hostPort}->80/tcp`), ps.stdout);
    assert.deepEqual(lines((await composeOk(['ps', '--services'])).stdout).sort(), ['client', 'once', 'web', 'writer']);
    assert.equal(lines((await composeOk(['ps', '-q'])).stdout).length, 3);
    assert.match((await composeOk(['port', 'web', '80'])).stdout.trim(), new RegExp(`^127\\.0\\.0\\.1:${hostPort}$`));
  });

  it('logs shows every service', async () => {
    const logs = await composeOk(['logs', '--no-color']);
    assert.match(logs.stdout, /writer_1\s+\| writer done/, logs.stdout);
    assert.match(logs.stdout, new RegExp(`client_1\\s+\\| client got: ${CONTENT}`), logs.stdout);
    const tail = await composeOk(['logs', '--no-color', '--tail', '1', 'writer']);
    assert.match(tail.stdout, /writer done/);
  });

  it('exec: through the docker CLI (compose default) and through the API (COMPOSE_INTERACTIVE_NO_CLI)', async () => {
    const cli = await composeOk(['exec', '-T', 'web', 'cat', '/data/index.html']);
    assert.equal(cli.stdout.trim(), CONTENT);
    const noCli = await composeOk(['exec', '-T', 'web', 'sh', '-c', 'echo extra > /data/extra.html && hostname'], { COMPOSE_INTERACTIVE_NO_CLI: '1' });
    const [web] = await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_web_1`]);
    assert.equal(noCli.stdout.trim(), web.Config.Hostname);
    const failing = await compose(['exec', '-T', 'web', 'sh', '-c', 'exit 3'], { COMPOSE_INTERACTIVE_NO_CLI: '1' });
    assert.equal(failing.code, 3, formatResult(failing));
    // The writer sees what web wrote: one volume.
    assert.equal((await composeOk(['exec', '-T', 'writer', 'cat', '/data/extra.html'])).stdout.trim(), 'extra');
    // The client reaches web by its name and by its container name, writer by the short id.
    const byName = await composeOk(['exec', '-T', 'client', 'sh', '-c', `printf 'GET /extra.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${PROJECT}_web_1 80`]);
    assert.match(byName.stdout, /^extra$/m);
    const writerId = (await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_writer_1`]))[0].Id as string;
    const ns = await composeOk(['exec', '-T', 'client', 'nslookup', writerId.slice(0, 12)]);
    assert.match(ns.stdout, new RegExp(`10\\.${octet}\\.7\\.`), ns.stdout);
    const webIp = (await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_web_1`]))[0].NetworkSettings.Networks[`${PROJECT}_appnet`].IPAddress as string;
    const link = await composeOk(['exec', '-T', 'client', 'nslookup', 'webserver']);
    assert.match(link.stdout, new RegExp(`Address: ${webIp.replace(/\./g, '\\.')}`), link.stdout);
    assert.notEqual((await compose(['exec', '-T', 'writer', 'nslookup', 'webserver'])).code, 0, 'a link alias resolves only in the linking container');
  });

  it('restart keeps the volume data and the name resolution', async () => {
    const before = Object.fromEntries(await Promise.all(['writer', 'web', 'client'].map(async (s) => [s, (await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_${s}_1`]))[0]])));
    const r = await composeOk(['restart', '-t', '1']);
    for (const s of ['writer', 'web', 'client']) assert.match(r.stderr, new RegExp(`Restarting ${PROJECT}_${s}_1\\s+\\.\\.\\. done`), formatResult(r));
    for (const s of ['writer', 'web', 'client']) {
      const [c] = await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_${s}_1`]);
      assert.equal(c.Id, before[s].Id, `${s} was recreated`);
      assert.equal(c.State.Running, true, `${s} not running after restart`);
      assert.notEqual(c.State.StartedAt, before[s].State.StartedAt, `${s} was not restarted`);
    }
    assert.equal(await hostGet(hostPort), CONTENT);
    const extra = await composeOk(['exec', '-T', 'client', 'sh', '-c', `printf 'GET /extra.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web 80`]);
    assert.match(extra.stdout, /^extra$/m, 'the volume lost what was written before the restart');
    // The client ran again after the restart and found web again.
    const logs = await waitFor('the restarted client to print', async () => {
      const out = (await composeOk(['logs', '--no-color', 'client'])).stdout;
      return (out.match(/client got: /g) ?? []).length >= 2 || /client gave up/.test(out) ? out : undefined;
    }, 40_000, 300);
    assert.equal((logs.match(new RegExp(`client got: ${CONTENT}`, 'g')) ?? []).length, 2, logs);
    const ps = await composeOk(['ps']);
    for (const s of ['writer', 'web', 'client']) assert.match(ps.stdout, new RegExp(`^${PROJECT}_${s}_1\\s.*\\sUp\\b`, 'm'), ps.stdout);
  });

  it('run --rm, up in the foreground, stop, start, pause, top, kill', async () => {
    // Without the docker CLI, compose (dockerpty) attaches only after the
    // start: the one-off waits a moment so that its output has a reader.
    for (const env of [{}, { COMPOSE_INTERACTIVE_NO_CLI: '1' }]) {
      const r = await composeOk(['run', '--rm', '-T', 'client', 'sh', '-c', `sleep 1; ${NC_GET('web').replace(/\$\$/g, '$')}`], env);
      assert.match(r.stdout, new RegExp(`client got: ${CONTENT}`), formatResult(r));
    }
    const code = await compose(['run', '--rm', '-T', '--no-deps', 'client', 'sh', '-c', 'exit 4']);
    assert.equal(code.code, 4, formatResult(code));
    // One-off containers are gone.
    assert.deepEqual(await listed(['ps', '-a', '-q', '--filter', 'label=com.docker.compose.oneoff=True', '--filter', PROJECT_LABEL]), []);
    // The foreground `up` attaches (logs=1 then the stream) and returns when the one-shot exits.
    const fg = await composeOk(['--profile', 'once', 'up', '--no-color', 'once']);
    assert.match(fg.stdout, new RegExp(`once_1\\s+\\| once sees ${CONTENT}`), formatResult(fg));
    assert.match(fg.stdout, /exited with code 0/, formatResult(fg));
    await composeOk(['--profile', 'once', 'rm', '-f', 'once']);
    await composeOk(['stop', '-t', '1', 'writer']);
    assert.match((await composeOk(['ps'])).stdout, new RegExp(`^${PROJECT}_writer_1\\s.*\\sExit 137\\b`, 'm'));
    await composeOk(['start', 'writer']);
    assert.match((await composeOk(['ps'])).stdout, new RegExp(`^${PROJECT}_writer_1\\s.*\\sUp\\b`, 'm'));
    await composeOk(['pause', 'web']);
    assert.match((await composeOk(['ps'])).stdout, new RegExp(`^${PROJECT}_web_1\\s.*\\sPaused\\b`, 'm'));
    await composeOk(['unpause', 'web']);
    assert.match((await composeOk(['top', 'web'])).stdout, /httpd -f -p 80/);
    assert.equal(await hostGet(hostPort), CONTENT);
  });

  it('up -d after a change recreates web (renaming the old container aside) and the client linked to it, keeping the volume; --scale adds a client', async () => {
    const ids = async (): Promise<Record<string, string>> => Object.fromEntries(await Promise.all(['writer', 'web', 'client'].map(async (s) => [s, (await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_${s}_1`]))[0].Id as string])));
    const before = await ids();
    const up = await composeOk(['up', '-d'], { MARK: 'two' });
    // The client links to web: compose recreates it too (it finds no
    // HostConfig.Links on it, as dockerd keeps a user network's links on the endpoint).
    for (const s of ['web', 'client']) assert.match(up.stderr, new RegExp(`Recreating ${PROJECT}_${s}_1\\s+\\.\\.\\. done`), formatResult(up));
    assert.match(up.stderr, new RegExp(`${PROJECT}_writer_1 is up-to-date`), formatResult(up));
    const now = await ids();
    assert.equal(now.writer, before.writer);
    assert.notEqual(now.web, before.web);
    assert.notEqual(now.client, before.client);
    const [client] = await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_client_1`]);
    assert.equal(client.HostConfig.Links, null);
    assert.ok(client.NetworkSettings.Networks[`${PROJECT}_appnet`].Links.includes(`${PROJECT}_web_1:webserver`), JSON.stringify(client.NetworkSettings.Networks));
    const link = await composeOk(['exec', '-T', 'client', 'nslookup', 'webserver']);
    assert.match(link.stdout, new RegExp(`Address: ${(await d.dockerJson<any[]>(['container', 'inspect', `${PROJECT}_web_1`]))[0].NetworkSettings.Networks[`${PROJECT}_appnet`].IPAddress.replace(/\./g, '\\.')}`), link.stdout);
    assert.equal((await composeOk(['exec', '-T', 'web', 'sh', '-c', 'echo $MARK'])).stdout.trim(), 'two');
    assert.equal(await hostGet(hostPort), CONTENT);
    assert.equal((await composeOk(['exec', '-T', 'web', 'cat', '/data/extra.html'])).stdout.trim(), 'extra');
    // The old containers are gone, not left renamed.
    assert.equal((await listed(['ps', '-a', '-q', '--filter', PROJECT_LABEL])).length, 3);
    const scaled = await composeOk(['up', '-d', '--no-recreate', '--scale', 'client=2'], { MARK: 'two' });
    assert.match(scaled.stderr, new RegExp(`Creating ${PROJECT}_client_2\\s+\\.\\.\\. done`), formatResult(scaled));
    const logs = await waitFor('the second client to print', async () => {
      const out = (await composeOk(['logs', '--no-color', 'client'])).stdout;
      return /client_2\s+\| client (got|gave up)/.test(out) ? out : undefined;
    }, 40_000, 300);
    assert.match(logs, new RegExp(`client_2\\s+\\| client got: ${CONTENT}`), logs);
    const down = await composeOk(['up', '-d', '--no-recreate', '--scale', 'client=1'], { MARK: 'two' });
    assert.match(down.stderr, new RegExp(`Stopping and removing ${PROJECT}_client_2\\s+\\.\\.\\. done`), formatResult(down));
    assert.equal((await listed(['ps', '-a', '-q', '--filter', PROJECT_LABEL])).length, 3);
  });

  it('down -v removes containers, network and volume, and leaves nothing on the host', async () => {
    const down = await composeOk(['down', '-v', '-t', '1']);
    for (const s of ['writer', 'web', 'client']) assert.match(down.stderr, new RegExp(`Removing ${PROJECT}_${s}_1\\s+\\.\\.\\. done`), formatResult(down));
    assert.match(down.stderr, new RegExp(`Removing network ${PROJECT}_appnet`));
    assert.match(down.stderr, new RegExp(`Removing volume ${PROJECT}_shared`));
    assert.deepEqual(await listed(['ps', '-a', '-q', '--filter', PROJECT_LABEL]), []);
    assert.deepEqual(await listed(['network', 'ls', '-q', '--filter', PROJECT_LABEL]), []);
    assert.deepEqual(await listed(['volume', 'ls', '-q', '--filter', PROJECT_LABEL]), []);
    assert.deepEqual(await listed(['ps', '-a', '-q']), []);
    assert.deepEqual((await listed(['volume', 'ls', '-q'])), []);
    assert.deepEqual((await listed(['network', 'ls', '--format', '{{.Name}}'])).filter((n) => !['bridge', 'host', 'none'].includes(n)), []);
    assert.equal(lines((await composeOk(['ps', '-q'])).stdout).length, 0);
    // The host: no netns file, veth, bridge or iptables rule of the project.
    // (dockerd keeps its sandboxes' netns files a minute and garbage-collects them later.)
    if (TEST_ENGINE === 'joeyd') assert.deepEqual(await readdir(join(d.execRoot, 'netns')).catch(() => [] as string[]), [], 'netns files left');
    const links = lines((await run('ip', ['-o', 'link', 'show'])).stdout).map((l) => l.split(':')[1]!.trim().split('@')[0]!);
    assert.ok(!links.includes(upSeen.bridge), `the project bridge ${upSeen.bridge} was left`);
    assert.deepEqual(upSeen.veths.filter((v) => links.includes(v)), [], 'veths left');
    assert.deepEqual((await projectLinks()).bridge, '', 'an interface still holds the project gateway');
    const rules = lines((await run('iptables-save', [])).stdout).filter((l) => !l.startsWith('#') && l.includes(`10.${octet}.7.`));
    assert.deepEqual(rules, [], 'iptables rules left');
    // Nothing listens on the published port any more.
    await waitFor('the published port to close', () => new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port: hostPort }, () => {
        s.destroy();
        res(false);
      });
      s.on('error', () => res(true));
    }), 5_000, 100).catch(() => assert.fail(`127.0.0.1:${hostPort} still accepts connections`));
  });
});
