import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify, cleanPath } from './names.ts';

describe('names', () => {
  test('cleanPath normalizes inside the root', () => {
    const cases: Array<[string, string]> = [
      ['./etc/passwd', 'etc/passwd'],
      ['etc//x/./y/', 'etc/x/y'],
      ['a/../b', 'b'],
      ['./', ''],
      ['.', ''],
    ];
    for (const [raw, want] of cases) assert.equal(cleanPath(raw, 'e'), want, raw);
  });

  test('cleanPath refuses what leaves the root', () => {
    for (const raw of ['/etc/passwd', '..', '../x', 'a/../../x', './a/b/../../../x', 'a\0b']) {
      assert.throws(() => cleanPath(raw, 'entry'), { kind: 'data-loss' }, raw);
    }
  });

  test('classify sorts out whiteouts', () => {
    assert.deepEqual(classify('usr/bin/ls'), { kind: 'path', path: 'usr/bin/ls' });
    assert.deepEqual(classify('./'), { kind: 'path', path: '' });
    assert.deepEqual(classify('etc/.wh.motd'), { kind: 'whiteout', path: 'etc/motd' });
    assert.deepEqual(classify('.wh.etc'), { kind: 'whiteout', path: 'etc' });
    assert.deepEqual(classify('var/.wh..wh..opq'), { kind: 'opaque', dir: 'var' });
    assert.deepEqual(classify('.wh..wh..opq'), { kind: 'opaque', dir: '' });
    assert.deepEqual(classify('.wh..wh.aufs'), { kind: 'ignore' });
    assert.deepEqual(classify('.wh..wh.plnk/1.2'), { kind: 'ignore' });
  });

  test('classify refuses whiteouts that reach out or name nothing', () => {
    for (const name of ['.wh.../../x', 'a/.wh.x/../../y', '.wh...', 'a/.wh..', 'a/.wh.', '../.wh.x', '/.wh.x']) {
      assert.throws(() => classify(name), { kind: 'data-loss', message: new RegExp(JSON.stringify(name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) }, name);
    }
  });
});
