import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ScopedRoot } from '../../archive/scoped-root.ts';
import { run } from '../../sys/exec.ts';
import { parseGetfattrAll } from '../../sys/xattr.ts';
import { computeChanges, isEngineManaged, type Change } from './changes.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});

/** An image (lower) and a container's upper dir, made by `setup`. */
async function layers(setup: (lower: string, upper: string) => Promise<void>): Promise<{ lower: string; upper: string }> {
  const base = await fsp.mkdtemp(join(tmpdir(), 'joey-changes-'));
  dirs.push(base);
  const lower = join(base, 'lower');
  const upper = join(base, 'upper');
  await fsp.mkdir(lower);
  await fsp.mkdir(upper);
  await setup(lower, upper);
  return { lower, upper };
}

async function changes(l: { lower: string; upper: string }, opaque: string[] = []): Promise<string[]> {
  const upper = await ScopedRoot.open(l.upper);
  const lower = await ScopedRoot.open(l.lower);
  try {
    const got: Change[] = await computeChanges(upper, lower, { opaque: new Set(opaque), exclude: isEngineManaged });
    return got.map((c) => `${'CAD'[c.Kind]} ${c.Path}`);
  } finally {
    await upper.close();
    await lower.close();
  }
}

/** The image: /bin/sh, /etc/{passwd,group}, /tmp, /d/{a,b}. */
async function image(lower: string): Promise<void> {
  for (const d of ['bin', 'etc', 'tmp', 'd']) await fsp.mkdir(join(lower, d), { mode: 0o755 });
  await fsp.writeFile(join(lower, 'bin/sh'), 'sh');
  await fsp.writeFile(join(lower, 'etc/passwd'), 'root');
  await fsp.writeFile(join(lower, 'etc/group'), 'root');
  await fsp.writeFile(join(lower, 'd/a'), 'a');
  await fsp.writeFile(join(lower, 'd/b'), 'b');
}

/** A directory copied up as overlay does: same owner and mode as below. */
async function copyUp(lower: string, upper: string, dir: string): Promise<void> {
  const st = await fsp.stat(join(lower, dir));
  await fsp.mkdir(join(upper, dir), { mode: st.mode & 0o7777 });
  await fsp.chmod(join(upper, dir), st.mode & 0o7777);
}

const isRoot = process.geteuid?.() === 0;

describe('computeChanges', () => {
  test('added, changed and (with whiteouts) deleted paths, sorted by path', { skip: !isRoot && 'needs root for mknod' }, async () => {
    const l = await layers(async (lower, upper) => {
      await image(lower);
      await fsp.writeFile(join(upper, 'new'), 'n');
      await copyUp(lower, upper, 'etc');
      await fsp.writeFile(join(upper, 'etc/passwd'), 'root\nx');
      await run('mknod', [join(upper, 'etc/group'), 'c', '0', '0']);
      await copyUp(lower, upper, 'tmp');
      await fsp.mkdir(join(upper, 'tmp/d'));
      await fsp.writeFile(join(upper, 'tmp/d/f'), '');
    });
    assert.deepEqual(await changes(l), ['A /new', 'C /etc', 'D /etc/group', 'C /etc/passwd', 'C /tmp', 'A /tmp/d', 'A /tmp/d/f'].sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1)));
  });

  test('mount points the engine made are not changes, nor is their directory', async () => {
    const l = await layers(async (lower, upper) => {
      await image(lower);
      await copyUp(lower, upper, 'etc');
      await fsp.writeFile(join(upper, 'etc/hostname'), '');
      await fsp.writeFile(join(upper, 'etc/resolv.conf'), '');
      await fsp.mkdir(join(upper, 'proc'));
      await fsp.mkdir(join(upper, 'dev'));
      await fsp.mkdir(join(upper, 'sys'));
    });
    assert.deepEqual(await changes(l), []);
  });

  test('a directory whose mode changed is a change by itself', async () => {
    const l = await layers(async (lower, upper) => {
      await image(lower);
      await fsp.mkdir(join(upper, 'bin'), { mode: 0o700 });
      await fsp.chmod(join(upper, 'bin'), 0o700);
    });
    assert.deepEqual(await changes(l), ['C /bin']);
  });

  test("an opaque directory hides the image's content below it", async () => {
    const l = await layers(async (lower, upper) => {
      await image(lower);
      await copyUp(lower, upper, 'd');
      await fsp.writeFile(join(upper, 'd/a'), 'new a');
      await fsp.writeFile(join(upper, 'd/c'), 'c');
    });
    assert.deepEqual(await changes(l, ['/d']), ['C /d', 'C /d/a', 'D /d/b', 'A /d/c']);
  });

  test('a file replaced by a directory, and the reverse', async () => {
    const l = await layers(async (lower, upper) => {
      await image(lower);
      await fsp.mkdir(join(upper, 'bin'));
      await fsp.chmod(join(upper, 'bin'), 0o755);
      await fsp.mkdir(join(upper, 'bin/sh'));
      await fsp.writeFile(join(upper, 'bin/sh/x'), '');
      await fsp.writeFile(join(upper, 'd'), 'file now');
    });
    assert.deepEqual(await changes(l), ['C /bin', 'C /bin/sh', 'A /bin/sh/x', 'C /d']);
  });

  test('getfattr output gives the opaque directories', () => {
    const out = '# file: /s/fs\ntrusted.overlay.opaque=0x79\n\n# file: /s/fs/a/b\\040c\ntrusted.overlay.opaque=0x79\n\n# file: /s/fs/x\\012y\ntrusted.overlay.opaque=0x78\n\n';
    const found = parseGetfattrAll(out, '/s/fs');
    assert.deepEqual([...found.keys()], ['', 'a/b c', 'x\ny']);
    assert.equal(found.get('a/b c')!['trusted.overlay.opaque']!.toString(), 'y');
    assert.equal(found.get('x\ny')!['trusted.overlay.opaque']!.toString(), 'x');
  });
});
