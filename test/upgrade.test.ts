// In-place upgrades (joey upgrade, POST /containers/{id}/upgrade) against a
// private daemon: an app that keeps state in a volume and in its root
// filesystem goes from v1 to v2 images made here (docker commit), with and
// without --keep-rootfs; broken v2s roll back to v1 running; volumes that
// v2 declares are made (and removed again by a rollback); a kill -9 of joeyd
// in the middle of an upgrade is finished or undone by the next start, which
// also watches what is left of an interrupted rollback window.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { useContainerDaemon } from './lib/containers.ts';
import type { Daemon } from './lib/daemon.ts';
import { pushImage } from './lib/images.ts';
import { makeTempDir, removeDir, waitFor, type CmdOptions, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

let reg: Registry;
let image: string;
let work: string;
/** Where the kill -9 tests arm joeyd's test-only pause (JOEY_TEST_UPGRADE_PAUSE_DIR). */
const pauseDir = mkdtempSync(join(tmpdir(), 'joey-it-upgrade-pause-'));

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  work = await makeTempDir();
});

after(async () => {
  await reg?.stop();
  if (work) await removeDir(work);
  await removeDir(pauseDir);
});

function it(name: string, fn: () => Promise<void>, timeoutMs = 90_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

let counter = 0;
const nm = (what: string): string => `upg-${what}-${++counter}`;
const dkOk = (d: Daemon, args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000, ...opts });
const lines = (s: string): string[] => s.split('\n').filter(Boolean);

async function inspect(d: Daemon, name: string): Promise<any> {
  const [c] = await d.dockerJson<any[]>(['container', 'inspect', name], { timeoutMs: 30_000 });
  return c;
}

/** The app: it logs each start (and its first argument) to the volume at
 * /data, writes /state/note in its root filesystem on first start, and
 * serves /app/version over HTTP on port 80. */
const START = `#!/bin/sh
v=$(cat /app/version)
echo "start $v \${1:-none}" >> /data/boots
[ -f /state/note ] || echo "made by v$v" > /state/note
mkdir -p /www && cp /app/version /www/version
busybox httpd -p 80 -h /www
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done
`;

/** Makes upg/app:TAG from the busybox image with `docker commit`; `files`
 * (path → content) are added, `changes` are more --change lines. */
