// `docker system df` and `docker system prune` against a private joeyd: known bytes written into a
// named volume and into containers' filesystems show up in GET /system/df and
// in the docker CLI's tables; an image that a container uses counts it; a
// layer two images share is counted once; `type` limits the answer; the joey
// CLI prints what the docker CLI prints.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { useContainerDaemon } from './lib/containers.ts';
import type { Daemon } from './lib/daemon.ts';
import { pushImage } from './lib/images.ts';
import { waitFor, type CmdOptions, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

let reg: Registry;
let image: string;

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
});

after(async () => {
  await reg?.stop();
});

const nm = (what: string): string => `itdf-${what}-${process.pid}`;
const lines = (s: string): string[] => s.split('\n').filter(Boolean);
const dk = (d: Daemon, args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000, ...opts });
const dkOk = (d: Daemon, args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000, ...opts });

async function removeAllVolumes(d: Daemon): Promise<void> {
  if (!d.running) return;
  const names = lines((await dk(d, ['volume', 'ls', '-q'])).stdout);
  if (names.length) await dk(d, ['volume', 'rm', '-f', ...names]);
}

/** GET /system/df as the docker CLI 28 asks for it, parsed. */
async function df(d: Daemon, query = ''): Promise<any> {
  const r = await d.api('GET', `/v1.47/system/df${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json();
}

describe('system df', () => {
  const daemon = useContainerDaemon('df', () => image, { afterEach: removeAllVolumes });

  test('volumes, containers and images: sizes, references, totals and active counts', { timeout: 120_000 }, async () => {
    const { d } = daemon();
    const vol = nm('data');
    const idle = nm('idle');
    const running = nm('running');
    const exited = nm('exited');
    const committed = `${nm('img')}:1`;

    // 3 072 000 bytes in the volume, and a hard link to them (counted once);
    // 1 500 000 bytes in the running container's own filesystem.
    await dkOk(d, ['run', '-d', '--name', running, '--network', 'none', '-v', `${vol}:/data`, image, 'sh', '-c',
      'dd if=/dev/zero of=/data/f bs=1000 count=3072 2>/dev/null && ln /data/f /data/hard && mkdir /data/dir && ' +
      'dd if=/dev/zero of=/big bs=1000 count=1500 2>/dev/null && touch /written && sleep 1000']);
    await waitFor('the writes', async () => (await dk(d, ['exec', running, 'test', '-e', '/written'])).code === 0, 30_000);
    // 200 000 bytes in a container that exited, which is then committed: its
    // image shares the base layer with the image it was made from.
    await dkOk(d, ['run', '--name', exited, '--network', 'none', image, 'sh', '-c', 'dd if=/dev/zero of=/x bs=1000 count=200 2>/dev/null']);
    await dkOk(d, ['commit', exited, committed]);
    // 500 000 bytes in a volume no container refers to.
    await dkOk(d, ['volume', 'create', idle]);
    const idleMount = (await d.dockerJson<any[]>(['volume', 'inspect', idle]))[0].Mountpoint as string;
    await writeFile(join(idleMount, 'blob'), Buffer.alloc(500_000));

    const du = await df(d);
    assert.deepEqual(du.BuildCache, []);

    const v = Object.fromEntries(du.Volumes.map((x: any) => [x.Name, x.UsageData]));
    assert.deepEqual(v[vol], { Size: 3_072_000, RefCount: 1 }, 'the volume: its bytes, a hard link once, one container');
    assert.deepEqual(v[idle], { Size: 500_000, RefCount: 0 });

    const c = Object.fromEntries(du.Containers.map((x: any) => [x.Names[0], x]));
    assert.equal(c[`/${running}`].SizeRw, 1_500_000, 'what the running container wrote into its filesystem');
    assert.equal(c[`/${running}`].State, 'running');
    assert.equal(c[`/${exited}`].SizeRw, 200_000);
    assert.equal(c[`/${exited}`].State, 'exited');

    const base = du.Images.find((x: any) => x.RepoTags.some((t: string) => image.endsWith(t) || t === image));
    const mine = du.Images.find((x: any) => x.RepoTags.includes(committed));
    assert.ok(base && mine, JSON.stringify(du.Images));
    assert.equal(base.Containers, 2, 'both containers use the pulled image');
    assert.equal(mine.Containers, 0);
    assert.equal(mine.Size, base.Size + 200_000, 'the commit adds one layer: what the container wrote');
    assert.equal(base.SharedSize, base.Size, 'the base layer is shared with the committed image');
    assert.equal(mine.SharedSize, base.Size);
    assert.equal(du.LayersSize, mine.Size, 'each layer once: the base and the commit layer');
    assert.equal(c[`/${running}`].SizeRootFs, 1_500_000 + base.Size);

    // The docker CLI's summary: totals, active counts and reclaimable space.
    const table = lines((await dkOk(d, ['system', 'df'])).stdout);
    assert.match(table[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    const row = (type: string) => table.find((l) => l.startsWith(type))!.slice(type.length).trim().split(/\s{2,}/);
    // docker counts as used only what an image in use holds alone (Size - SharedSize):
    // the base layer is shared with the commit, so everything shows as reclaimable.
    assert.deepEqual(row('Images'), ['2', '1', humanSize(mine.Size), `${humanSize(mine.Size)} (100%)`]);
    assert.deepEqual(row('Containers'), ['2', '1', '1.7MB', '200kB (11%)']);
    assert.deepEqual(row('Local Volumes'), ['2', '1', '3.572MB', '500kB (13%)']);
    assert.deepEqual(row('Build Cache'), ['0', '0', '0B', '0B']);

    // -v with a JSON template: the same objects as the docker CLI formats them.
    const verbose = JSON.parse((await dkOk(d, ['system', 'df', '-v', '--format', '{{json .}}'])).stdout);
    const vv = verbose.Volumes.find((x: any) => x.Name === vol);
    assert.deepEqual([vv.Links, vv.Size], ['1', '3.072MB']);
    const cv = verbose.Containers.find((x: any) => x.Names === running);
    assert.deepEqual([cv.Size, cv.LocalVolumes, cv.State], ['1.5MB', '1', 'running']);
    const iv = verbose.Images.find((x: any) => x.Repository === committed.split(':')[0]);
    assert.deepEqual([iv.Tag, iv.Containers, iv.UniqueSize], ['1', '0', '200kB']);
    const table2 = (await dkOk(d, ['system', 'df', '-v'])).stdout;
    assert.match(table2, new RegExp(`\\n${vol}\\s+1\\s+3\\.072MB\\n`));
    assert.match(table2, /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\n/);

    // The joey CLI prints what the docker CLI prints.
    for (const args of [['system', 'df'], ['system', 'df', '--format', 'json'], ['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Name}} {{.Links}} {{.Size}}\n{{end}}']]) {
      assert.equal((await d.joeyOk(args)).stdout, (await dkOk(d, args)).stdout, args.join(' '));
    }

    // UsageData belongs to df only: inspect and ls leave it out, as dockerd.
    const inspected = (await d.dockerJson<any[]>(['volume', 'inspect', vol]))[0];
    assert.ok(!('UsageData' in inspected) || inspected.UsageData === null, JSON.stringify(inspected));
    assert.equal((await dkOk(d, ['volume', 'ls', '--format', '{{.Name}} {{.Links}} {{.Size}}', '--filter', `name=${vol}`])).stdout, `${vol} N/A N/A\n`);
  });

  test('type limits the answer to the parts asked for; an unknown type is refused', async () => {
    const { d } = daemon();
    const vol = nm('typed');
    await dkOk(d, ['volume', 'create', vol]);
    const only = await df(d, '?type=volume');
    assert.deepEqual([only.LayersSize, only.Images, only.Containers, only.BuildCache], [0, null, null, null]);
    assert.deepEqual(only.Volumes.map((x: any) => [x.Name, x.UsageData]), [[vol, { Size: 0, RefCount: 0 }]]);
    const two = await df(d, '?type=image&type=container');
    assert.ok(Array.isArray(two.Images) && two.Images.length >= 1 && two.LayersSize > 0, JSON.stringify(two));
    assert.deepEqual([two.Containers, two.Volumes, two.BuildCache], [[], null, null]);
    const bad = await d.api('GET', '/v1.47/system/df?type=volume&type=layers');
    assert.equal(bad.status, 400);
    assert.match(bad.json().message, /unknown object type: layers/);
    // Before API 1.42 there is no `type`: everything comes back.
    const old = await d.api('GET', '/v1.41/system/df?type=volume');
    assert.equal(old.status, 200);
    assert.ok(Array.isArray(old.json().Images) && Array.isArray(old.json().Containers), old.text);
  });
});

describe('system prune', () => {
  const daemon = useContainerDaemon('prune', () => image, { afterEach: removeAllVolumes });

  test('takes stopped containers, unused networks, dangling images and (with --volumes) anonymous volumes; -a unused images too; nothing in use', { timeout: 180_000 }, async () => {
    const { d } = daemon();
    const stopped = nm('stopped');
    const running = nm('running');
    const usedNet = nm('usednet');
    const unusedNet = nm('unusednet');
    const named = nm('named');
    const keptImage = `${nm('kept')}:1`;
    try {
      await dkOk(d, ['network', 'create', usedNet]);
      await dkOk(d, ['network', 'create', unusedNet]);
      await dkOk(d, ['run', '-d', '--name', running, '--network', usedNet, '-v', `${named}:/named`, image, 'sleep', '1000']);
      // a stopped container with an anonymous volume, and a dangling image made from it
      await dkOk(d, ['run', '--name', stopped, '--network', 'none', '-v', '/anon', image, 'sh', '-c', 'echo x > /anon/f; echo y > /f']);
      const dangling = (await dkOk(d, ['commit', stopped])).stdout.trim();
      await dkOk(d, ['commit', stopped, keptImage]);
      const anon = (await d.dockerJson<any[]>(['inspect', stopped]))[0].Mounts.find((m: any) => m.Destination === '/anon').Name;

      const r = await dkOk(d, ['system', 'prune', '-f']);
      assert.match(r.stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
      assert.match(r.stdout, new RegExp(`Deleted Networks:\\n${unusedNet}\\n`));
      assert.match(r.stdout, /Deleted Images:\n(untagged: .*\n)*deleted: sha256:[0-9a-f]{64}/);
      assert.match(r.stdout, /Total reclaimed space: /);
      const names = lines((await dkOk(d, ['ps', '-a', '--format', '{{.Names}}'])).stdout);
      assert.deepEqual(names, [running], 'the stopped container went, the running one stayed');
      const nets = lines((await dkOk(d, ['network', 'ls', '--format', '{{.Name}}'])).stdout);
      assert.ok(nets.includes(usedNet) && !nets.includes(unusedNet), nets.join(','));
      assert.equal((await dk(d, ['image', 'inspect', dangling])).code, 1, 'the dangling image went');
      assert.equal((await dk(d, ['image', 'inspect', keptImage])).code, 0, 'a tagged image stays without -a');
      assert.ok(lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout).includes(anon), 'volumes stay without --volumes');

      const all = await dkOk(d, ['system', 'prune', '-a', '--volumes', '-f']);
      assert.match(all.stdout, /Deleted Volumes:\n/);
      const vols = lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout);
      assert.ok(!vols.includes(anon), 'the anonymous volume went');
      assert.ok(vols.includes(named), 'a named volume in use stays');
      assert.equal((await dk(d, ['image', 'inspect', keptImage])).code, 1, '-a takes an unused tagged image');
      assert.equal((await dk(d, ['image', 'inspect', image])).code, 0, 'the image the running container uses stays');
    } finally {
      // user networks outlive the daemon: never leave their bridges behind
      await dk(d, ['rm', '-f', running]);
      await dk(d, ['network', 'rm', usedNet, unusedNet]);
    }
  });
});

/** go-units HumanSize, for the few sizes this test shows. */
function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}
