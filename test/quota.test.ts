// Disk quota (--disk-quota, update --disk-quota, volume create -o size=)
// against real backends: the loop backend (a loop-mounted ext4 image per
// container or volume) on the test daemon's own data root, and btrfs qgroups
// on a data root put on a btrfs filesystem made on a loop file. A write past
// the limit fails inside the container while a container without a quota
// keeps writing; removal leaves no loop device, mount, image or subvolume.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { mountsUnder, type Daemon } from './lib/daemon.ts';
import { makeTempDir, removeDir, run, runOk, type CmdResult } from './lib/proc.ts';
import { busyboxInitTar } from './lib/rich-images.ts';

const IMAGE = 'quota-busybox:latest';
const FULL = /Disk quota exceeded|No space left on device/;
let work: string;
let tar: string;

before(async () => {
  work = await makeTempDir('joey-it-quota-');
  tar = await busyboxInitTar(work);
});

after(async () => {
  if (work) await removeDir(work);
});

async function importImage(d: Daemon): Promise<void> {
  await d.dockerOk(['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', tar, IMAGE], { timeoutMs: 60_000 });
}

/** Loop devices whose backing file is under `dir`. */
async function loopsUnder(dir: string): Promise<string[]> {
  const r = await runOk('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  if (!r.stdout.trim()) return [];
  const j = JSON.parse(r.stdout) as { loopdevices?: Array<{ name: string; 'back-file': string | null }> };
  return (j.loopdevices ?? []).filter((l) => (l['back-file'] ?? '').startsWith(dir + '/')).map((l) => `${l.name} ${l['back-file']}`);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) if (e.isFile()) out.push(join(e.parentPath ?? (e as any).path, e.name));
  return out;
}

const dd = (d: Daemon, name: string, path: string, mb: number): Promise<CmdResult> =>
  d.docker(['exec', name, 'sh', '-c', `rm -f ${path}; dd if=/dev/zero of=${path} bs=1M count=${mb} && sync`], { timeoutMs: 60_000 });

function fails(d: Daemon, r: CmdResult, pattern: RegExp, what: string): void {
  assert.notEqual(r.code, 0, `${what} should fail\n${d.diagnose(r)}`);
  assert.match(`${r.stderr}\n${r.stdout}`, pattern, `${what}: unclear error\n${d.diagnose(r)}`);
}

/** `df -k /` inside: the size in KiB. */
async function dfSize(d: Daemon, name: string, path = '/'): Promise<number> {
  const out = (await d.dockerOk(['exec', name, 'df', '-k', path])).stdout.trim().split('\n');
  return Number(out[out.length - 1]!.trim().split(/\s+/)[1]);
}