async function buildApp(d: Daemon, tag: string, version: string, cmd: string[], extra: { files?: Record<string, string>; changes?: string[] } = {}): Promise<string> {
  const dir = join(work, `${d.dataRoot.split('/').at(-2)}-${tag}`);
  await mkdir(join(dir, 'app'), { recursive: true });
  await mkdir(join(dir, 'state'), { recursive: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(join(dir, 'app/start'), START);
  await chmod(join(dir, 'app/start'), 0o755);
  await writeFile(join(dir, 'app/version'), version);
  await writeFile(join(dir, 'app/deleteme'), 'in every image');
  for (const [path, content] of Object.entries(extra.files ?? {})) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const b = nm('build');
  await dkOk(d, ['create', '--name', b, image, 'true']);
  await dkOk(d, ['cp', `${dir}/.`, `${b}:/`]);
  const ref = `upg/app:${tag}`;
  await dkOk(d, ['commit', '--change', `CMD ${JSON.stringify(cmd)}`, ...(extra.changes ?? []).flatMap((c) => ['--change', c]), b, ref]);
  await dkOk(d, ['rm', b]);
  return ref;
}

async function runApp(d: Daemon, name: string, ref: string, extra: string[] = [], cmd: string[] = []): Promise<string> {
  const r = await dkOk(d, ['run', '-d', '--name', name, '-v', `${name}-data:/data`, '-p', '127.0.0.1::80', '--label', 'owner=tests', '--restart', 'unless-stopped', ...extra, ref, ...cmd]);
  const id = r.stdout.trim();
  await waitFor('the app to write its first boot', async () => (await d.docker(['exec', name, 'cat', '/data/boots'])).stdout.includes('start'), 15_000);
  return id;
}

const cat = async (d: Daemon, name: string, path: string): Promise<string> => (await d.docker(['exec', name, 'cat', path])).stdout.trim();

/** The app's httpd starts a moment after the container does: a connection
 * refused right after a start is tried again for a few seconds. */
async function httpVersion(ip: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const r = await fetch(`http://${ip}/version`, { signal: AbortSignal.timeout(3000) });
      return (await r.text()).trim();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

async function snapshotDirs(d: Daemon): Promise<string[]> {
  return (await readdir(join(d.dataRoot, 'snapshots'))).sort();
}

async function eventsOf(d: Daemon, id: string, since: number): Promise<any[]> {
  const until = Math.ceil(Date.now() / 1000) + 1;
  const ev = await dkOk(d, ['events', '--since', String(since), '--until', String(until), '--filter', `container=${id}`, '--format', '{{json .}}']);
  return lines(ev.stdout).map((l) => JSON.parse(l));
}

/** What identifies the container from outside. */
function identity(c: any): Record<string, unknown> {
  return {
    Id: c.Id,
    Name: c.Name,
    IP: c.NetworkSettings.IPAddress,
    Mac: c.NetworkSettings.MacAddress,
    Port: c.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort,
    Hostname: c.Config.Hostname,
    Restart: c.HostConfig.RestartPolicy,
    Owner: c.Config.Labels.owner,
    Mounts: c.Mounts.map((m: any) => `${m.Name}:${m.Destination}`),
  };
}

describe('joey upgrade', () => {
  const cd = useContainerDaemon('upgrade', () => image);
  let v1: string;
  let v2: string;
  let broken: string;
  let exits: string;
  let v2vol: string;
  let v2volExits: string;
  let brokenVol: string;
  before(async () => {
    const { d } = cd();
    v1 = await buildApp(d, 'v1', '1', ['/app/start']);
    v2 = await buildApp(d, 'v2', '2', ['/app/start', 'v2cmd']);
    broken = await buildApp(d, 'v2-broken', '2', ['/app/missing']);
    exits = await buildApp(d, 'v2-exits', '2', ['sh', '-c', 'sleep 2; exit 3']);
    // v2 declares /cache (new, with content in the image) and /data (which the app's containers already mount).
    const vol = { files: { 'cache/seed': 'from the v2 image' }, changes: ['VOLUME ["/cache", "/data"]'] };
    v2vol = await buildApp(d, 'v2-vol', '2', ['/app/start', 'v2cmd'], vol);
    v2volExits = await buildApp(d, 'v2-vol-exits', '2', ['sh', '-c', 'echo v2 was here > /cache/note; sleep 2; exit 3'], vol);
    brokenVol = await buildApp(d, 'v2-vol-broken', '2', ['/app/missing'], vol);
  });

  const volumeNames = async (d: Daemon): Promise<string[]> => lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout).sort();
  const volumeDirs = async (d: Daemon): Promise<string[]> => (await readdir(join(d.dataRoot, 'volumes'))).sort();

  it('a VOLUME the new image declares and the container lacks becomes an anonymous volume, filled from v2; the volumes it had stay', async () => {
    const { d } = cd();
    const n = nm('vol');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    const vols = await volumeNames(d);
    await d.joeyOk(['upgrade', '--image', v2vol, n], { timeoutMs: 60_000 });
    const now = await inspect(d, n);
    assert.equal(now.State.Running, true);
    const made = now.Mounts.find((m: any) => m.Destination === '/cache');
    assert.ok(made, `a mount at /cache: ${JSON.stringify(now.Mounts)}`);
    assert.equal(made.Type, 'volume');
    assert.match(made.Name, /^[0-9a-f]{64}$/, 'an anonymous volume, as `docker run` of v2 would make');
    assert.equal(made.RW, true);
    assert.deepEqual(now.Mounts.find((m: any) => m.Destination === '/data'), before.Mounts.find((m: any) => m.Destination === '/data'), 'the named volume at /data, as it was');
    assert.equal(now.Mounts.length, before.Mounts.length + 1, 'no second volume at /data');
    assert.deepEqual(await volumeNames(d), [...vols, made.Name].sort());
    assert.equal(await cat(d, n, '/cache/seed'), 'from the v2 image', 'filled from the image, as at create');
    assert.deepEqual(lines(await cat(d, n, '/data/boots')), ['start 1 none', 'start 2 v2cmd'], 'the data volume kept its data');
    // It is a real volume, on the host, kept across a restart of the container.
    await dkOk(d, ['exec', n, 'sh', '-c', 'echo mine > /cache/mine']);
    await dkOk(d, ['restart', '-t', '1', n]);
    assert.equal(await cat(d, n, '/cache/mine'), 'mine');
    assert.equal((await d.dockerJson<any[]>(['volume', 'inspect', made.Name]))[0].Mountpoint, made.Source);
    // And it goes with the container on rm -v, like any anonymous volume.
    await dkOk(d, ['rm', '-f', '-v', n]);
    assert.ok(!(await volumeNames(d)).includes(made.Name));
    await dkOk(d, ['volume', 'rm', `${n}-data`]);
  });

  it('a rollback removes the volume made for the new image, after v2 wrote to it; nothing leaks', async () => {
    const { d } = cd();
    const n = nm('vol-rollback');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    const vols = await volumeNames(d);
    const dirs = await volumeDirs(d);
    const since = (Date.now() / 1000).toFixed(3);
    const r = await d.joey(['upgrade', '--image', v2volExits, '--rollback-window', '8s', n], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exited with code 3 within the rollback window/);
    const now = await inspect(d, n);
    assert.equal(now.State.Running, true);
    assert.equal(now.Config.Image, v1);
    assert.deepEqual(now.Mounts, before.Mounts, 'the mounts it had, no more');
    assert.deepEqual(await volumeNames(d), vols, '`volume ls` as before');
    assert.deepEqual(await volumeDirs(d), dirs, 'no volume directory left');
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '1');
    // v2 did run with the volume: it was made, then destroyed.
    const ev = lines((await dkOk(d, ['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}'])).stdout);
    const made = ev.filter((l) => l.startsWith('create ')).map((l) => l.split(' ')[1]);
    assert.equal(made.length, 1, ev.join('\n'));
    assert.ok(ev.includes(`destroy ${made[0]}`), ev.join('\n'));
  });

  it('a v2 with a VOLUME whose command is missing fails to start: rolled back, the volume made for it gone', async () => {
    const { d } = cd();
    const n = nm('vol-broken');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    const vols = await volumeNames(d);
    const dirs = await volumeDirs(d);
    const r = await d.joey(['upgrade', '--image', brokenVol, n], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rolled back/);
    const now = await inspect(d, n);
    assert.equal(now.State.Running, true);
    assert.equal(now.Config.Image, v1);
    assert.deepEqual(now.Mounts, before.Mounts);
    assert.deepEqual(await volumeNames(d), vols, '`volume ls` as before');
    assert.deepEqual(await volumeDirs(d), dirs, 'no volume directory left');
    await dkOk(d, ['rm', '-f', n]);
    await dkOk(d, ['volume', 'rm', `${n}-data`]);
  });

  it('v1 to v2 keeps id, name, volume, address, ports, labels and restart policy, on a fresh rootfs', async () => {
    const { d } = cd();
    const n = nm('app');
    const id = await runApp(d, n, v1);
    await dkOk(d, ['exec', n, 'sh', '-c', 'echo mine > /state/extra && rm /app/deleteme']);
    const before = await inspect(d, n);
    assert.equal(await httpVersion(before.NetworkSettings.IPAddress), '1');
    const dirs = await snapshotDirs(d);
    const since = Math.floor(Date.now() / 1000) - 1;

    const r = await d.joeyOk(['upgrade', '--image', v2, n], { timeoutMs: 60_000 });
    assert.match(r.stdout, /upgraded from upg\/app:v1 to upg\/app:v2/);

    const now = await inspect(d, n);
    assert.deepEqual(identity(now), identity(before));
    assert.equal(now.State.Running, true);
    assert.equal(now.Config.Image, v2);
    assert.equal(now.Image, (await d.dockerJson<any[]>(['image', 'inspect', v2]))[0].Id);
    assert.deepEqual(now.Config.Cmd, ['/app/start', 'v2cmd'], 'the command came from v1, so v2\'s replaces it');
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '2');
    assert.deepEqual(lines(await cat(d, n, '/data/boots')), ['start 1 none', 'start 2 v2cmd'], 'the volume was kept');
    assert.equal(await cat(d, n, '/state/note'), 'made by v2', 'a fresh root filesystem');
    assert.equal((await d.docker(['exec', n, 'test', '-e', '/state/extra'])).code, 1);
    assert.equal((await d.docker(['exec', n, 'test', '-e', '/app/deleteme'])).code, 0);
    assert.equal((await snapshotDirs(d)).length, dirs.length, 'the old rootfs went, nothing else came');

    assert.equal(now.UpgradeHistory.length, 1);
    const h = now.UpgradeHistory[0];
    assert.equal(h.Outcome, 'success');
    assert.equal(h.PreviousImage, v1);
    assert.equal(h.PreviousImageID, before.Image);
    assert.equal(h.Image, v2);
    assert.ok(Date.parse(h.Finished) >= Date.parse(h.Started));
    const actions = (await eventsOf(d, id, since)).map((e) => e.Action);
    assert.ok(actions.indexOf('upgrade') >= 0 && actions.indexOf('upgrade') < actions.indexOf('upgrade-success'), actions.join(' '));
    assert.ok(!actions.includes('upgrade-rollback'), actions.join(' '));
  });

  it('--keep-rootfs carries the root filesystem changes (files and deletions) onto v2; an explicit command is kept', async () => {
    const { d } = cd();
    const n = nm('keep');
    await runApp(d, n, v1, [], ['/app/start', 'mine']);
    await dkOk(d, ['exec', n, 'sh', '-c', 'echo mine > /state/extra && rm /app/deleteme']);
    await dkOk(d, ['container', 'rename', n, `${n}-renamed`]);
    const m = `${n}-renamed`;
    await d.joeyOk(['upgrade', '--image', v2, '--keep-rootfs', m], { timeoutMs: 60_000 });
    const now = await inspect(d, m);
    assert.deepEqual(now.Config.Cmd, ['/app/start', 'mine'], 'the user\'s command stays');
    assert.equal(await cat(d, m, '/app/version'), '2', 'what the container did not touch comes from v2');
    assert.equal(await cat(d, m, '/state/note'), 'made by v1', 'the file it wrote under v1 is there');
    assert.equal(await cat(d, m, '/state/extra'), 'mine');
    assert.equal((await d.docker(['exec', m, 'test', '-e', '/app/deleteme'])).code, 1, 'its deletion (a whiteout) too');
    assert.deepEqual(lines(await cat(d, m, '/data/boots')), ['start 1 mine', 'start 2 mine']);
    assert.equal(now.UpgradeHistory[0].KeepRootfs, true);
  });

  it('an explicit CMD on the command line wins', async () => {
    const { d } = cd();
    const n = nm('cmd');
    await runApp(d, n, v1);
    await d.joeyOk(['upgrade', '--image', v2, n, '/app/start', 'given'], { timeoutMs: 60_000 });
    assert.deepEqual((await inspect(d, n)).Config.Cmd, ['/app/start', 'given']);
    assert.equal(lines(await cat(d, n, '/data/boots')).at(-1), 'start 2 given');
  });

  it('a v2 that fails to start rolls back to v1 running, with the cause reported and nothing leaked', async () => {
    const { d } = cd();
    const n = nm('broken');
    const id = await runApp(d, n, v1);
    const before = await inspect(d, n);
    const dirs = await snapshotDirs(d);
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await d.joey(['upgrade', '--image', broken, n], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rolled back/);
    assert.match(r.stderr, /\/app\/missing/, 'the cause is named');
    const now = await inspect(d, n);
    assert.equal(now.State.Running, true);
    assert.equal(now.Image, before.Image);
    assert.equal(now.Config.Image, v1);
    assert.deepEqual(identity(now), identity(before));
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '1');
    assert.deepEqual(await snapshotDirs(d), dirs, 'no layer leaked, the old rootfs is the same one');
    assert.equal(now.UpgradeHistory.length, 1);
    assert.equal(now.UpgradeHistory[0].Outcome, 'rolled-back');
    assert.match(now.UpgradeHistory[0].Error, /\/app\/missing/);
    const actions = (await eventsOf(d, id, since)).map((e) => e.Action);
    assert.ok(actions.includes('upgrade-rollback') && !actions.includes('upgrade-success'), actions.join(' '));
    // The API answers 500 with the same message.
    const api = await d.api('POST', `/containers/${n}/upgrade`, { Image: broken });
    assert.equal(api.status, 500);
    assert.match(api.json().message, /failed and was rolled back/);
  });

  it('a v2 that exits after 2 s inside the rollback window rolls back to v1 running', async () => {
    const { d } = cd();
    const n = nm('exits');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    const dirs = await snapshotDirs(d);
    const t0 = Date.now();
    const r = await d.joey(['upgrade', '--image', exits, '--rollback-window', '6s', n], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exited with code 3 within the rollback window/);
    assert.ok(Date.now() - t0 < 6000 + 5000, 'the exit ends the wait');
    const now = await inspect(d, n);
    assert.equal(now.State.Running, true);
    assert.equal(now.Image, before.Image);
    assert.deepEqual(identity(now), identity(before));
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '1');
    assert.deepEqual(await snapshotDirs(d), dirs);
    // No restart by policy of the v2 that exited: v1 started again, once.
    assert.deepEqual(lines(await cat(d, n, '/data/boots')), ['start 1 none', 'start 1 none']);
  });

  it('a v2 that turns unhealthy inside the rollback window rolls back to v1 running', async () => {
    const { d } = cd();
    const n = nm('unhealthy');
    // The user's health check (kept across the upgrade) passes only on v1.
    await runApp(d, n, v1, ['--health-cmd', 'grep -q 1 /app/version', '--health-interval', '300ms', '--health-retries', '1']);
    await waitFor('v1 healthy', async () => (await inspect(d, n)).State.Health?.Status === 'healthy', 15_000);
    const before = await inspect(d, n);
    const r = await d.joey(['upgrade', '--image', v2, '--rollback-window', '10s', n], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unhealthy within the rollback window/);
    const now = await inspect(d, n);
    assert.equal(now.State.Running, true);
    assert.equal(now.Image, before.Image);
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '1');
    assert.equal(now.UpgradeHistory[0].Outcome, 'rolled-back');
  });

  it('the new image is pulled when it is not local', async () => {
    const { d } = cd();
    const remote = `${reg.host}/upg/app:v2pull`;
    await dkOk(d, ['tag', v2, remote]);
    await dkOk(d, ['push', remote]);
    await dkOk(d, ['rmi', remote]);
    const n = nm('pull');
    await runApp(d, n, v1);
    await d.joeyOk(['upgrade', '--image', remote, n], { timeoutMs: 60_000 });
    const now = await inspect(d, n);
    assert.equal(now.Config.Image, remote);
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '2');
    // A reference nobody has: the pull fails, the container never stopped.
    const started = now.State.StartedAt;
    const r = await d.joey(['upgrade', '--image', `${reg.host}/upg/none:v9`, n], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pulling .*upg\/none:v9/);
    const after = await inspect(d, n);
    assert.equal(after.State.StartedAt, started);
    assert.equal(after.UpgradeHistory.at(-1).Outcome, 'rolled-back');
  });

  it('bad input changes nothing: unknown container 404, bad reference and bad window 400', async () => {
    const { d } = cd();
    const n = nm('bad');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    assert.equal((await d.api('POST', '/containers/nope-nope/upgrade', { Image: v2 })).status, 404);
    const badRef = await d.api('POST', `/containers/${n}/upgrade`, { Image: 'UPPER/Case:v2' });
    assert.equal(badRef.status, 400);
    assert.match(badRef.json().message, /invalid image reference/);
    const badWindow = await d.api('POST', `/containers/${n}/upgrade`, { Image: v2, RollbackWindow: '10s' });
    assert.equal(badWindow.status, 400);
    assert.match(badWindow.json().message, /RollbackWindow/);
    const cli = await d.joey(['upgrade', '--image', v2, '--rollback-window', 'later', n]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /--rollback-window/);
    const now = await inspect(d, n);
    assert.equal(now.State.StartedAt, before.State.StartedAt);
    assert.equal(now.UpgradeHistory, undefined);
  });
});

