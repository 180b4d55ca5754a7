import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isIgnored, parseDockerignore } from './dockerignore.ts';

describe('.dockerignore', () => {
  const p = parseDockerignore('# comment\n*.secret\n/build/\ndocs/**/*.md\n!docs/keep/**\n**/node_modules\ntmp?\n[ab].txt\n');

  test('filepath.Match patterns, ** and parents', () => {
    assert.ok(isIgnored(p, 'x.secret'));
    assert.ok(!isIgnored(p, 'sub/x.secret'), '* does not cross /');
    assert.ok(isIgnored(p, 'build/out/bin'), 'a matched parent excludes what is below');
    assert.ok(isIgnored(p, 'docs/a.md'));
    assert.ok(isIgnored(p, 'docs/x/y/a.md'));
    assert.ok(isIgnored(p, 'a/b/node_modules/x'));
    assert.ok(isIgnored(p, 'node_modules'));
    assert.ok(isIgnored(p, 'tmp1') && !isIgnored(p, 'tmp12'));
    assert.ok(isIgnored(p, 'a.txt') && !isIgnored(p, 'c.txt'));
    assert.ok(!isIgnored(p, 'src/main.ts'));
  });

  test('the last match wins and ! makes exceptions', () => {
    assert.ok(!isIgnored(p, 'docs/keep/a.md'));
    const q = parseDockerignore('*\n!keep\nkeep/but-not-this\n');
    assert.ok(isIgnored(q, 'anything'));
    assert.ok(!isIgnored(q, 'keep'));
    assert.ok(isIgnored(q, 'keep/but-not-this'));
  });
});
