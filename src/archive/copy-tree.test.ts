import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { JoeyError } from '../errdefs/index.ts';
import { copyBetween } from './copy.ts';
import { copyTree, type CopySpec } from './copy-tree.ts';
import { extractInto } from './extract-tree.ts';
import { packTree } from './pack-tree.ts';
import { terminateWorkers } from './pool.ts';
import { ScopedRoot } from './scoped-root.ts';
import { getXattr } from '../sys/xattr.ts';

const isRoot = process.geteuid?.() === 0;
let dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
  dirs = [];
});
after(() => terminateWorkers());

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(join(tmpdir(), 'joey-copy-'));
  dirs.push(d);
  return d;
}

/** A context with every kind of entry a COPY meets. */
async function context(): Promise<string> {
  const c = await tmp();
  await fsp.mkdir(join(c, 'tree/sub'), { recursive: true });
  await fsp.writeFile(join(c, 'tree/a.txt'), 'alpha');
  await fsp.writeFile(join(c, 'tree/sub/big.bin'), Buffer.alloc(600_000, 7));
  await fsp.chmod(join(c, 'tree/sub/big.bin'), 0o4755);
  await fsp.writeFile(join(c, 'tree/empty'), '');
  await fsp.link(join(c, 'tree/a.txt'), join(c, 'tree/sub/hard.txt'));
  await fsp.symlink('../a.txt', join(c, 'tree/sub/rel'));
  await fsp.symlink('/etc/passwd', join(c, 'tree/abs'));
  await fsp.chmod(join(c, 'tree/sub'), 0o750);
  if (isRoot) await fsp.chown(join(c, 'tree/a.txt'), 1000, 1001);
  const t = new Date('2020-02-03T04:05:06.789Z');
  for (const p of ['tree/a.txt', 'tree/sub/big.bin', 'tree/empty', 'tree/sub', 'tree']) await fsp.utimes(join(c, p), t, t);
  return c;
}

/** A destination: `app` a symlink to `real`, a file where a directory will go, a directory where a file will. */
async function destination(): Promise<string> {
  const d = await tmp();
  await fsp.mkdir(join(d, 'real/tree/a.txt/inner'), { recursive: true });
  await fsp.writeFile(join(d, 'real/tree/sub'), 'a file in the way');
  await fsp.symlink('/real', join(d, 'app'));
  return d;
}

/** Everything under `dir`: type, mode, owner, mtime (seconds, when set from the fixture's), content or target, inode sharing. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fsp.readdir(join(dir, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = await fsp.lstat(join(dir, p));
      let what = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `-> ${await fsp.readlink(join(dir, p))}` : st.isFIFO() ? 'fifo' : (await fsp.readFile(join(dir, p))).toString('base64').slice(0, 40);
      if (st.isFile() && st.nlink > 1) {
        what += inodes.has(st.ino) ? ` same as ${inodes.get(st.ino)}` : '';
        if (!inodes.has(st.ino)) inodes.set(st.ino, p);
      }
      // Times from the sources are kept; directories made on the way get the time of the copy.
      const mtime = st.mtimeMs < 1.6e12 ? Math.floor(st.mtimeMs / 1000) : 'recent';
      out.push(`${p} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${mtime} ${what}`);
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk('');
  return out;
}

/** What the builder did before: packTree (merged) piped into extractInto. */
async function throughTar(src: string, dest: string, spec: Omit<CopySpec, 'srcRoot' | 'destRoot'>): Promise<void> {
  const s = await ScopedRoot.open(src);
  const d = await ScopedRoot.open(dest);
  try {
    const r = await s.resolve(spec.src, { followLast: true });
    try {
      const tar = packTree(s, r.dir, r.name, spec.entryName, { format: 'merged' });
      await extractInto(d, '/', tar, { ...(spec.chown ? { chown: spec.chown } : {}), ...(spec.chmod !== undefined ? { chmod: spec.chmod } : {}) });
    } finally {
      await r.release();
    }
  } finally {
    await d.close();
    await s.close();
  }
}

async function bothWays(spec: Omit<CopySpec, 'srcRoot' | 'destRoot'>, dest: () => Promise<string> = destination): Promise<{ viaTar: string[]; direct: string[]; root: string }> {
  const src = await context();
  const a = await dest();
  const b = await dest();
  await throughTar(src, a, spec);
  await copyTree({ srcRoot: src, destRoot: b, ...spec });
  return { viaTar: await listing(a), direct: await listing(b), root: b };
}

