import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import tar from 'tar-stream';
import { run } from '../sys/exec.ts';
import { getXattr } from '../sys/xattr.ts';
import { applyLayer } from './apply.ts';
import { packTree, splitDev } from './pack-tree.ts';
import { ScopedRoot } from './scoped-root.ts';
import { encodeHeader } from './tar-header.ts';
import { TarReader } from './tar-reader.ts';
import { sandbox, type Sandbox } from './test-fixtures.ts';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.cleanup();
  sb = undefined;
});

interface Listed {
  name: string;
  type: string;
  size: number;
  linkname?: string | null;
  mode?: number;
  data: string;
}

async function list(stream: Readable): Promise<Listed[]> {
  const ex = tar.extract();
  stream.pipe(ex as unknown as NodeJS.WritableStream);
  const out: Listed[] = [];
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ name: e.header.name, type: e.header.type ?? 'file', size: e.header.size ?? 0, linkname: e.header.linkname, mode: e.header.mode, data: Buffer.concat(chunks).toString() });
  }
  return out;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function tree(setup: (d: string) => Promise<void>): Promise<string> {
  sb = await sandbox();
  await setup(sb.layer);
  return sb.layer;
}

const isRoot = process.geteuid?.() === 0;

describe('packTree', () => {
  test('tars a tree as it is, symlinks as links, hard links once', async () => {
    const dir = await tree(async (d) => {
      await fsp.mkdir(join(d, 'etc'), { mode: 0o755 });
      await fsp.writeFile(join(d, 'etc/passwd'), 'root\n', { mode: 0o600 });
      await fsp.link(join(d, 'etc/passwd'), join(d, 'etc/passwd-'));
      await fsp.symlink('/etc/shadow', join(d, 'etc/shadow-link'));
      await fsp.symlink(join(d, '..', 'outside'), join(d, 'host'));
    });
    const root = await ScopedRoot.open(dir);
    try {
      const all = await list(packTree(root, root.root, '.', '', { format: 'merged' }));
      assert.deepEqual(
        all.map((e) => [e.name, e.type]),
        [
          ['etc/', 'directory'],
          ['etc/passwd', 'file'],
          ['etc/passwd-', 'link'],
          ['etc/shadow-link', 'symlink'],
          ['host', 'symlink'],
        ],
      );
      assert.equal(all[1]!.data, 'root\n');
      assert.equal(all[1]!.mode, 0o600);
      assert.equal(all[2]!.linkname, 'etc/passwd');
      assert.equal(all.find((e) => e.name === 'host')!.linkname, join(dir, '..', 'outside'), 'not followed');

      // One entry named as asked (docker cp of /etc/passwd), and a directory under its own name.
      const etc = await root.resolve('/etc');
      const one = await list(packTree(root, etc.dir, etc.name, 'etc', { format: 'merged', exclude: (p) => p === '/etc/passwd-' }));
      await etc.release();
      assert.deepEqual(one.map((e) => e.name), ['etc/', 'etc/passwd', 'etc/shadow-link']);
    } finally {
      await root.close();
    }
  });

  test('file capabilities and user.* attributes travel as PAX xattr records; trusted.* stays behind', { skip: !isRoot && 'needs root for trusted.* and capabilities' }, async () => {
    const dir = await tree(async (d) => {
      await fsp.mkdir(join(d, 'bin'));
      await fsp.writeFile(join(d, 'bin/ping'), 'elf');
      await fsp.writeFile(join(d, 'bin/plain'), 'x');
      await run('setcap', ['cap_net_raw+ep', join(d, 'bin/ping')]);
      await run('setfattr', ['-n', 'user.note', '-v', 'hello', join(d, 'bin')]);
      await run('setfattr', ['-n', 'trusted.secret', '-v', 'no', join(d, 'bin/plain')]);
    });
    const cap = await getXattr(join(dir, 'bin/ping'), 'security.capability');
    assert.ok(cap && cap.length >= 20, 'setcap wrote a capability');
    const root = await ScopedRoot.open(dir);
    let packed: Buffer;
    try {
      packed = await collect(packTree(root, root.root, '.', '', { format: 'layer' }));
    } finally {
      await root.close();
    }
    // Our own unpacker, and GNU tar, both read the records back.
    const out = await sandbox();
    try {
      await applyLayer(Readable.from([packed]), out.layer);
      assert.deepEqual(await getXattr(join(out.layer, 'bin/ping'), 'security.capability'), cap);
      assert.deepEqual(await getXattr(join(out.layer, 'bin'), 'user.note'), Buffer.from('hello'));
      assert.equal(await getXattr(join(out.layer, 'bin/plain'), 'trusted.secret'), undefined);
      const gnu = join(out.root, 'gnu');
      await fsp.mkdir(gnu);
      await fsp.writeFile(join(out.root, 'packed.tar'), packed);
      await run('tar', ['--xattrs', '--xattrs-include=*', '-C', gnu, '-xf', join(out.root, 'packed.tar')]);
      assert.match((await run('getcap', [join(gnu, 'bin/ping')])).stdout, /cap_net_raw[=+]ep/);
    } finally {
      await out.cleanup();
    }
    // Attributes given by the caller (none here): no walk, no records.
    const bare = await ScopedRoot.open(dir);
    try {
      const tarBytes = await collect(packTree(bare, bare.root, '.', '', { format: 'merged', xattrs: new Map() }));
      assert.ok(!tarBytes.includes('SCHILY.xattr'), 'no xattr records');
    } finally {
      await bare.close();
    }
  });

  test('names longer than ustar allows survive (PAX)', async () => {
    const long = 'd'.repeat(120) + '/' + 'f'.repeat(180);
    const dir = await tree(async (d) => {
      await fsp.mkdir(join(d, 'd'.repeat(120)));
      await fsp.writeFile(join(d, long), 'x');
      await fsp.symlink('t'.repeat(150), join(d, 'l'));
    });
    const root = await ScopedRoot.open(dir);
    try {
      const all = await list(packTree(root, root.root, '.', '', { format: 'merged' }));
      assert.ok(all.some((e) => e.name === long && e.data === 'x'));
      assert.equal(all.find((e) => e.name === 'l')!.linkname, 't'.repeat(150));
    } finally {
      await root.close();
    }
  });

  test('layer format: whiteouts become .wh. files, opaque directories get a marker', { skip: !isRoot && 'needs root for mknod' }, async () => {
    const dir = await tree(async (d) => {
      await fsp.mkdir(join(d, 'etc'));
      await run('mknod', [join(d, 'etc/group'), 'c', '0', '0']);
      await fsp.mkdir(join(d, 'opq'));
      await fsp.writeFile(join(d, 'opq/new'), 'n');
    });
    const root = await ScopedRoot.open(dir);
    try {
      const all = await list(packTree(root, root.root, '.', '', { format: 'layer', opaque: new Set(['/opq']) }));
      assert.deepEqual(
        all.map((e) => [e.name, e.type, e.size]),
        [
          ['etc/', 'directory', 0],
          ['etc/.wh.group', 'file', 0],
          ['opq/', 'directory', 0],
          ['opq/.wh..wh..opq', 'file', 0],
          ['opq/new', 'file', 1],
        ],
      );
    } finally {
      await root.close();
    }
  });

  test('layer format carries the xattrs it is given (a commit keeps file capabilities), binary values intact', async () => {
    const cap = Buffer.from('0100000280000000000000000000000000000000', 'hex');
    const dir = await tree(async (d) => {
      await fsp.mkdir(join(d, 'bin'));
      await fsp.writeFile(join(d, 'bin/ping'), 'ELF');
      await fsp.writeFile(join(d, 'bin/plain'), 'x');
    });
    const xattrs = new Map<string, Record<string, Buffer>>([
      ['/bin', { 'user.dir': Buffer.from('d') }],
      ['/bin/ping', { 'security.capability': cap, 'user.note': Buffer.from('hi') }],
    ]);
    const root = await ScopedRoot.open(dir);
    try {
      const chunks: Buffer[] = [];
      for await (const c of packTree(root, root.root, '.', '', { format: 'layer', xattrs })) chunks.push(c as Buffer);
      const r = new TarReader();
      r.push(Buffer.concat(chunks));
      const seen: Record<string, Record<string, string>> = {};
      for (let t = r.next(); t; t = r.next()) {
        if (t.kind === 'entry') seen[t.entry.name] = Object.fromEntries([...(t.entry.xattrs ?? [])].map(([k, v]) => [k, v.toString('hex')]));
      }
      assert.deepEqual(seen, {
        'bin/': { 'user.dir': '64' },
        'bin/ping': { 'security.capability': cap.toString('hex'), 'user.note': '6869' },
        'bin/plain': {},
      });
    } finally {
      await root.close();
    }
  });

  test('device numbers and header checksums', () => {
    assert.deepEqual(splitDev(0x0801), { major: 8, minor: 1 });
    assert.deepEqual(splitDev(0), { major: 0, minor: 0 });
    const h = encodeHeader({ name: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 1 });
    assert.equal(h.length, 512);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    assert.equal(parseInt(h.toString('latin1', 148, 154), 8), sum);
  });
});
