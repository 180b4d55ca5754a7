import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is, JoeyError } from '../errdefs/index.ts';
import {
  InvalidReferenceError,
  familiarName,
  familiarString,
  formatReference,
  fullName,
  isFullId,
  isNameOnly,
  looksLikeIdPrefix,
  parseReference,
  parseReferenceOrId,
  withDefaultTag,
} from './index.ts';

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

test('parseReference normalizes like Docker', () => {
  const cases: [string, string, string, string?, string?][] = [
    // input, domain, path, tag, digest
    ['busybox', 'docker.io', 'library/busybox'],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36'],
    ['library/busybox', 'docker.io', 'library/busybox'],
    ['docker.io/busybox', 'docker.io', 'library/busybox'],
    ['index.docker.io/busybox:latest', 'docker.io', 'library/busybox', 'latest'],
    ['index.docker.io/library/alpine', 'docker.io', 'library/alpine'],
    ['docker.io/library/busybox', 'docker.io', 'library/busybox'],
    ['team/app', 'docker.io', 'team/app'],
    ['team/sub/app:v1', 'docker.io', 'team/sub/app', 'v1'],
    ['localhost/app', 'localhost', 'app'],
    ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000', 'x'],
    ['127.0.0.1:5000/x:5000', '127.0.0.1:5000', 'x', '5000'],
    ['quay.io/coreos/etcd', 'quay.io', 'coreos/etcd'],
    ['Example.COM/app', 'Example.COM', 'app'],
    // a first component with an uppercase letter is a registry, as in Docker's
    // splitDockerDomain: Docker Hub namespaces are lowercase
    ['Foo/bar', 'Foo', 'bar'],
    ['Team/app:v1', 'Team', 'app', 'v1'],
    ['UPPER/case/x', 'UPPER', 'case/x'],
    ['MyHost:5000/app', 'MyHost:5000', 'app'],
    ['[::1]:5000/app', '[::1]:5000', 'app'],
    ['registry:5000/app', 'registry:5000', 'app'],
    // a colon without a slash is a tag, not a port
    ['localhost:5000', 'docker.io', 'library/localhost', '5000'],
    ['a.b-c.io/f_g.h__i--j', 'a.b-c.io', 'f_g.h__i--j'],
    ['team/a__b-c---d', 'docker.io', 'team/a__b-c---d'],
    [`busybox@${DIGEST}`, 'docker.io', 'library/busybox', undefined, DIGEST],
    [`busybox:1.36@${DIGEST}`, 'docker.io', 'library/busybox', '1.36', DIGEST],
    [`127.0.0.1:5000/x@${DIGEST}`, '127.0.0.1:5000', 'x', undefined, DIGEST],
    ['app:_tag.with-Upper', 'docker.io', 'library/app', '_tag.with-Upper'],
    [`app:${'t'.repeat(128)}`, 'docker.io', 'library/app', 't'.repeat(128)],
  ];
  for (const [input, domain, path, tag, digest] of cases) {
    const ref = parseReference(input);
    const want: Record<string, string> = { domain, path };
    if (tag !== undefined) want.tag = tag;
    if (digest !== undefined) want.digest = digest;
    assert.deepEqual(ref, want, input);
  }
});

test('parseReference rejects malformed references naming the input and the reason', () => {
  const cases: [string, RegExp][] = [
    ['', /empty reference/],
    ['Busybox', /"Busybox".*must be lowercase/],
    ['library/Foo', /"library\/Foo": repository name \(library\/Foo\) must be lowercase/],
    ['Foo/Bar', /repository name \(Bar\) must be lowercase/],
    ['quay.io/Coreos/etcd', /must be lowercase/],
    ['Foo_bar/x', /invalid registry host "Foo_bar"/],
    // Docker would leave this without a registry; joey refuses it
    ['a_b.c/x', /invalid registry host "a_b.c"/],
    ['busybox:', /invalid tag ""/],
    ['busybox:-x', /invalid tag "-x"/],
    ['busybox:.x', /invalid tag/],
    [`busybox:${'t'.repeat(129)}`, /invalid tag/],
    ['busybox:a b', /invalid/],
    ['busybox@sha256:abc', /invalid digest "sha256:abc"/],
    [`busybox@sha256:${'A'.repeat(64)}`, /invalid digest .*: invalid checksum digest format/],
    [`busybox@sha256:${'a'.repeat(63)}`, /invalid checksum digest length/],
    [`busybox@sha512:${'a'.repeat(128)}`, /unsupported digest algorithm/],
    ['busybox@', /invalid digest/],
    [`a@${DIGEST}@${DIGEST}`, /invalid digest/],
    ['/busybox', /empty path component/],
    ['team//app', /empty path component/],
    ['team/app/', /empty path component/],
    ['a..b/c:d', /invalid registry host "a..b"/],
    ['-a.com/x', /invalid registry host/],
    ['host.com:port/x', /invalid registry host/],
    ['localhost/', /missing repository name/],
    [':tag', /missing repository name/],
    ['app_', /invalid repository name component "app_"/],
    ['team/-app', /invalid repository name component "-app"/],
    ['a___b', /invalid repository name component/],
    ['a.-b', /invalid repository name component/],
    ['app!', /invalid/],
    [HEX, /cannot specify 64-byte hexadecimal strings/],
    [`x.io/${'a'.repeat(251)}`, /must not be more than 255 characters/],
  ];
  for (const [input, why] of cases) {
    assert.throws(
      () => parseReference(input),
      (err: unknown) => {
        assert.ok(err instanceof JoeyError, input);
        assert.ok(err instanceof InvalidReferenceError, input);
        assert.equal(err.input, input);
        assert.ok(is(err, 'invalid'), input);
        assert.match(err.message, why, input);
        return true;
      },
      input,
    );
  }
  // the limit counts the normalized name: exactly 255 passes
  assert.equal(fullName(parseReference(`x.io/${'a'.repeat(250)}`)).length, 255);
});