describe('copyTree', () => {
  test('a directory lands as packTree into extractInto put it: through the symlink, replacing what is in the way', async () => {
    const { viaTar, direct, root } = await bothWays({ src: '/tree', entryName: 'app/tree', chown: { uid: 0, gid: 0 } });
    assert.deepEqual(direct, viaTar);
    // Through /app -> /real inside the tree; nothing at the top but what was there.
    assert.deepEqual((await fsp.readdir(root)).sort(), ['app', 'real']);
    assert.equal(await fsp.readFile(join(root, 'real/tree/sub/big.bin')).then((b) => b.length), 600_000);
    assert.ok(direct.some((l) => l.startsWith('app ') && l.endsWith('-> /real')));
  });

  test('the sources own owners and modes without --chown, and --chmod over all', async () => {
    const own = await bothWays({ src: '/tree', entryName: 'app/tree' });
    assert.deepEqual(own.direct, own.viaTar);
    const chmod = await bothWays({ src: '/tree', entryName: 'app/tree', chown: { uid: 5, gid: 6 }, chmod: 0o640 });
    assert.deepEqual(chmod.direct, chmod.viaTar);
    assert.ok(chmod.direct.some((l) => l.startsWith('real/tree/a.txt 640 5:6 ')));
  });

  test('one file, a symlink source followed, and a context root into /', async () => {
    const file = await bothWays({ src: '/tree/sub/big.bin', entryName: 'x/y/big.bin' });
    assert.deepEqual(file.direct, file.viaTar);
    const link = await bothWays({ src: '/tree/sub/rel', entryName: 'linked' });
    assert.deepEqual(link.direct, link.viaTar);
    const all = await bothWays({ src: '/', entryName: '' });
    assert.deepEqual(all.direct, all.viaTar);
  });

  test('a destination symlink that climbs out stays inside the tree', async () => {
    const { viaTar, direct, root } = await bothWays({ src: '/tree/a.txt', entryName: 'out/a.txt' }, async () => {
      const d = await tmp();
      await fsp.symlink('../../../../../../tmp', join(d, 'out'));
      return d;
    });
    assert.deepEqual(direct, viaTar);
    assert.equal(await fsp.readFile(join(root, 'tmp/a.txt'), 'utf8'), 'alpha');
  });

  test('refuses what extractInto refused, with its message: devices, symlinks out of the destination', async () => {
    const src = await tmp();
    const dest = await tmp();
    await fsp.mkdir(join(src, 'd'));
    await fsp.symlink('../../../etc/shadow', join(src, 'd/up'));
    const refused = async (spec: Omit<CopySpec, 'srcRoot' | 'destRoot'>): Promise<string> => {
      const errs: string[] = [];
      for (const run of [() => throughTar(src, dest, spec), () => copyTree({ srcRoot: src, destRoot: dest, ...spec })]) {
        await assert.rejects(run(), (err: unknown) => {
          assert.ok(err instanceof JoeyError, String(err));
          assert.equal(err.kind, 'invalid');
          errs.push(err.message);
          return true;
        });
      }
      assert.equal(errs[1], errs[0]);
      return errs[0]!;
    };
    assert.match(await refused({ src: '/d', entryName: 'd' }), /symlink to .* is outside of the destination/);
    if (isRoot) {
      execFileSync('mknod', [join(src, 'null'), 'c', '1', '3']);
      assert.match(await refused({ src: '/null', entryName: 'null' }), /device nodes cannot be copied/);
    }
  });

  test('in an archive worker through the daemon side, errors kept', async () => {
    const src = await context();
    const a = await destination();
    const b = await destination();
    const bad = { src: '/tree/empty', entryName: 'real/tree/a.txt/x' };
    await throughTar(src, a, { src: '/tree', entryName: 'app/tree' });
    const want = await throughTar(src, a, bad).then(() => assert.fail('not refused'), (err: Error) => err.message);
    const s = await ScopedRoot.open(src);
    const d = await ScopedRoot.open(b);
    try {
      await copyBetween(s, d, { src: '/tree', entryName: 'app/tree' });
      await assert.rejects(copyBetween(s, d, bad), (err: unknown) => {
        assert.ok(err instanceof JoeyError);
        assert.equal(err.kind, 'invalid');
        assert.equal(err.message, want);
        return true;
      });
    } finally {
      await d.close();
      await s.close();
    }
    assert.deepEqual(await listing(b), await listing(a));
  });

  test('extended attributes go with the copy: user.* and file capabilities, through --chown, in the worker too', async () => {
    const src = await tmp();
    await fsp.mkdir(join(src, 'stage/bin'), { recursive: true });
    await fsp.writeFile(join(src, 'stage/bin/tool'), 'ELF');
    await fsp.writeFile(join(src, 'stage/bin/plain'), 'x');
    execFileSync('setfattr', ['-n', 'user.joey', '-v', 'from-the-stage', join(src, 'stage/bin/tool')]);
    execFileSync('setfattr', ['-n', 'user.dir', '-v', 'd', join(src, 'stage/bin')]);
    const withCaps = isRoot && (await fsp.access('/usr/sbin/setcap').then(() => true, () => false));
    if (withCaps) {
      execFileSync('/usr/sbin/setcap', ['cap_net_raw+ep', join(src, 'stage/bin/tool')]);
      execFileSync('setfattr', ['-n', 'trusted.joey', '-v', 'no', join(src, 'stage/bin/tool')]);
    }
    const cap = withCaps ? await getXattr(join(src, 'stage/bin/tool'), 'security.capability') : undefined;
    const check = async (dest: string, file: string, dir: string): Promise<void> => {
      assert.deepEqual(await getXattr(join(dest, file), 'user.joey'), Buffer.from('from-the-stage'));
      assert.deepEqual(await getXattr(join(dest, dir), 'user.dir'), Buffer.from('d'));
      assert.equal(await getXattr(join(dest, dir, 'plain'), 'user.joey'), undefined);
      if (withCaps) {
        assert.deepEqual(await getXattr(join(dest, file), 'security.capability'), cap, 'the capability survives the chown');
        assert.equal(await getXattr(join(dest, file), 'trusted.joey'), undefined, 'trusted.* stays behind');
      }
    };
    const a = await tmp();
    await copyTree({ srcRoot: src, destRoot: a, src: '/stage/bin', entryName: 'usr/bin', chown: { uid: 1, gid: 1 } });
    await check(a, 'usr/bin/tool', 'usr/bin');
    // One file on its own, and a directory's content into the root, through the daemon's side.
    const b = await tmp();
    const s = await ScopedRoot.open(src);
    const d = await ScopedRoot.open(b);
    try {
      await copyBetween(s, d, { src: '/stage/bin/tool', entryName: 'one/tool' });
      await copyBetween(s, d, { src: '/stage', entryName: '' });
    } finally {
      await d.close();
      await s.close();
    }
    await check(b, 'one/tool', 'bin');
    await check(b, 'bin/tool', 'bin');
  });
});
