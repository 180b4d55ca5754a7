import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TarReader } from './tar-reader.ts';
import type { TarEntry } from './tar-reader.ts';
import { makeTar, paxBody, paxEntry, rawEntry } from './test-fixtures.ts';

interface Read {
  entries: Array<TarEntry & { content: Buffer }>;
  ended: boolean;
}

/** Feeds `tar` in pieces of `step` bytes and collects entries with their data. */
function read(tar: Buffer, step = tar.length, smallFile?: number): Read {
  const r = new TarReader(smallFile);
  const entries: Read['entries'] = [];
  let parts: Buffer[] = [];
  let ended = false;
  for (let i = 0; i < tar.length || i === 0; i += step) {
    r.push(tar.subarray(i, i + step));
    for (let t = r.next(); t; t = r.next()) {
      if (t.kind === 'entry') {
        entries.push({ ...t.entry, content: t.data ?? Buffer.alloc(0) });
        parts = [];
      } else if (t.kind === 'data') {
        parts.push(t.data);
      } else if (t.kind === 'entry-end') {
        entries.at(-1)!.content = Buffer.concat(parts);
      } else {
        ended = true;
      }
    }
    if (tar.length === 0) break;
  }
  r.finish();
  return { entries, ended };
}

describe('TarReader', () => {
  test('same entries whatever the chunking', async () => {
    const big = Buffer.alloc(70_000, 3);
    const tar = await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750, uid: 5, gid: 6 },
      { name: 'd/small', data: 'hello' },
      { name: 'd/big', data: big },
      { name: 's', type: 'symlink', linkname: 'd/small' },
      { name: 'h', type: 'link', linkname: 'd/small' },
    ]);
    for (const step of [tar.length, 512, 100, 7, 1]) {
      for (const small of [1 << 20, 1000]) {
        const { entries, ended } = read(tar, step, small);
        assert.ok(ended, `step ${step}`);
        assert.deepEqual(
          entries.map((e) => [e.name, e.type, e.size, e.linkname]),
          [
            ['d/', 'directory', 0, ''],
            ['d/small', 'file', 5, ''],
            ['d/big', 'file', 70_000, ''],
            ['s', 'symlink', 0, 'd/small'],
            ['h', 'link', 0, 'd/small'],
          ],
        );
        assert.equal(entries[1]!.content.toString(), 'hello');
        assert.ok(entries[2]!.content.equals(big), `step ${step} small ${small}`);
        assert.equal(entries[0]!.mode, 0o750);
        assert.equal(entries[0]!.uid, 5);
      }
    }
  });

  test('GNU long names and long link names', async () => {
    const name = 'n'.repeat(300);
    const link = 'l'.repeat(200);
    const tar = await makeTar([
      rawEntry({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, Buffer.from(name + '\0')),
      rawEntry({ name: '././@LongLink', typeflag: 'K', format: 'gnu' }, Buffer.from(link + '\0')),
      rawEntry({ name: 'short', typeflag: '2', linkname: 'short-link', format: 'gnu' }),
    ]);
    const [e] = read(tar).entries;
    assert.equal(e!.name, name);
    assert.equal(e!.linkname, link);
  });

  test('pax values are raw bytes; pax overrides header fields', async () => {
    const bin = Buffer.from([0x01, 0x80, 0xff, 0x00, 0x0a]);
    const tar = await makeTar([
      paxEntry([
        ['path', 'ü/pax-name'],
        ['uid', '123456789'],
        ['mtime', '1234567890.5'],
        ['SCHILY.xattr.user.bin', bin],
      ]),
      { name: 'header-name', data: 'x' },
    ]);
    const [e] = read(tar).entries;
    assert.equal(e!.name, 'ü/pax-name');
    assert.equal(e!.uid, 123456789);
    assert.equal(e!.mtime, 1234567890.5);
    assert.deepEqual(e!.xattrs?.get('user.bin'), bin);
  });

  test('global pax headers are ignored', async () => {
    const body = paxBody([['comment', 'git archive']]);
    const tar = await makeTar([rawEntry({ name: 'pax_global_header', typeflag: 'g' }, body), { name: 'f', data: 'x' }]);
    assert.deepEqual(
      read(tar).entries.map((e) => e.name),
      ['f'],
    );
  });

  test('base-256 numbers', async () => {
    const data = Buffer.from('abc');
    const tar = await makeTar([rawEntry({ name: 'f', typeflag: '0', format: 'gnu', base256: { size: 3, uid: 70000 } }, data)]);
    const [e] = read(tar).entries;
    assert.equal(e!.size, 3);
    assert.equal(e!.uid, 70000);
    assert.equal(e!.content.toString(), 'abc');
  });

  test('header-only types carry no data whatever their size says', async () => {
    const tar = await makeTar([rawEntry({ name: 'd/', typeflag: '5', size: 512 }), { name: 'f', data: 'x' }]);
    assert.deepEqual(
      read(tar).entries.map((e) => e.name),
      ['d/', 'f'],
    );
  });

  test('stops at the end-of-archive marker', async () => {
    const tar = Buffer.concat([await makeTar([{ name: 'f', data: 'x' }]), Buffer.from('not a header'.repeat(100))]);
    const { entries, ended } = read(tar);
    assert.ok(ended);
    assert.equal(entries.length, 1);
  });

  test('a lone zero block followed by a header is corrupt', async () => {
    const one = (await makeTar([{ name: 'a', data: 'x' }])).subarray(0, -1024);
    const tar = Buffer.concat([one, Buffer.alloc(512), await makeTar([{ name: 'b', data: 'y' }])]);
    assert.throws(() => read(tar), { kind: 'data-loss', message: /after a zero block/ });
  });

  test('a stream that ends on an entry boundary is accepted (as Go does)', async () => {
    const tar = (await makeTar([{ name: 'a', data: 'x' }])).subarray(0, -1024);
    assert.deepEqual(
      read(tar).entries.map((e) => e.name),
      ['a'],
    );
  });

  test('truncation inside an entry names it', async () => {
    const tar = await makeTar([{ name: 'victim', data: Buffer.alloc(5000) }]);
    assert.throws(() => read(tar.subarray(0, 2000)), { kind: 'data-loss', message: /truncated in entry "victim"/ });
    assert.throws(() => read(tar.subarray(0, 300)), { kind: 'data-loss', message: /truncated/ });
  });

  test('bad numbers and bad pax records are corrupt', async () => {
    const bad = rawEntry({ name: 'f', typeflag: '0' }).raw;
    bad.write('9', 124, 'latin1'); // not octal
    let sum = 0;
    bad.fill(0x20, 148, 156);
    for (const c of bad) sum += c;
    bad.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    assert.throws(() => read(Buffer.concat([bad, Buffer.alloc(1024)])), { kind: 'data-loss', message: /"f".*invalid size/ });
    const tar = await makeTar([rawEntry({ name: 'P', typeflag: 'x' }, Buffer.from('99 path=x\n')), { name: 'f', data: '' }]);
    assert.throws(() => read(tar), { kind: 'data-loss', message: /pax/ });
  });

  test('sparse files are not implemented; unknown types pass as unsupported', async () => {
    const sparse = await makeTar([rawEntry({ name: 's', typeflag: 'S', format: 'gnu' })]);
    assert.throws(() => read(sparse), { kind: 'not-implemented', message: /"s".*sparse/ });
    const odd = await makeTar([rawEntry({ name: 'v', typeflag: 'V' })]);
    assert.equal(read(odd).entries[0]!.type, 'unsupported');
  });

  test('oversized extended headers are refused before they are buffered', async () => {
    const head = rawEntry({ name: 'P', typeflag: 'x', size: 1 << 30 }).raw.subarray(0, 512);
    const r = new TarReader();
    r.push(head);
    assert.throws(() => r.next(), { kind: 'data-loss', message: /too large/ });
  });
});
