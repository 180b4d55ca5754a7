import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ImageSummary } from '../images/types.ts';
import type { ContainerSummary } from './containers/types.ts';
import { diskUsage, type DiskUsageSources } from './disk-usage.ts';
import type { Volume } from './volumes/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'joey-df-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const summary = (id: string, size: number): ImageSummary => ({ Id: id, ParentId: '', RepoTags: [`${id}:latest`], RepoDigests: [], Created: 1, Size: size, SharedSize: -1, Labels: {}, Containers: -1 });
const volume = (name: string, mountpoint: string): Volume => ({ Name: name, Driver: 'local', Mountpoint: mountpoint, CreatedAt: '', Labels: {}, Scope: 'local', Options: null });

/** base (100 B) is under both app (base + 30 B) and tool (base + 7 B); other (5 B) stands alone. */
function sources(over: Partial<DiskUsageSources> = {}): DiskUsageSources {
  const layers: Record<string, string[]> = { app: ['c-base', 'c-app'], tool: ['c-base', 'c-tool'], other: ['c-other'] };
  const sizes: Record<string, number> = { 'c-base': 100, 'c-app': 30, 'c-tool': 7, 'c-other': 5 };
  const users: Record<string, number> = { app: 2, tool: 0, other: 1 };
  return {
    images: async () => [summary('app', 130), summary('tool', 107), summary('other', 5)],
    layersOf: (id) => layers[id] ?? [],
    layerSize: async (c) => sizes[c] ?? 0,
    containersUsing: (id) => users[id] ?? 0,
    containers: async () => [{ Id: 'c1', SizeRw: 12, SizeRootFs: 142 } as ContainerSummary],
    volumes: async () => [],
    volumeRefs: () => 0,
    ...over,
  };
}

test('a layer shared by several images counts once in LayersSize and as SharedSize in each', async () => {
  const du = await diskUsage(sources());
  assert.equal(du.LayersSize, 100 + 30 + 7 + 5);
  const byId = Object.fromEntries(du.Images!.map((i) => [i.Id, i]));
  assert.deepEqual(
    Object.fromEntries(Object.entries(byId).map(([id, i]) => [id, [i.Size, i.SharedSize, i.Containers]])),
    { app: [130, 100, 2], tool: [107, 100, 0], other: [5, 0, 1] },
  );
  assert.deepEqual(du.Containers, [{ Id: 'c1', SizeRw: 12, SizeRootFs: 142 }]);
  assert.deepEqual(du.BuildCache, []);
});

test('a volume: apparent bytes of its files, a hard link once, directories not; RefCount from its users', async () => {
  const v = join(dir, 'v1');
  mkdirSync(join(v, 'sub'), { recursive: true });
  writeFileSync(join(v, 'a'), Buffer.alloc(3000));
  writeFileSync(join(v, 'sub', 'b'), Buffer.alloc(500));
  linkSync(join(v, 'a'), join(v, 'sub', 'a-again'));
  symlinkSync('a', join(v, 'link')); // a symlink's size is its target's length: 1
  const empty = join(dir, 'v2');
  mkdirSync(empty);
  const du = await diskUsage(
    sources({
      volumes: async () => [volume('data', v), volume('empty', empty), volume('gone', join(dir, 'missing'))],
      volumeRefs: (n) => (n === 'data' ? 2 : 0),
    }),
    { types: ['volume'] },
  );
  assert.deepEqual(
    du.Volumes!.map((x) => [x.Name, x.UsageData]),
    [
      ['data', { Size: 3501, RefCount: 2 }],
      ['empty', { Size: 0, RefCount: 0 }],
      ['gone', { Size: -1, RefCount: 0 }],
    ],
  );
});

test('type picks the parts: the others are null and not computed; an unknown type is refused', async () => {
  let walked = 0;
  const src = sources({
    images: async () => {
      walked++;
      return [];
    },
  });
  const du = await diskUsage(src, { types: ['container', 'build-cache'] });
  assert.deepEqual(du, { LayersSize: 0, Images: null, Containers: [{ Id: 'c1', SizeRw: 12, SizeRootFs: 142 }], Volumes: null, BuildCache: [] });
  assert.equal(walked, 0, 'images were not listed');
  const img = await diskUsage(src, { types: ['image', 'image'] });
  assert.deepEqual([img.Images, img.Containers, img.Volumes, img.BuildCache], [[], null, null, null]);
  await assert.rejects(diskUsage(src, { types: ['image', 'layers'] }), { kind: 'invalid', message: /unknown object type: layers/ });
});
