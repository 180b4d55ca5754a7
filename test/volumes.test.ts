// Volumes, driven by the docker CLI (and the joey CLI, and a raw API call or
// two) against a private daemon: named volumes and their commands, what a
// container sees of -v, --mount and --tmpfs (content copied from the image,
// nocopy, read-only, propagation in /proc/self/mountinfo, tmpfs options),
// --volumes-from, the in-use rule, prune's API-version semantics, volumes
// across daemon restarts and crashes, and nothing left mounted after.
//
// JOEY_TEST_ENGINE=dockerd runs the same against dockerd 20.10, which speaks
// API 1.41: where 1.41 and 1.47 differ (prune takes named volumes too;
// bind-recursive=readonly is unknown) the test says which it expects.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { useContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { REPO_ROOT, TEST_ENGINE, mountsUnder, type Daemon } from './lib/daemon.ts';
import { pushImage } from './lib/images.ts';
import { makeTempDir, removeDir, run, runOk, waitFor, type CmdOptions, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

const DOCKERD = TEST_ENGINE === 'dockerd';

let reg: Registry;
let image: string;
let work: string;

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  work = await makeTempDir('joey-it-vol-');
});

after(async () => {
  await reg?.stop();
  if (work) await removeDir(work);
});

function it(name: string, fn: () => Promise<void>, timeoutMs = 90_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

let counter = 0;
const nm = (what: string): string => `itv-${what}-${process.pid}-${++counter}`;
const lines = (s: string): string[] => s.split('\n').map((l) => l.replace(/\r$/, '')).filter(Boolean);

const dk = (d: Daemon, args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000, ...opts });
const dkOk = (d: Daemon, args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000, ...opts });
/** `docker run --rm IMAGE sh -c SCRIPT` with extra flags; the output. */
const sh = async (d: Daemon, flags: string[], script: string, img = image): Promise<string> => (await dkOk(d, ['run', '--rm', '--network', 'none', ...flags, img, 'sh', '-c', script])).stdout;

function failed(d: Daemon, r: CmdResult, pattern: RegExp, what: string): void {
  assert.notEqual(r.code, 0, `${what} should fail\n${d.diagnose(r)}`);
  assert.match(`${r.stderr}\n${r.stdout}`, pattern, `${what}: unclear error\n${d.diagnose(r)}`);
}

async function volumeNames(d: Daemon, args: string[] = []): Promise<string[]> {
  return lines((await dkOk(d, ['volume', 'ls', '-q', ...args])).stdout);
}

async function inspectVolume(d: Daemon, name: string): Promise<any> {
  return (await d.dockerJson<any[]>(['volume', 'inspect', name]))[0];
}

async function removeAllVolumes(d: Daemon): Promise<void> {
  if (!d.running) return;
  const names = await volumeNames(d);
  if (names.length) await dk(d, ['volume', 'rm', '-f', ...names]);
}

/** Mount points under the daemon's volumes directory. */
const volumeMounts = (d: Daemon): Promise<string[]> => mountsUnder(join(d.dataRoot, 'volumes'));

/** The mountinfo line of `target` inside a running container. */
async function mountInfoLine(d: Daemon, container: string, target: string): Promise<string | undefined> {
  const info = (await dkOk(d, ['exec', container, 'cat', '/proc/self/mountinfo'])).stdout;
  return lines(info).filter((l) => l.split(' ')[4] === target).pop();
}

/** A daemon for a group (see test/lib/containers.ts): volumes removed after each
 * test, and nothing may be left mounted under the volumes directory. */
function useVolumeDaemon(tag: string, opts: { liveRestore?: boolean } = {}): () => ContainerDaemon {
  return useContainerDaemon(tag, () => image, {
    ...opts,
    afterEach: removeAllVolumes,
    beforeTeardown: async (d) => assert.deepEqual(await volumeMounts(d), [], 'nothing is left mounted under the volumes directory'),
  });
}