describe('loop backend (ext4 image per container)', () => {
  let cd: ContainerDaemon | undefined;
  let d: Daemon;
  let quotaDir: string;

  before(async () => {
    cd = await startContainerDaemon('quota');
    d = cd.d;
    quotaDir = join(d.dataRoot, 'quota');
    await importImage(d);
  });

  after(async () => {
    await teardownContainerDaemon(cd).catch((e) => console.error(e));
    if (d) for (const l of await loopsUnder(d.dataRoot)) await run('losetup', ['-d', l.split(' ')[0]!]);
  });

  test('a write past --disk-quota fails, another container keeps writing, df shows the limit', { timeout: 120_000 }, async () => {
    await d.joeyOk(['run', '-d', '--name', 'qc', '--network', 'none', '--disk-quota', '20m', IMAGE, 'sleep', '600']);
    await d.dockerOk(['run', '-d', '--name', 'free', '--network', 'none', IMAGE, 'sleep', '600']);
    const size = await dfSize(d, 'qc');
    assert.ok(size > 12 * 1024 && size <= 20 * 1024, `df inside shows the 20m limit, not the host: ${size} KiB`);
    fails(d, await dd(d, 'qc', '/big', 30), FULL, 'writing 30 MB under a 20m quota');
    const ok = await dd(d, 'free', '/big', 30);
    assert.equal(ok.code, 0, `a container without a quota writes 30 MB\n${d.diagnose(ok)}`);
    assert.equal((await d.dockerJson<any[]>(['inspect', 'qc']))[0].Config.DiskQuota['/'], '20m');
    assert.deepEqual(await loopsUnder(quotaDir).then((l) => l.length), 1, 'one loop device: the quota container only');
  });

  test('update --disk-quota grows it (live where joeyd may resize2fs, else stopped); shrinking is refused', { timeout: 120_000 }, async () => {
    const live = await d.joey(['update', '--disk-quota', '40m', 'qc']);
    if (live.code !== 0) {
      // Growing a mounted ext4 takes CAP_SYS_RESOURCE, which root lacks on these machines: a clear refusal, then the stopped way.
      fails(d, live, /cannot grow the disk quota while the container runs: .*CAP_SYS_RESOURCE/s, 'a live grow without CAP_SYS_RESOURCE');
      assert.ok((await dfSize(d, 'qc')) < 21 * 1024, 'a refused grow leaves the old size');
      await d.dockerOk(['stop', '-t', '0', 'qc']);
      await d.joeyOk(['update', '--disk-quota', '40m', 'qc']);
      await d.dockerOk(['start', 'qc']);
    }
    const ok = await dd(d, 'qc', '/big', 30);
    assert.equal(ok.code, 0, `30 MB fits after growing to 40m\n${d.diagnose(ok)}`);
    assert.ok((await dfSize(d, 'qc')) > 30 * 1024, 'df shows the new size');
    assert.equal((await d.dockerJson<any[]>(['inspect', 'qc']))[0].Config.DiskQuota['/'], '40m');
    const r = await d.joey(['update', '--disk-quota', '10m', 'qc']);
    fails(d, r, /cannot shrink the disk quota from 40m to 10m/, 'shrinking');
    const plain = await d.joey(['update', '--disk-quota', '40m', 'free']);
    fails(d, plain, /has no disk quota on its rootfs/, 'adding a quota with update');
  });

  test('the quota container survives a kill -9 of joeyd (live restore), and start-up sweeps leftovers', { timeout: 120_000 }, async () => {
    // A leftover as a crash leaves it: the image of a container that no longer exists, still loop-mounted.
    const ghost = 'f'.repeat(64);
    const img = join(quotaDir, 'containers', `${ghost}.img`);
    const mnt = join(d.dataRoot, 'ghost-mnt');
    await mkdir(mnt, { recursive: true });
    await mkdir(join(quotaDir, 'containers'), { recursive: true });
    await runOk('truncate', ['-s', '8M', img]);
    await runOk('mkfs.ext4', ['-q', '-F', img]);
    await runOk('mount', ['-o', 'loop', img, mnt]);
    await d.kill9();
    await d.restart();
    assert.equal(existsSync(img), false, 'the leftover image is deleted');
    assert.deepEqual((await loopsUnder(quotaDir)).filter((l) => l.includes(ghost)), [], 'its loop device is detached');
    assert.deepEqual((await mountsUnder(mnt)), [], 'its mount is gone');
    // The running quota container kept its limit and its data.
    fails(d, await d.docker(['exec', 'qc', 'sh', '-c', 'dd if=/dev/zero of=/more bs=1M count=30 && sync'], { timeoutMs: 60_000 }), FULL, 'writing past 40m after the restart');
    assert.equal((await d.dockerOk(['exec', 'qc', 'sh', '-c', 'ls -l /big | wc -l'])).stdout.trim(), '1');
  });

  test('rm leaves no loop device, mount or image', { timeout: 60_000 }, async () => {
    await d.dockerOk(['rm', '-f', 'qc', 'free']);
    assert.deepEqual(await loopsUnder(d.dataRoot), []);
    assert.deepEqual(await filesUnder(quotaDir), []);
    assert.deepEqual((await mountsUnder(d.dataRoot)).filter((m) => !m.includes('/overlay')), []);
  });

  test('volume create -o size=10m: writing 20 MB into it fails; rm releases it', { timeout: 120_000 }, async () => {
    await d.dockerOk(['volume', 'create', '-o', 'size=10m', 'vq']);
    assert.equal((await d.dockerJson<any[]>(['volume', 'inspect', 'vq']))[0].Options.size, '10m');
    assert.deepEqual(await loopsUnder(quotaDir), [], 'no loop device while no container uses it');
    const r = await d.docker(['run', '--rm', '--network', 'none', '-v', 'vq:/data', IMAGE, 'sh', '-c', 'ls -A /data; dd if=/dev/zero of=/data/big bs=1M count=20 && sync'], { timeoutMs: 60_000 });
    fails(d, r, FULL, 'writing 20 MB into a 10m volume');
    assert.doesNotMatch(r.stdout, /lost\+found/, 'the volume starts empty');
    assert.deepEqual(await loopsUnder(quotaDir), [], 'released when the container went');
    // --disk-quota /data=10m on an anonymous volume does the same.
    const anon = await d.joey(['run', '--rm', '--network', 'none', '-v', '/data', '--disk-quota', '/data=10m', IMAGE, 'sh', '-c', 'dd if=/dev/zero of=/data/big bs=1M count=20 && sync'], { timeoutMs: 60_000 });
    fails(d, anon, FULL, 'writing 20 MB into a /data=10m volume');
    await d.dockerOk(['volume', 'rm', 'vq']);
    await d.dockerOk(['volume', 'prune', '-af']);
    assert.deepEqual(await filesUnder(quotaDir), []);
    assert.deepEqual(await loopsUnder(d.dataRoot), []);
  });

  test('bad quotas are refused at create with the reason, and nothing is left', { timeout: 60_000 }, async () => {
    const bind = join(work, 'bind');
    await mkdir(bind, { recursive: true });
    const cases: Array<[string[], RegExp]> = [
      [['--disk-quota', '10x'], /invalid disk quota for \/ size "10x"/],
      [['--disk-quota', '1k'], /disk quota 1k for the rootfs is too small/],
      [['--disk-quota', '/nowhere=10m'], /disk quota for \/nowhere: no volume is mounted there/],
      [['-v', `${bind}:/h`, '--disk-quota', '/h=10m'], /disk quota for \/h: it is a bind mount/],
      [['--disk-quota', 'data=10m'], /invalid disk quota path "data"/],
      [['--disk-quota', '10m', '--quota-id', '1000'], /QuotaID 1000 needs project quota/],
    ];
    for (const [flags, pattern] of cases) {
      const r = await d.joey(['create', '--network', 'none', ...flags, IMAGE, 'true']);
      fails(d, r, pattern, flags.join(' '));
    }
    fails(d, await d.docker(['volume', 'create', '-o', 'size=lots', 'bad']), /invalid volume size size "lots"/, 'volume create -o size=lots');
    const api = await d.api('POST', '/containers/create', { Image: IMAGE, DiskQuota: { '/': 'big' } });
    assert.equal(api.status, 400);
    assert.deepEqual((await d.dockerOk(['ps', '-aq'])).stdout.trim(), '');
    assert.deepEqual(await loopsUnder(d.dataRoot), []);
    assert.deepEqual(await filesUnder(quotaDir), []);
  });

  test('without --disk-quota nothing changes: no loop device, no image', { timeout: 60_000 }, async () => {
    const r = await d.dockerOk(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'dd if=/dev/zero of=/x bs=1M count=30 2>&1 && df -k / | tail -1']);
    assert.match(r.stdout, /30\+0 records out/);
    assert.deepEqual(await loopsUnder(d.dataRoot), []);
  });
});

