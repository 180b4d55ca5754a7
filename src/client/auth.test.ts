import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CredentialStore, INDEX_SERVER, authFor, configDir, convertToHostname, decodeAuthHeader, encodeAuthHeader, registryKey } from './auth.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('config dir: --config, then JOEY_CONFIG, then ~/.joey', () => {
  assert.equal(configDir({ flag: '/f', env: { JOEY_CONFIG: '/e', HOME: '/h' } }), '/f');
  assert.equal(configDir({ env: { JOEY_CONFIG: '/e', HOME: '/h' } }), '/e');
  assert.equal(configDir({ env: { HOME: '/h' } }), '/h/.joey');
});

test('credentials are saved in docker config.json form, mode 0600', async (t) => {
  const dir = path.join(tempDir(t), 'sub');
  const store = await CredentialStore.open(dir);
  store.set('127.0.0.1:5000', { username: 'bob', password: 'secret' });
  await store.save();
  const file = path.join(dir, 'config.json');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { auths: { '127.0.0.1:5000': { auth: Buffer.from('bob:secret').toString('base64') } } });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const again = await CredentialStore.open(dir);
  assert.deepEqual(again.get('127.0.0.1:5000'), { serveraddress: '127.0.0.1:5000', username: 'bob', password: 'secret' });
});

test('other settings in config.json survive a save', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: {}, psFormat: 'table {{.ID}}' }));
  const store = await CredentialStore.open(dir);
  store.set(INDEX_SERVER, { username: 'u', password: 'p' });
  await store.save();
  const data = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(data.psFormat, 'table {{.ID}}');
  assert.ok(data.auths[INDEX_SERVER].auth);
});

test('legacy URL keys are found by hostname; erase reports what it removed', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { 'https://reg.example.com/v2/': { auth: Buffer.from('a:b').toString('base64') } } }));
  const store = await CredentialStore.open(dir);
  assert.equal(store.get('reg.example.com')?.username, 'a');
  assert.equal(store.erase('reg.example.com'), false);
  assert.equal(store.erase('https://reg.example.com/v2/'), true);
  assert.equal(store.get('reg.example.com'), undefined);
});

test('Docker Hub credentials live under the legacy index URL', async (t) => {
  const store = await CredentialStore.open(tempDir(t));
  store.set(INDEX_SERVER, { username: 'hub', password: 'pw' });
  assert.equal(registryKey('docker.io'), INDEX_SERVER);
  assert.equal(registryKey('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.deepEqual(authFor(store, 'docker.io'), { serveraddress: INDEX_SERVER, username: 'hub', password: 'pw' });
  assert.deepEqual(authFor(store, 'quay.io'), {});
});

test('X-Registry-Auth is URL-safe base64 of the JSON, padded as docker pads it', () => {
  assert.equal(encodeAuthHeader({}), 'e30=');
  const auth = { username: 'u?>', password: 'p~~~', serveraddress: 'r' };
  const h = encodeAuthHeader(auth);
  assert.doesNotMatch(h, /[+/]/);
  assert.deepEqual(decodeAuthHeader(h), auth);
});

test('hostnames from registry URLs', () => {
  assert.equal(convertToHostname('https://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  assert.equal(convertToHostname('127.0.0.1:5000/foo'), '127.0.0.1:5000');
  assert.equal(convertToHostname('http://reg'), 'reg');
});