test('errors also carry docker\'s own message, word for word', () => {
  const cases: [string, string][] = [
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['library/Foo', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['Foo/Bar', 'invalid reference format: repository name (Bar) must be lowercase'],
    ['Foo_bar/x', 'repository name must be lowercase'],
    ['a:b:c', 'invalid reference format'],
    ['', 'invalid reference format'],
    ['busybox@sha256:abc', 'invalid reference format'],
    [`busybox@sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
    [`busybox@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
    [`busybox@foo:${'a'.repeat(64)}`, 'unsupported digest algorithm'],
    [`x.io/${'a'.repeat(251)}`, 'repository name must not be more than 255 characters'],
    [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
  ];
  for (const [input, docker] of cases) {
    assert.throws(
      () => parseReference(input),
      (err: unknown) => err instanceof InvalidReferenceError && err.dockerMessage === docker,
      input,
    );
  }
  // docker's message for an image id already names it
  assert.throws(() => parseReference(HEX), { message: `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings` });
});

test('parseReferenceOrId takes image ids too, as Docker\'s ParseAnyReference', () => {
  assert.deepEqual(parseReferenceOrId(HEX), { id: `sha256:${HEX}` });
  assert.deepEqual(parseReferenceOrId(`sha256:${'b'.repeat(64)}`), { id: `sha256:${'b'.repeat(64)}` });
  assert.deepEqual(parseReferenceOrId('busybox:1'), { domain: 'docker.io', path: 'library/busybox', tag: '1' });
  // not a whole id: then it is a name, "sha256" with a tag
  assert.deepEqual(parseReferenceOrId('sha256:abc'), { domain: 'docker.io', path: 'library/sha256', tag: 'abc' });
  assert.throws(() => parseReferenceOrId('Busybox'), InvalidReferenceError);
});

test('names print the familiar and the full way', () => {
  const cases: [string, string, string, string, string][] = [
    // input, familiarName, fullName, formatReference, familiarString
    ['busybox', 'busybox', 'docker.io/library/busybox', 'docker.io/library/busybox', 'busybox'],
    ['busybox:1.36', 'busybox', 'docker.io/library/busybox', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['team/app:v1', 'team/app', 'docker.io/team/app', 'docker.io/team/app:v1', 'team/app:v1'],
    ['library/a/b', 'library/a/b', 'docker.io/library/a/b', 'docker.io/library/a/b', 'library/a/b'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x', '127.0.0.1:5000/x', '127.0.0.1:5000/x', '127.0.0.1:5000/x'],
    [
      `localhost:5000/x:t@${DIGEST}`,
      'localhost:5000/x',
      'localhost:5000/x',
      `localhost:5000/x:t@${DIGEST}`,
      `localhost:5000/x:t@${DIGEST}`,
    ],
    [`busybox@${DIGEST}`, 'busybox', 'docker.io/library/busybox', `docker.io/library/busybox@${DIGEST}`, `busybox@${DIGEST}`],
    ['index.docker.io/library/alpine', 'alpine', 'docker.io/library/alpine', 'docker.io/library/alpine', 'alpine'],
    ['docker.io/library/a/b', 'library/a/b', 'docker.io/library/a/b', 'docker.io/library/a/b', 'library/a/b'],
    ['Foo/bar:v1', 'Foo/bar', 'Foo/bar', 'Foo/bar:v1', 'Foo/bar:v1'],
  ];
  for (const [input, familiar, full, formatted, familiarStr] of cases) {
    const ref = parseReference(input);
    assert.equal(familiarName(ref), familiar, input);
    assert.equal(fullName(ref), full, input);
    assert.equal(formatReference(ref), formatted, input);
    assert.equal(familiarString(ref), familiarStr, input);
    // printing then parsing gives the same reference back
    assert.deepEqual(parseReference(formatReference(ref)), ref, input);
    assert.deepEqual(parseReference(familiarString(ref)), ref, input);
  }
});

test('withDefaultTag adds latest only when neither tag nor digest is given', () => {
  assert.ok(isNameOnly(parseReference('busybox')));
  assert.ok(!isNameOnly(parseReference('busybox:1')));
  assert.ok(!isNameOnly(parseReference(`busybox@${DIGEST}`)));
  assert.equal(formatReference(withDefaultTag(parseReference('busybox'))), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(withDefaultTag(parseReference('busybox:1'))), 'docker.io/library/busybox:1');
  assert.equal(formatReference(withDefaultTag(parseReference(`busybox@${DIGEST}`))), `docker.io/library/busybox@${DIGEST}`);
  const ref = parseReference('busybox');
  withDefaultTag(ref);
  assert.equal(ref.tag, undefined, 'does not modify its argument');
});

test('image id helpers', () => {
  assert.ok(isFullId(`sha256:${HEX}`));
  assert.ok(!isFullId(HEX));
  assert.ok(!isFullId(`sha256:${HEX.slice(1)}`));
  assert.ok(!isFullId(`sha256:${'A'.repeat(64)}`));
  assert.ok(looksLikeIdPrefix('abc123'));
  assert.ok(looksLikeIdPrefix(`sha256:${HEX}`));
  assert.ok(looksLikeIdPrefix('sha256:ab'));
  assert.ok(!looksLikeIdPrefix('busybox'));
  assert.ok(!looksLikeIdPrefix(''));
  assert.ok(!looksLikeIdPrefix('sha256:'));
  assert.ok(!looksLikeIdPrefix('a'.repeat(65)));
});