describe('btrfs backend (data root on btrfs)', () => {
  let cd: ContainerDaemon | undefined;
  let d: Daemon;
  let file: string;
  let mnt: string;

  before(async () => {
    file = join(work, 'btrfs.img');
    mnt = join(work, 'btrfs');
    await mkdir(mnt, { recursive: true });
    await runOk('truncate', ['-s', '1G', file]);
    await runOk('mkfs.btrfs', ['-q', file]);
    await runOk('mount', ['-o', 'loop', file, mnt]);
    cd = await startContainerDaemon('quota-btrfs', { args: ['--data-root', join(mnt, 'data')] });
    d = cd.d;
    await importImage(d);
  });

  after(async () => {
    await teardownContainerDaemon(cd).catch((e) => console.error(e));
    if (mnt) {
      for (const m of (await mountsUnder(mnt)).reverse()) await run('umount', ['-l', m]);
      await run('umount', [mnt]);
    }
    if (file) for (const l of await loopsUnder(work)) await run('losetup', ['-d', l.split(' ')[0]!]);
  });

  test('a qgroup limits the container: the write fails, another container writes, update grows it', { timeout: 180_000 }, async () => {
    await d.joeyOk(['run', '-d', '--name', 'bq', '--network', 'none', '--disk-quota', '20m', IMAGE, 'sleep', '600']);
    await d.dockerOk(['run', '-d', '--name', 'bfree', '--network', 'none', IMAGE, 'sleep', '600']);
    fails(d, await dd(d, 'bq', '/big', 30), FULL, 'writing 30 MB under a 20m qgroup');
    const ok = await dd(d, 'bfree', '/big', 30);
    assert.equal(ok.code, 0, `a container without a quota writes 30 MB\n${d.diagnose(ok)}`);
    await d.joeyOk(['update', '--disk-quota', '60m', 'bq']);
    const grown = await dd(d, 'bq', '/big', 30);
    assert.equal(grown.code, 0, `30 MB fits after growing to 60m\n${d.diagnose(grown)}`);
    assert.deepEqual(await loopsUnder(join(mnt, 'data')), [], 'no loop device: btrfs needs none');
  });

  test('an inode limit is refused: qgroups count bytes only', { timeout: 60_000 }, async () => {
    fails(d, await d.joey(['create', '--disk-quota', '20m:1000', IMAGE, 'true']), /inode limit, which the btrfs backend cannot give/, 'inodes on btrfs');
  });

  test('rm deletes the subvolume', { timeout: 60_000 }, async () => {
    const before = (await runOk('btrfs', ['subvolume', 'list', mnt])).stdout.trim().split('\n').filter(Boolean).length;
    assert.ok(before >= 1, 'the quota container has a subvolume');
    await d.dockerOk(['rm', '-f', 'bq', 'bfree']);
    assert.equal((await runOk('btrfs', ['subvolume', 'list', mnt])).stdout.trim(), '');
  });
});
