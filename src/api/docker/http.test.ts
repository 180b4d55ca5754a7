import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { is } from '../../errdefs/index.ts';
import { decodeRegistryAuth, parseFilters, queryBool, queryTimestamp, readJson, toAuthConfig } from './http.ts';

const isInvalid = (re: RegExp) => (err: unknown) => is(err, 'invalid') && re.test((err as Error).message);

test('queryBool accepts the spellings clients send and rejects others', () => {
  const q = new URLSearchParams('a=1&b=true&c=True&d=0&e=false&f=False&g=&h=maybe');
  assert.equal(queryBool(q, 'a'), true);
  assert.equal(queryBool(q, 'b'), true);
  assert.equal(queryBool(q, 'c'), true);
  assert.equal(queryBool(q, 'd', true), false);
  assert.equal(queryBool(q, 'e'), false);
  assert.equal(queryBool(q, 'f'), false);
  assert.equal(queryBool(q, 'g', true), false);
  assert.equal(queryBool(q, 'missing', true), true);
  assert.throws(() => queryBool(q, 'h'), isInvalid(/invalid boolean value for h/));
});

test('filters: both JSON shapes, malformed is invalid', () => {
  assert.deepEqual(parseFilters('{"dangling":["true"],"label":["a=b","c"]}'), { dangling: ['true'], label: ['a=b', 'c'] });
  // The docker CLI's encoding.
  assert.deepEqual(parseFilters('{"reference":{"busybox":true,"alpine":false}}'), { reference: ['busybox'] });
  assert.deepEqual(parseFilters('null'), {});
  assert.throws(() => parseFilters('{"dangling":'), isInvalid(/invalid filter: invalid JSON/));
  assert.throws(() => parseFilters('["a"]'), isInvalid(/expected a JSON object/));
  assert.throws(() => parseFilters('{"label":"a=b"}'), isInvalid(/"label" must be a list/));
});

test('timestamps as the CLI sends them', () => {
  const q = new URLSearchParams('since=1700000000.123456789&until=1700000001&bad=yesterday');
  assert.equal(queryTimestamp(q, 'since'), 1700000000.123456789);
  assert.equal(queryTimestamp(q, 'until'), 1700000001);
  assert.equal(queryTimestamp(q, 'none'), undefined);
  assert.throws(() => queryTimestamp(q, 'bad'), isInvalid(/not a Unix timestamp/));
});

test('X-Registry-Auth: base64url and std base64, padded or not; empty means none', () => {
  const cfg = { username: 'joe', password: 'p+/?>~', serveraddress: '127.0.0.1:5000', email: 'ignored' };
  const json = JSON.stringify(cfg);
  const std = Buffer.from(json).toString('base64');
  const url = Buffer.from(json).toString('base64url');
  assert.notEqual(std.replace(/=+$/, ''), url, 'the sample exercises both alphabets');
  const want = { username: 'joe', password: 'p+/?>~', serveraddress: '127.0.0.1:5000' };
  assert.deepEqual(decodeRegistryAuth(std), want);
  assert.deepEqual(decodeRegistryAuth(url), want);
  assert.deepEqual(decodeRegistryAuth(url + '='.repeat((4 - (url.length % 4)) % 4)), want);
  assert.equal(decodeRegistryAuth(undefined), undefined);
  assert.equal(decodeRegistryAuth(''), undefined);
  assert.equal(decodeRegistryAuth(Buffer.from('{}').toString('base64')), undefined);
  assert.equal(decodeRegistryAuth(Buffer.from('null').toString('base64')), undefined);
  assert.throws(() => decodeRegistryAuth('not base64!'), isInvalid(/X-Registry-Auth/));
  assert.throws(() => decodeRegistryAuth(Buffer.from('{"user').toString('base64')), isInvalid(/X-Registry-Auth header: invalid JSON/));
  assert.throws(() => decodeRegistryAuth(Buffer.from('{"username":1}').toString('base64')), isInvalid(/username must be a string/));
});

test('auth keys match case-insensitively, as Go decodes them', () => {
  assert.deepEqual(toAuthConfig({ Username: 'a', Password: 'b', ServerAddress: 'r', IdentityToken: '' }), { username: 'a', password: 'b', serveraddress: 'r' });
});

test('readJson: empty is undefined, malformed is invalid', async () => {
  const body = (s: string) => Readable.from([Buffer.from(s)]) as unknown as IncomingMessage;
  assert.equal(await readJson(body('')), undefined);
  assert.deepEqual(await readJson(body('{"a":1}')), { a: 1 });
  await assert.rejects(readJson(body('{"a":')), isInvalid(/^invalid JSON: /));
  await assert.rejects(readJson(body('x'.repeat(100)), 10), isInvalid(/larger than 10 bytes/));
});
