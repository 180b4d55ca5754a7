import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LoopSys } from '../../sys/quota/loop.ts';
import { LoopBackend } from './loop-backend.ts';
import { DiskQuotas } from './service.ts';

const MiB = 1024 * 1024;

/** Records calls; images are plain files of the asked size. */
function fakeSys(opts: { onlineFails?: boolean } = {}): LoopSys & { calls: string[]; sizes: Map<string, number>; mounted: Set<string> } {
  const calls: string[] = [];
  const sizes = new Map<string, number>();
  const mounted = new Set<string>();
  return {
    calls,
    sizes,
    mounted,
    async makeImage(path, bytes, inodes) {
      calls.push(`make ${bytes}${inodes ? ` -N ${inodes}` : ''}`);
      await writeFile(path, '');
      sizes.set(path, bytes);
    },
    async growOnline(path, bytes) {
      calls.push(`grow-online ${bytes}`);
      if (opts.onlineFails) throw new Error('resize2fs: Permission denied to resize filesystem');
      sizes.set(path, bytes);
    },
    async growOffline(path, bytes) {
      calls.push(`grow-offline ${bytes}${mounted.size ? ' (mounted!)' : ''}`);
      sizes.set(path, bytes);
    },
    async imageSize(path) {
      return sizes.get(path);
    },
    async mountImage(path, dir) {
      calls.push(`mount ${dir}`);
      mounted.add(dir);
    },
    async releaseImage() {
      calls.push('release');
      mounted.clear();
    },
    async removeImage(path) {
      calls.push('remove');
      sizes.delete(path);
      await rm(path, { force: true });
    },
    async devices() {
      return [];
    },
  };
}

async function setup(opts: { onlineFails?: boolean } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'joey-quota-unit-'));
  const sys = fakeSys(opts);
  const backend = new LoopBackend({ root: join(root, 'quota'), sys, isMountPoint: async (d) => sys.mounted.has(d) });
  return { root, sys, backend, quotas: new DiskQuotas(backend) };
}

test('a rootfs area: image, mount, then fs/ and work/ inside it; grow online; shrink refused; destroy removes it', async () => {
  const { root, sys, backend, quotas } = await setup();
  const dir = join(root, 'snapshots', '7');
  await mkdir(join(dir, 'fs'), { recursive: true });
  await mkdir(join(dir, 'work'));
  await quotas.limitRootfs('c1', dir, { bytes: 20 * MiB, inodes: 5000 });
  assert.equal(await quotas.rootfsProjectId('c1'), undefined, 'no project id on the loop backend');
  assert.deepEqual(sys.calls, [`make ${20 * MiB} -N 5000`, `mount ${dir}`]);
  assert.deepEqual((await readdir(dir)).sort(), ['fs', 'work']);
  assert.deepEqual(await backend.owners(), ['containers/c1']);
  await quotas.resizeRootfs('c1', dir, { bytes: 40 * MiB }, { live: true });
  assert.equal(sys.calls.at(-1), `grow-online ${40 * MiB}`);
  await assert.rejects(quotas.resizeRootfs('c1', dir, { bytes: 10 * MiB }, { live: true }), { kind: 'invalid', message: /cannot shrink the disk quota from 40m to 10m/ });
  await quotas.releaseRootfs('c1', dir);
  assert.deepEqual(sys.calls.slice(-2), ['release', 'remove']);
  assert.deepEqual(await backend.owners(), []);
  await rm(root, { recursive: true, force: true });
});

test('a stopped area grows offline (unmounted, then mounted again); a refused live grow says why', async () => {
  const { root, sys, quotas } = await setup({ onlineFails: true });
  const dir = join(root, 'snap');
  await quotas.limitRootfs('c2', dir, { bytes: 20 * MiB });
  await assert.rejects(quotas.resizeRootfs('c2', dir, { bytes: 40 * MiB }, { live: true }), { kind: 'failed-precondition', message: /CAP_SYS_RESOURCE/ });
  await quotas.resizeRootfs('c2', dir, { bytes: 40 * MiB }, { live: false });
  assert.deepEqual(sys.calls.slice(-3), ['release', `grow-offline ${40 * MiB}`, `mount ${dir}`]);
  await rm(root, { recursive: true, force: true });
});

test('limits the backend cannot give are refused before anything is made', async () => {
  const { root, sys, quotas } = await setup();
  assert.throws(() => quotas.checkLimit({ bytes: 1024 }, 'the rootfs'), { kind: 'invalid', message: /too small/ });
  quotas.checkLimit({ bytes: 20 * MiB, inodes: 100 }, 'the rootfs'); // ext4 images take an inode count
  assert.deepEqual(sys.calls, []);
  await rm(root, { recursive: true, force: true });
});

test('start-up sweep: areas of containers and volumes that no longer exist go, the others stay', async () => {
  const { root, backend, quotas } = await setup();
  await quotas.limitRootfs('keep', join(root, 'a'), { bytes: 20 * MiB });
  await quotas.limitRootfs('gone', join(root, 'b'), { bytes: 20 * MiB });
  await quotas.createVolume('vgone', join(root, 'v'), { bytes: 20 * MiB });
  assert.deepEqual(await quotas.sweep({ containers: new Set(['keep']), volumes: new Set() }), ['containers/gone', 'volumes/vgone']);
  assert.deepEqual(await backend.owners(), ['containers/keep']);
  await rm(root, { recursive: true, force: true });
});