describe('an upgrade interrupted by kill -9 of joeyd', () => {
  const cd = useContainerDaemon('upgrade-crash', () => image, { env: { JOEY_TEST_UPGRADE_PAUSE_DIR: pauseDir } });
  let v1: string;
  let v2: string;
  let v2vol: string;
  before(async () => {
    const { d } = cd();
    v1 = await buildApp(d, 'v1', '1', ['/app/start']);
    v2 = await buildApp(d, 'v2', '2', ['/app/start', 'v2cmd']);
    v2vol = await buildApp(d, 'v2-vol', '2', ['/app/start', 'v2cmd'], { files: { 'cache/seed': 'from the v2 image' }, changes: ['VOLUME ["/cache", "/logs"]'] });
  });

  /** Starts an upgrade through the API without waiting for it. */
  const startUpgrade = (d: Daemon, name: string, body: Record<string, unknown>): void => {
    void d.api('POST', `/containers/${name}/upgrade`, body).catch(() => undefined);
  };

  /** Arms the pause at `phase`, starts an upgrade, kills joeyd -9 once the
   * upgrade is there (after `atPause`), restarts it, and waits for the
   * container to run again; returns its inspect. */
  async function killAtPhase(d: Daemon, name: string, phase: string, body: Record<string, unknown>, atPause?: () => Promise<void>): Promise<any> {
    await writeFile(join(pauseDir, phase), '');
    try {
      startUpgrade(d, name, body);
      await waitFor(`the upgrade to reach ${phase}`, () => readdir(pauseDir).then((f) => f.includes(`${phase}.reached`)), 30_000);
      await atPause?.();
      await d.kill9();
    } finally {
      await rm(join(pauseDir, phase), { force: true });
      await rm(join(pauseDir, `${phase}.reached`), { force: true });
    }
    await d.restart();
    return waitFor('the container to run again', async () => {
      const c = await inspect(d, name);
      return c.State.Running ? c : undefined;
    }, 30_000);
  }

  for (const phase of ['stopped', 'swapped'] as const) {
    it(`killed at phase ${phase}: the next start rolls back to v1 running, nothing leaked`, async () => {
      const { d } = cd();
      const n = nm(`crash-${phase}`);
      await runApp(d, n, v1);
      const before = await inspect(d, n);
      const dirs = await snapshotDirs(d);
      const now = await killAtPhase(d, n, phase, { Image: v2, KeepRootfs: true });
      assert.equal(now.Image, before.Image);
      assert.equal(now.Config.Image, v1);
      assert.deepEqual(identity(now), identity(before));
      assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '1');
      assert.equal(now.UpgradeHistory.at(-1).Outcome, 'rolled-back');
      assert.match(now.UpgradeHistory.at(-1).Error, /interrupted by a daemon restart/);
      assert.deepEqual(await snapshotDirs(d), dirs);
      // And it can be upgraded afterwards.
      await d.joeyOk(['upgrade', '--image', v2, n], { timeoutMs: 60_000 });
      assert.equal(await httpVersion((await inspect(d, n)).NetworkSettings.IPAddress), '2');
    });
  }

  for (const phase of ['volumes', 'swapped'] as const) {
    it(`killed after the volumes for v2 were made (${phase}): the next start rolls back and removes them`, async () => {
      const { d } = cd();
      const n = nm(`crash-vol-${phase}`);
      await runApp(d, n, v1);
      const before = await inspect(d, n);
      const vols = lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout).sort();
      const volDirs = (await readdir(join(d.dataRoot, 'volumes'))).sort();
      const now = await killAtPhase(d, n, phase, { Image: v2vol }, async () => {
        // Both volumes' directories are there when joeyd dies.
        assert.equal((await readdir(join(d.dataRoot, 'volumes'))).length, volDirs.length + 2);
      });
      assert.equal(now.Config.Image, v1);
      assert.deepEqual(identity(now), identity(before));
      assert.equal(now.UpgradeHistory.at(-1).Outcome, 'rolled-back');
      assert.deepEqual(lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout).sort(), vols, '`volume ls` as before');
      assert.deepEqual((await readdir(join(d.dataRoot, 'volumes'))).sort(), volDirs, 'no volume directory left');
    });
  }

  /** Arms the pause at phase `started`, starts an upgrade with a rollback
   * window, and kills joeyd -9 once v2 runs and the record says so. */
  async function killInWindow(d: Daemon, name: string, body: Record<string, unknown>): Promise<void> {
    await writeFile(join(pauseDir, 'started'), '');
    try {
      startUpgrade(d, name, body);
      await waitFor('the upgrade to start v2', () => readdir(pauseDir).then((f) => f.includes('started.reached')), 30_000);
      await d.kill9();
    } finally {
      await rm(join(pauseDir, 'started'), { force: true });
      await rm(join(pauseDir, 'started.reached'), { force: true });
    }
  }

  const lastUpgrade = async (d: Daemon, name: string): Promise<any> => (await inspect(d, name)).UpgradeHistory.at(-1);

  it('kill -9 inside the rollback window with v2 running: the next start watches the rest of it, then completes', async () => {
    const { d } = cd();
    const n = nm('crash-window');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    const dirs = await snapshotDirs(d);
    const windowMs = 12_000;
    await killInWindow(d, n, { Image: v2, RollbackWindow: windowMs * 1e6 });
    await d.restart();
    const now = await inspect(d, n);
    const opened = Date.parse(now.State.StartedAt); // v2's start opened the window
    assert.ok(Date.now() < opened + windowMs, 'restarted with time left in the window');
    assert.equal(now.State.Running, true);
    assert.equal(now.Config.Image, v2);
    assert.deepEqual(identity(now), identity(before));
    assert.equal(now.UpgradeHistory.at(-1).Outcome, 'in-progress', 'still being watched');
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '2');
    // While the window is watched the upgrade still owns the container.
    const again = await d.api('POST', `/containers/${n}/upgrade`, { Image: v2 });
    assert.equal(again.status, 409);
    const h = await waitFor('the upgrade to complete at the end of the window', async () => {
      const last = await lastUpgrade(d, n);
      return last.Outcome !== 'in-progress' ? last : undefined;
    }, windowMs + 15_000);
    assert.equal(h.Outcome, 'success');
    assert.ok(Date.parse(h.Finished) >= opened + windowMs - 50, `completed at ${h.Finished}, not before the window's end (${new Date(opened + windowMs).toISOString()})`);
    const after = await inspect(d, n);
    assert.equal(after.State.StartedAt, now.State.StartedAt, 'v2 was not restarted');
    assert.equal((await snapshotDirs(d)).length, dirs.length, 'the old rootfs went');
  }, 120_000);

  it('SIGTERM of joeyd inside the window answers the call at once; v2 exiting after the restart, still inside the window, rolls back', async () => {
    const { d } = cd();
    const n = nm('term-window');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    const dirs = await snapshotDirs(d);
    // v2 serves for 10 s, then fails, well inside a 40 s window.
    const call = d.api('POST', `/containers/${n}/upgrade`, { Image: v2, Cmd: ['sh', '-c', 'sleep 10; exit 4'], RollbackWindow: 40e9 });
    await waitFor('v2 to run', async () => {
      const c = await inspect(d, n);
      return c.Config.Image === v2 && c.State.Running;
    }, 30_000);
    const t0 = Date.now();
    await d.stop();
    assert.ok(Date.now() - t0 < 5000, `SIGTERM took ${Date.now() - t0} ms: the watch must not hold the shutdown`);
    const answer = await call;
    assert.equal(answer.status, 503);
    assert.match(answer.json().message, /shutting down: the upgrade of .* goes on/);
    await d.restart();
    const mid = await inspect(d, n);
    assert.equal(mid.Config.Image, v2, 'v2 kept running across the restart');
    assert.equal(mid.State.Running, true);
    assert.equal(mid.UpgradeHistory.at(-1).Outcome, 'in-progress');
    const h = await waitFor('the rollback', async () => {
      const last = await lastUpgrade(d, n);
      return last.Outcome !== 'in-progress' ? last : undefined;
    }, 40_000);
    assert.equal(h.Outcome, 'rolled-back');
    assert.match(h.Error, /exited with code 4 within the rollback window/);
    const now = await waitFor('v1 to run again', async () => {
      const c = await inspect(d, n);
      return c.State.Running ? c : undefined;
    }, 15_000);
    assert.equal(now.Config.Image, v1);
    assert.equal(now.Image, before.Image);
    assert.deepEqual(identity(now), identity(before));
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '1');
    assert.deepEqual(await snapshotDirs(d), dirs);
  }, 120_000);

  it('kill -9 inside the window, v2 exits while joeyd is down: the next start rolls back to v1', async () => {
    const { d } = cd();
    const n = nm('crash-exit');
    await runApp(d, n, v1);
    const before = await inspect(d, n);
    const dirs = await snapshotDirs(d);
    await killInWindow(d, n, { Image: v2, Cmd: ['sh', '-c', 'sleep 2; exit 5'], RollbackWindow: 60e9 });
    // v2 exits 2 s after its start; conmon outlives joeyd and records the exit.
    await new Promise((r) => setTimeout(r, 3500));
    await d.restart();
    const h = await lastUpgrade(d, n);
    assert.equal(h.Outcome, 'rolled-back');
    assert.match(h.Error, /exited with code 5 within the rollback window \(while joeyd was down\)/);
    const now = await waitFor('v1 to run again', async () => {
      const c = await inspect(d, n);
      return c.State.Running ? c : undefined;
    }, 15_000);
    assert.equal(now.Config.Image, v1);
    assert.deepEqual(identity(now), identity(before));
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '1');
    assert.deepEqual(await snapshotDirs(d), dirs);
    // v1 started once more, by the rollback, not by the restart policy as well.
    assert.deepEqual(lines(await cat(d, n, '/data/boots')), ['start 1 none', 'start 1 none']);
  }, 90_000);

  it('kill -9 inside the window, which ends while joeyd is down with v2 running: the next start completes it', async () => {
    const { d } = cd();
    const n = nm('crash-late');
    await runApp(d, n, v1);
    const dirs = await snapshotDirs(d);
    await killInWindow(d, n, { Image: v2, RollbackWindow: 3e9 });
    await new Promise((r) => setTimeout(r, 4000));
    await d.restart();
    const now = await inspect(d, n);
    assert.equal(now.UpgradeHistory.at(-1).Outcome, 'success', 'completed by the start-up itself');
    assert.equal(now.State.Running, true);
    assert.equal(now.Config.Image, v2);
    assert.equal(await httpVersion(now.NetworkSettings.IPAddress), '2');
    assert.equal((await snapshotDirs(d)).length, dirs.length);
  });
});
