import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSourceCount, resolveDest, targetPath } from './copy-dest.ts';

describe('COPY destinations', () => {
  test('relative to WORKDIR, with a trailing slash or . meaning a directory', () => {
    assert.deepEqual(resolveDest('x', '/app'), { path: '/app/x', dirHint: false });
    assert.deepEqual(resolveDest('x/', '/app'), { path: '/app/x', dirHint: true });
    assert.deepEqual(resolveDest('.', '/app'), { path: '/app', dirHint: true });
    assert.deepEqual(resolveDest('/etc/', ''), { path: '/etc', dirHint: true });
  });

  test('where a file or a directory lands', () => {
    const file = { isDir: false, base: 'a.txt' };
    assert.equal(targetPath(file, resolveDest('/dst', '/'), false), '/dst', 'no slash: the file becomes /dst');
    assert.equal(targetPath(file, resolveDest('/dst/', '/'), false), '/dst/a.txt');
    assert.equal(targetPath(file, resolveDest('/dst', '/'), true), '/dst/a.txt', 'an existing directory takes it in');
    assert.equal(targetPath({ isDir: true, base: 'src' }, resolveDest('/dst', '/'), false), '/dst', 'a directory copies its contents');
  });

  test('several sources need a directory', () => {
    assert.throws(() => checkSourceCount('COPY', 2, resolveDest('/dst', '/')), /must be a directory and end with a \//);
    checkSourceCount('COPY', 2, resolveDest('/dst/', '/'));
    checkSourceCount('COPY', 1, resolveDest('/dst', '/'));
  });
});