describe('volume commands', () => {
  const daemon = useVolumeDaemon('volcmd');

  it('create (named, generated, labels), inspect, ls with filters and formats, rm', async () => {
    const { d } = daemon();
    const a = nm('a');
    assert.equal((await dkOk(d, ['volume', 'create', '--label', 'team=red', '--label', 'tier', a])).stdout.trim(), a);
    const generated = (await dkOk(d, ['volume', 'create'])).stdout.trim();
    assert.match(generated, /^[0-9a-f]{64}$/);

    const v = await inspectVolume(d, a);
    assert.equal(v.Name, a);
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.deepEqual(v.Labels, { team: 'red', tier: '' });
    assert.match(v.Mountpoint, new RegExp(`/volumes/${a}/_data$`));
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.ok(!('UsageData' in v) || v.UsageData === null, 'inspect gives no UsageData, as dockerd');
    assert.ok((await stat(v.Mountpoint)).isDirectory());

    // Creating an existing name again returns it unchanged (201 both times).
    const again = await d.api('POST', '/volumes/create', { Name: a, Labels: { other: 'x' } });
    assert.equal(again.status, 201, again.text);
    assert.deepEqual(again.json().Labels, { team: 'red', tier: '' });
    assert.equal(again.json().CreatedAt, v.CreatedAt);

    const table = (await dkOk(d, ['volume', 'ls', '--filter', `name=${a}`])).stdout;
    assert.match(lines(table)[0]!, /^DRIVER\s{4}VOLUME NAME$/);
    assert.match(lines(table)[1]!, new RegExp(`^local\\s+${a}$`));
    // docker prints the labels in Go's map order (random): compare them as a set.
    const [row] = lines((await dkOk(d, ['volume', 'ls', '--format', '{{.Name}}|{{.Labels}}|{{.Scope}}', '--filter', 'label=team=red'])).stdout);
    const [rowName, rowLabels, rowScope] = row!.split('|');
    assert.deepEqual([rowName, rowLabels!.split(',').sort(), rowScope], [a, ['team=red', 'tier='], 'local']);
    assert.deepEqual(await volumeNames(d, ['--filter', 'label=tier']), [a]);
    assert.deepEqual(await volumeNames(d, ['--filter', 'driver=local', '--filter', `name=${generated.slice(0, 20)}`]), [generated]);
    assert.deepEqual(await volumeNames(d, ['--filter', 'dangling=true']), [a, generated].sort());
    const json = JSON.parse(lines((await dkOk(d, ['volume', 'ls', '--format', 'json', '--filter', `name=${a}`])).stdout)[0]!);
    assert.equal(json.Name, a);
    assert.equal(json.Driver, 'local');

    failed(d, await dk(d, ['volume', 'create', '--opt', 'bogus=1', nm('bad')]), /invalid option/, 'an unknown driver option');
    failed(d, await dk(d, ['volume', 'create', '--opt', 'type=tmpfs', nm('bad')]), /missing required option: "device"/, 'type without device');
    failed(d, await dk(d, ['volume', 'create', '-d', 'nosuchdriver', nm('bad')]), /nosuchdriver/, 'an unknown driver');
    failed(d, await dk(d, ['volume', 'create', 'bad/name']), /includes invalid characters for a local volume name/, 'a bad name');

    assert.equal((await dkOk(d, ['volume', 'rm', a, generated])).stdout, `${a}\n${generated}\n`);
    failed(d, await dk(d, ['volume', 'rm', a]), /no such volume/, 'rm of a removed volume');
    await dkOk(d, ['volume', 'rm', '-f', a]);
    failed(d, await dk(d, ['volume', 'inspect', a]), /no such volume/i, 'inspect of a removed volume');
  });

  it('the joey CLI: volume create|ls|inspect|rm|prune with docker\'s flags and output', async () => {
    const { d } = daemon();
    const a = nm('ja');
    const b = nm('jb');
    assert.equal((await d.joeyOk(['volume', 'create', '--label', 'k=v', a])).stdout, `${a}\n`);
    await d.joeyOk(['volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', b]);
    const ls = ['volume', 'ls', '--filter', `name=itv-j`];
    assert.equal((await d.joeyOk(ls)).stdout, (await dkOk(d, ls)).stdout, 'the same table as docker');
    assert.match((await d.joeyOk(ls)).stdout, /^DRIVER {4}VOLUME NAME\n/);
    assert.equal((await d.joeyOk([...ls, '-q'])).stdout, `${a}\n${b}\n`);
    assert.equal((await d.joeyOk(['volume', 'ls', '--format', '{{.Name}}:{{.Labels}}', '-f', 'label=k'])).stdout, `${a}:k=v\n`);
    assert.equal((await d.joeyOk(['volume', 'inspect', '-f', '{{.Options.type}} {{.Options.o}}', b])).stdout, 'tmpfs size=1m\n');
    assert.deepEqual(JSON.parse((await d.joeyOk(['volume', 'inspect', a, b])).stdout), JSON.parse((await dkOk(d, ['volume', 'inspect', a, b])).stdout));
    const rm = await d.joey(['volume', 'rm', a, nm('missing')]);
    assert.equal(rm.code, 1);
    assert.equal(rm.stdout, `${a}\n`);
    assert.match(rm.stderr, /no such volume/);
    // dockerd 20.10 (API 1.41) knows no `all` filter (and keeps volumes with driver options out of a prune).
    if (DOCKERD) return;
    assert.match((await d.joeyOk(['volume', 'prune', '-f', '--all', '--filter', 'label!=k'])).stdout, new RegExp(`Deleted Volumes:\\n${b}\\n\\nTotal reclaimed space: `));
    assert.deepEqual(await volumeNames(d, ['--filter', 'name=itv-j']), []);
  });
});

