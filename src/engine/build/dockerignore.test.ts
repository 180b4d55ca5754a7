import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileGlob, isIgnored, parseDockerignore } from './dockerignore.ts';

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

test('glob matching stays linear: many stars against a long name answer at once', () => {
  const g = compileGlob('*a*a*a*a*a*a*a*a*b');
  const t0 = Date.now();
  assert.equal(g.test('a'.repeat(2000)), false);
  assert.equal(g.test('a'.repeat(2000) + 'b'), true);
  assert.ok(Date.now() - t0 < 500, `took ${Date.now() - t0} ms`);
});

test('glob syntax: ?, classes, ranges, negation, escapes, ** and **/', () => {
  const m = (p: string, s: string): boolean => compileGlob(p).test(s);
  assert.equal(m('f?o', 'foo'), true);
  assert.equal(m('f?o', 'f/o'), false);
  assert.equal(m('[a-c]x', 'bx'), true);
  assert.equal(m('[^a-c]x', 'bx'), false);
  assert.equal(m('[^a-c]x', 'dx'), true);
  assert.equal(m('\\*x', '*x'), true);
  assert.equal(m('\\*x', 'ax'), false);
  assert.equal(m('*.go', 'a/b.go'), false);
  assert.equal(m('**/*.go', 'a/b/c.go'), true);
  assert.equal(m('**/*.go', 'c.go'), true);
  assert.equal(m('a/**', 'a/b/c'), true);
  assert.equal(m('a/**/z', 'a/z'), true);
  assert.equal(m('a/**/z', 'a/b/c/z'), true);
  assert.equal(m('a/**/z', 'a/b/cz'), false);
});