describe('volumes in containers', () => {
  const daemon = useVolumeDaemon('volrun');
  /** An image with /data (owned 1234:5678, mode 0750, a file 0640) and VOLUME /data. */
  let dataImage: string;

  before(async () => {
    const { d } = daemon();
    const c = nm('builder');
    await dkOk(d, ['run', '--name', c, '--network', 'none', image, 'sh', '-c',
      'mkdir -p /data/sub && echo from-image > /data/sub/f && chown -R 1234:5678 /data && chmod 750 /data && chmod 640 /data/sub/f']);
    dataImage = `${nm('dataimg')}:1`;
    await dkOk(d, ['commit', '--change', 'VOLUME /data', c, dataImage]);
    await dkOk(d, ['rm', c]);
  });

  it('a named volume is shared by two containers and outlives them', async () => {
    const { d } = daemon();
    const v = nm('shared');
    const w = nm('writer');
    await dkOk(d, ['run', '-d', '--name', w, '--network', 'none', '-v', `${v}:/data`, image, 'sh', '-c', 'echo one > /data/f; sleep 1000']);
    assert.ok((await volumeNames(d)).includes(v), 'made on first use');
    await waitFor('the first write', async () => (await dk(d, ['exec', w, 'cat', '/data/f'])).stdout === 'one\n');
    assert.equal(await sh(d, ['-v', `${v}:/data`], 'cat /data/f; echo two >> /data/f'), 'one\n');
    assert.equal((await dkOk(d, ['exec', w, 'cat', '/data/f'])).stdout, 'one\ntwo\n');
    await dkOk(d, ['rm', '-f', '-v', w]);
    assert.ok((await volumeNames(d)).includes(v), 'rm -v keeps a named volume');
    assert.equal(await sh(d, ['--mount', `type=volume,src=${v},dst=/d`], 'cat /d/f'), 'one\ntwo\n');
  });

  it('content copied from the image into an empty volume (owner, mode), not with nocopy, not over content', async () => {
    const { d } = daemon();
    const v = nm('copy');
    const out = await sh(d, ['-v', `${v}:/data`], 'stat -c "%u:%g %a" /data /data/sub/f; cat /data/sub/f', dataImage);
    assert.equal(out, '1234:5678 750\n1234:5678 640\nfrom-image\n');
    const mp = (await inspectVolume(d, v)).Mountpoint;
    const st = await stat(join(mp, 'sub/f'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1234, 5678, 0o640], 'as stored on the host');
    // A volume with content is not filled again.
    await sh(d, ['-v', `${v}:/data`], 'echo mine > /data/sub/f', dataImage);
    assert.equal(await sh(d, ['-v', `${v}:/data`], 'cat /data/sub/f', dataImage), 'mine\n');
    // The anonymous volume of the image's VOLUME is filled too.
    assert.equal((await dkOk(d, ['run', '--rm', '--network', 'none', dataImage, 'cat', '/data/sub/f'])).stdout, 'from-image\n');
    // nocopy: -v …:nocopy and --mount volume-nocopy leave a new volume empty.
    assert.equal((await dkOk(d, ['run', '--rm', '--network', 'none', '-v', `${nm('nc')}:/data:nocopy`, dataImage, 'ls', '-A', '/data'])).stdout, '');
    assert.equal((await dkOk(d, ['run', '--rm', '--network', 'none', '--mount', `type=volume,src=${nm('nc')},dst=/data,volume-nocopy`, dataImage, 'ls', '-A', '/data'])).stdout, '');
  });

  it('read-only volumes and binds: -v …:ro and --mount readonly', async () => {
    const { d } = daemon();
    const v = nm('ro');
    const host = join(work, nm('robind'));
    await mkdir(host);
    const r = await dk(d, ['run', '--rm', '--network', 'none', '-v', `${v}:/v:ro`, '--mount', `type=bind,src=${host},dst=/b,readonly`, image, 'sh', '-c', 'touch /v/x; a=$?; touch /b/x; echo "$a $?"']);
    assert.equal(r.stdout.trim(), '1 1', d.diagnose(r));
    assert.match(r.stderr, /Read-only file system/);
    assert.equal(await sh(d, ['-v', `${v}:/v:rw`], 'touch /v/x && echo ok'), 'ok\n');
  });

  it('docker cp reaches a running container\'s volumes and binds; read-only ones refuse writes; nothing stays mounted', async () => {
    const { d } = daemon();
    const v = nm('cpvol');
    const ro = nm('cpro');
    const host = join(work, nm('cpbind'));
    await mkdir(host);
    await writeFile(join(host, 'on-host'), 'host file\n');
    const n = nm('cp');
    await dkOk(d, ['run', '-d', '--name', n, '--network', 'none', '--read-only', '-v', `${v}:/data`, '-v', `${ro}:/ro:ro`, '-v', `${host}:/bind`, image,
      'sh', '-c', 'echo in-volume > /data/f; exec sleep 1000']);
    await waitFor('the write', async () => (await dk(d, ['exec', n, 'cat', '/data/f'])).stdout === 'in-volume\n');
    const out = join(work, nm('cpout'));
    await mkdir(out);
    // out of a running container: the volume's file, the bind's, and its /etc/hosts (a bind of its own)
    await dkOk(d, ['cp', `${n}:/data/f`, join(out, 'f')]);
    assert.equal(await readFile(join(out, 'f'), 'utf8'), 'in-volume\n');
    await dkOk(d, ['cp', `${n}:/bind/on-host`, join(out, 'on-host')]);
    assert.equal(await readFile(join(out, 'on-host'), 'utf8'), 'host file\n');
    await dkOk(d, ['cp', `${n}:/etc/hosts`, join(out, 'hosts')]);
    assert.equal(await readFile(join(out, 'hosts'), 'utf8'), (await dkOk(d, ['exec', n, 'cat', '/etc/hosts'])).stdout, "the container's /etc/hosts");
    // into it: the volume and the bind take files though the rootfs is read-only; a :ro volume and the rootfs refuse
    await writeFile(join(out, 'new'), 'copied in\n');
    await dkOk(d, ['cp', join(out, 'new'), `${n}:/data/new`]);
    assert.equal((await dkOk(d, ['exec', n, 'cat', '/data/new'])).stdout, 'copied in\n');
    await dkOk(d, ['cp', join(out, 'new'), `${n}:/bind/new`]);
    assert.equal(await readFile(join(host, 'new'), 'utf8'), 'copied in\n', 'landed in the bind source on the host');
    failed(d, await dk(d, ['cp', join(out, 'new'), `${n}:/ro/`]), /mounted volume is marked read-only/, 'cp into a :ro volume');
    failed(d, await dk(d, ['cp', join(out, 'new'), `${n}:/tmp/`]), /read-only/i, 'cp into the read-only rootfs');
    // stopped: dockerd mounts the volumes for the copy; joey refuses paths
    // under them (it does not put mounts on paths other writers of a volume
    // could redirect)
    await dkOk(d, ['stop', '-t', '0', n]);
    if (DOCKERD) {
      await dkOk(d, ['cp', `${n}:/data/new`, join(out, 'again')]);
      assert.equal(await readFile(join(out, 'again'), 'utf8'), 'copied in\n', "from a stopped container's volume");
    } else {
      // refused with the reason, never read from or written to the empty mount point
      failed(d, await dk(d, ['cp', `${n}:/data/new`, join(out, 'again')]), /\/data is a volume of container .*mounted only while it runs/, "cp from a stopped container's volume");
      failed(d, await dk(d, ['cp', join(out, 'new'), `${n}:/bind/`]), /\/bind is a bind mount of container .*mounted only while it runs/, "cp into a stopped container's bind");
    }
    if (!DOCKERD) assert.deepEqual((await mountsUnder(d.execRoot)).filter((m) => m.includes('/views/')), [], 'no view left mounted');
    await dkOk(d, ['rm', '-f', n]);
  });

  it('a tmpfs volume (type/device/o) is mounted while used and unmounted after; inspect shows the options', async () => {
    const { d } = daemon();
    const v = nm('tmpfsvol');
    await dkOk(d, ['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=10m,uid=1000', v]);
    const info = await inspectVolume(d, v);
    assert.deepEqual(info.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=10m,uid=1000' });
    assert.deepEqual(await mountsUnder(info.Mountpoint), [], 'not mounted before first use');
    const c = nm('tmpfsuser');
    await dkOk(d, ['run', '-d', '--name', c, '--network', 'none', '-v', `${v}:/data`, image, 'sleep', '1000']);
    assert.deepEqual(await mountsUnder(info.Mountpoint), [info.Mountpoint], 'mounted while a container runs');
    const line = await mountInfoLine(d, c, '/data');
    assert.ok(line && / - tmpfs /.test(line) && /size=10240k/.test(line) && /uid=1000/.test(line), `a 10m tmpfs of uid 1000 at /data: ${line}`);
    assert.equal((await dkOk(d, ['exec', c, 'stat', '-c', '%u', '/data'])).stdout.trim(), '1000');
    // A second user shares the same mount; the first one stopping leaves it mounted.
    await dkOk(d, ['exec', c, 'sh', '-c', 'echo kept > /data/f']);
    const c2 = nm('tmpfsuser2');
    await dkOk(d, ['run', '-d', '--name', c2, '--network', 'none', '-v', `${v}:/data`, image, 'sleep', '1000']);
    await dkOk(d, ['stop', '-t', '0', c]);
    assert.equal((await dkOk(d, ['exec', c2, 'cat', '/data/f'])).stdout, 'kept\n');
    await dkOk(d, ['stop', '-t', '0', c2]);
    await waitFor('the volume to be unmounted once no container runs with it', async () => (await mountsUnder(info.Mountpoint)).length === 0);
    // --mount volume-opt makes a volume with options on first use.
    const v2 = nm('mountopt');
    assert.equal(await sh(d, ['--mount', `type=volume,src=${v2},dst=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=size=5m,mode=0700"`], 'stat -c %a /d; grep " /d " /proc/mounts'), '700\n' + (await sh(d, ['--mount', `type=volume,src=${v2},dst=/d`], 'grep " /d " /proc/mounts')));
    assert.deepEqual((await inspectVolume(d, v2)).Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=5m,mode=0700' });
    assert.deepEqual(await volumeMounts(d), []);
  });

  it('bind propagation (rshared, rslave, rprivate) shows in /proc/self/mountinfo and works; a shared bind needs a shared source', async () => {
    const { d } = daemon();
    const src = join(work, nm('prop'));
    await mkdir(join(src, 'sub'), { recursive: true });
    await runOk('mount', ['--bind', src, src]);
    try {
      await runOk('mount', ['--make-shared', src]);
      const shared = nm('shared');
      const slave = nm('slave');
      const priv = nm('private');
      await dkOk(d, ['run', '-d', '--name', shared, '--network', 'none', '--mount', `type=bind,src=${src},dst=/m,bind-propagation=rshared`, image, 'sleep', '1000']);
      await dkOk(d, ['run', '-d', '--name', slave, '--network', 'none', '-v', `${src}:/m:rslave`, image, 'sleep', '1000']);
      await dkOk(d, ['run', '-d', '--name', priv, '--network', 'none', '-v', `${src}:/m`, image, 'sleep', '1000']);
      assert.match((await mountInfoLine(d, shared, '/m')) ?? '', / shared:\d+/, 'rshared');
      assert.match((await mountInfoLine(d, slave, '/m')) ?? '', / master:\d+/, 'rslave');
      const p = (await mountInfoLine(d, priv, '/m')) ?? '';
      assert.ok(p && !/shared:|master:/.test(p), `rprivate: ${p}`);
      // A mount made on the host under the source reaches the shared and slave containers only.
      await runOk('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(src, 'sub')]);
      try {
        assert.ok(await mountInfoLine(d, shared, '/m/sub'), 'propagated to rshared');
        assert.ok(await mountInfoLine(d, slave, '/m/sub'), 'propagated to rslave');
        assert.equal(await mountInfoLine(d, priv, '/m/sub'), undefined, 'not to rprivate');
      } finally {
        await run('umount', ['-R', join(src, 'sub')]);
      }
      // A mount made in the rshared container comes back to the host; the rslave one's does not.
      await dkOk(d, ['rm', '-f', shared, slave, priv]);
      const plain = join(work, nm('private-src'));
      await mkdir(plain);
      failed(d, await dk(d, ['run', '--rm', '--network', 'none', '-v', `${plain}:/m:rshared`, image, 'true']), /is not a shared mount/, 'rshared on a private source');
    } finally {
      await run('umount', ['-R', src]);
    }
  });

  it('--mount type=bind with bind-recursive, --mount type=tmpfs with tmpfs-size/tmpfs-mode, and --tmpfs', async () => {
    const { d } = daemon();
    const src = join(work, nm('rec'));
    await mkdir(join(src, 'sub'), { recursive: true });
    await runOk('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(src, 'sub')]);
    try {
      await writeFile(join(src, 'sub', 'in-submount'), 'x');
      assert.equal(await sh(d, ['--mount', `type=bind,src=${src},dst=/m`], 'ls /m/sub'), 'in-submount\n', 'recursive by default');
      assert.equal(await sh(d, ['--mount', `type=bind,src=${src},dst=/m,bind-recursive=disabled`], 'ls /m/sub'), '', 'bind-recursive=disabled');
      if (!DOCKERD) {
        // API 1.44+: read-only all the way down (dockerd 20.10 does not know the option).
        const r = await dk(d, ['run', '--rm', '--network', 'none', '--mount', `type=bind,src=${src},dst=/m,readonly,bind-recursive=readonly,bind-propagation=rprivate`, image, 'sh', '-c', 'touch /m/sub/x']);
        failed(d, r, /Read-only file system/, 'a write into a submount of a recursively read-only bind');
      }
    } finally {
      await run('umount', [join(src, 'sub')]);
    }
    const out = await sh(d, ['--mount', 'type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770', '--tmpfs', '/run2:size=3m,mode=700'], 'stat -c %a /t /run2; grep -E " /(t|run2) " /proc/mounts');
    const [modeT, modeRun, ...mounts] = lines(out);
    assert.equal(modeT, '1770');
    assert.equal(modeRun, '700');
    assert.ok(mounts.some((l) => / \/t tmpfs .*size=2048k/.test(l)), out);
    assert.ok(mounts.some((l) => / \/run2 tmpfs .*size=3072k/.test(l)), out);
  });

  it('a volume subpath (--mount volume-subpath) mounts one directory of the volume', async () => {
    const { d } = daemon();
    if (DOCKERD) return; // API 1.45
    const v = nm('sub');
    await sh(d, ['-v', `${v}:/v`], 'mkdir -p /v/a/b && echo deep > /v/a/b/f');
    assert.equal(await sh(d, ['--mount', `type=volume,src=${v},dst=/s,volume-subpath=a/b`], 'cat /s/f'), 'deep\n');
    failed(d, await dk(d, ['run', '--rm', '--network', 'none', '--mount', `type=volume,src=${v},dst=/s,volume-subpath=nope`, image, 'true']), /cannot access path|no such file/, 'a missing subpath');
    failed(d, await dk(d, ['run', '--rm', '--network', 'none', '--mount', `type=volume,src=${v},dst=/s,volume-subpath=../x`, image, 'true']), /subpath must be a relative path within the volume/, 'an escaping subpath');
  });

  it('--volumes-from takes the other container\'s volumes and binds at the same places, :ro makes them read-only', async () => {
    const { d } = daemon();
    const v = nm('vf');
    const host = join(work, nm('vfbind'));
    await mkdir(host);
    await writeFile(join(host, 'h'), 'host\n');
    const donor = nm('donor');
    await dkOk(d, ['create', '--name', donor, '-v', `${v}:/vol`, '-v', `${host}:/bind`, '-v', '/anon', image, 'true']);
    const donorMounts = new Map<string, any>((await d.dockerJson<any[]>(['inspect', donor]))[0].Mounts.map((m: any) => [m.Destination, m]));
    await sh(d, ['--volumes-from', donor], 'echo w > /vol/f && echo a > /anon/f && cat /bind/h');
    assert.equal(await sh(d, ['--volumes-from', `${donor}:ro`], 'cat /vol/f /anon/f /bind/h; touch /vol/x 2>/dev/null || echo refused'), 'w\na\nhost\nrefused\n');
    const c = nm('taker');
    await dkOk(d, ['create', '--name', c, '--volumes-from', donor, '-v', `${join(work, 'other')}:/bind`, image, 'true']);
    const mounts = new Map<string, any>((await d.dockerJson<any[]>(['inspect', c]))[0].Mounts.map((m: any) => [m.Destination, m]));
    assert.equal(mounts.get('/vol')?.Name, v);
    assert.equal(mounts.get('/anon')?.Name, donorMounts.get('/anon').Name, 'the same anonymous volume');
    assert.equal(mounts.get('/bind')?.Source, join(work, 'other'), 'a bind of its own replaces the donor\'s');
    failed(d, await dk(d, ['volume', 'rm', donorMounts.get('/anon').Name]), /volume is in use/, 'removing a shared anonymous volume');
    failed(d, await dk(d, ['create', '--volumes-from', nm('nosuch'), image, 'true']), /No such container/i, '--volumes-from a missing container');
  });

  it('a volume in use by any container, running or not, cannot be removed (409 with the container ids); rm -v takes anonymous volumes only', async () => {
    const { d } = daemon();
    const v = nm('inuse');
    const c = nm('user');
    const id = (await dkOk(d, ['create', '--name', c, '-v', `${v}:/data`, '-v', '/anon', image, 'true'])).stdout.trim();
    const r = await dk(d, ['volume', 'rm', v]);
    failed(d, r, new RegExp(`remove ${v}: volume is in use - \\[${id}\\]`), 'rm of a volume a created container uses');
    failed(d, await dk(d, ['volume', 'rm', '-f', v]), /volume is in use/, 'rm -f of a volume in use');
    const api = await d.api('DELETE', `/volumes/${v}`);
    assert.equal(api.status, 409, api.text);
    await dkOk(d, ['start', '-a', c]);
    failed(d, await dk(d, ['volume', 'rm', v]), /volume is in use/, 'rm of a volume an exited container uses');
    const anon = (await d.dockerJson<any[]>(['inspect', c]))[0].Mounts.find((m: any) => m.Destination === '/anon').Name;
    await dkOk(d, ['rm', '-v', c]);
    const left = await volumeNames(d);
    assert.ok(left.includes(v), 'rm -v keeps the named volume');
    assert.ok(!left.includes(anon), 'rm -v removed the anonymous one');
    await dkOk(d, ['volume', 'rm', v]);
  });

  it('prune: anonymous volumes only unless --all (API 1.42+), label filters, never a volume in use', async () => {
    const { d } = daemon();
    const named = nm('pnamed');
    const labeled = nm('plabeled');
    const used = nm('pused');
    await dkOk(d, ['volume', 'create', named]);
    await dkOk(d, ['volume', 'create', '--label', 'keep=no', labeled]);
    const user = nm('puser');
    await dkOk(d, ['create', '--name', user, '-v', `${used}:/u`, image, 'true']);
    const anonC = nm('panon');
    await dkOk(d, ['create', '--name', anonC, '-v', '/a', image, 'true']);
    const anon = (await d.dockerJson<any[]>(['inspect', anonC]))[0].Mounts[0].Name;
    await dkOk(d, ['rm', anonC]); // without -v: the anonymous volume stays, unused
    assert.ok((await volumeNames(d)).includes(anon));

    const first = await dkOk(d, ['volume', 'prune', '-f']);
    if (DOCKERD) {
      // dockerd 20.10 (API 1.41) prunes every unused volume.
      assert.deepEqual((await volumeNames(d)).sort(), [used]);
      return;
    }
    assert.match(first.stdout, new RegExp(`Deleted Volumes:\\n${anon}\\n`));
    assert.deepEqual((await volumeNames(d)).sort(), [labeled, named, used].sort(), 'named volumes stay without --all');
    const second = await dkOk(d, ['volume', 'prune', '-f', '--all', '--filter', 'label=keep=no']);
    assert.match(second.stdout, new RegExp(`Deleted Volumes:\\n${labeled}\\n`));
    await dkOk(d, ['volume', 'prune', '-af']);
    assert.deepEqual(await volumeNames(d), [used], 'a volume in use is never pruned');
    // An API 1.41 client gets the old semantics: every unused volume.
    await dkOk(d, ['volume', 'create', named]);
    const old = await d.api('POST', '/v1.41/volumes/prune');
    assert.equal(old.status, 200, old.text);
    assert.deepEqual(old.json().VolumesDeleted, [named]);
  });
});

describe('volumes across daemon restarts', () => {
  const daemon = useVolumeDaemon('volrestart', { liveRestore: true });

  it('a named volume and its data survive a restart; a tmpfs volume stays mounted for a container that kept running, and goes after it', async () => {
    const { d } = daemon();
    const v = nm('persist');
    await sh(d, ['-v', `${v}:/data`], 'echo kept > /data/f');
    const t = nm('tmpfs');
    await dkOk(d, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', t]);
    const c = nm('runner');
    await dkOk(d, ['run', '-d', '--name', c, '--network', 'none', '-v', `${t}:/t`, image, 'sh', '-c', 'echo in-tmpfs > /t/f; sleep 1000']);
    const mp = (await inspectVolume(d, t)).Mountpoint;
    await d.restart();
    assert.equal(await sh(d, ['-v', `${v}:/data`], 'cat /data/f'), 'kept\n');
    assert.equal((await inspectVolume(d, v)).Name, v);
    if (DOCKERD) return; // dockerd 20.10 mounts volumes in its own mount namespace: the host cannot see them
    assert.deepEqual(await mountsUnder(mp), [mp], 'still mounted for the running container');
    assert.equal((await dkOk(d, ['exec', c, 'cat', '/t/f'])).stdout, 'in-tmpfs\n');
    await dkOk(d, ['stop', '-t', '0', c]);
    await waitFor('the tmpfs volume to be unmounted', async () => (await mountsUnder(mp)).length === 0);
  });

  it('start-up after a crash: a volume left mounted that no container uses is unmounted; a directory with no record is removed', async () => {
    const { d } = daemon();
    if (DOCKERD) return; // joeyd's own reconciliation
    const t = nm('leftmounted');
    await dkOk(d, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', t]);
    const mp = (await inspectVolume(d, t)).Mountpoint;
    await d.kill9();
    // What a crash between "mount" and "record the container" leaves, and a create cut short.
    await runOk('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mp]);
    const stray = join(d.dataRoot, 'volumes', 'f'.repeat(64));
    await mkdir(join(stray, '_data'), { recursive: true });
    await writeFile(join(stray, '_data', 'x'), 'x');
    await d.restart();
    assert.deepEqual(await mountsUnder(mp), [], 'unmounted at start-up');
    assert.ok(!(await readdir(join(d.dataRoot, 'volumes'))).includes('f'.repeat(64)), 'the stray directory is gone');
    assert.ok((await volumeNames(d)).includes(t), 'the volume itself stays');
    assert.deepEqual(await volumeMounts(d), []);
  });
});

describe('docker-py (python3-docker): volumes', () => {
  const daemon = useVolumeDaemon('volpy');
  it('docker-py: create, list, inspect, use, remove and prune volumes', async () => {
    const { d } = daemon();
    const script = join(REPO_ROOT, 'test/py/volumes_scenario.py');
    const r = await run('python3', [script, image, `${process.pid}-${++counter}`], { env: d.clientEnv(), timeoutMs: 90_000 });
    assert.equal(r.code, 0, d.diagnose(r));
    assert.equal(r.stdout.trim(), 'ok volumes');
  }, 120_000);
});
