import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HOST, envSource, parseHost, resolveFrom, resolveHost } from './host.ts';

test('the -H flag wins over JOEY_HOST, which wins over the default', () => {
  const env = { JOEY_HOST: 'unix:///env.sock', DOCKER_HOST: 'unix:///docker.sock' };
  assert.deepEqual(resolveHost({ flag: ['tcp://h:1'], env }), { host: 'tcp://h:1', source: 'flag' });
  assert.deepEqual(resolveHost({ flag: [], env }), { host: 'unix:///env.sock', source: 'JOEY_HOST' });
  assert.deepEqual(resolveHost({ env: {} }), { host: DEFAULT_HOST, source: 'default' });
});

test('DOCKER_HOST is not read: it points at dockerd', () => {
  assert.equal(resolveHost({ env: { DOCKER_HOST: 'unix:///var/run/docker.sock' } }).host, 'unix:///run/joey/joeyd.sock');
});

test('an empty JOEY_HOST falls through to the default', () => {
  assert.equal(resolveHost({ env: { JOEY_HOST: '' } }).source, 'default');
});

test('more than one -H is refused', () => {
  assert.throws(() => resolveHost({ flag: ['unix:///a', 'unix:///b'], env: {} }), /Specify only one -H/);
});

test('sources are tried in order; the first with a value wins', () => {
  const r = resolveFrom([{ name: 'none', resolve: () => undefined }, envSource({ X: 'unix:///x' }, 'X')]);
  assert.deepEqual(r, { host: 'unix:///x', source: 'X' });
});

test('parses unix and tcp addresses, with docker default ports', () => {
  assert.deepEqual(parseHost('unix:///run/joey/joeyd.sock'), { proto: 'unix', socketPath: '/run/joey/joeyd.sock', url: 'unix:///run/joey/joeyd.sock' });
  assert.deepEqual(parseHost('/tmp/j.sock'), { proto: 'unix', socketPath: '/tmp/j.sock', url: 'unix:///tmp/j.sock' });
  assert.deepEqual(parseHost('tcp://10.0.0.1'), { proto: 'tcp', hostname: '10.0.0.1', port: 2375, url: 'tcp://10.0.0.1:2375' });
  assert.deepEqual(parseHost('tcp://10.0.0.1', { tls: true }), { proto: 'tcp', hostname: '10.0.0.1', port: 2376, url: 'tcp://10.0.0.1:2376' });
  assert.deepEqual(parseHost('tcp://:9000'), { proto: 'tcp', hostname: '127.0.0.1', port: 9000, url: 'tcp://127.0.0.1:9000' });
  assert.deepEqual(parseHost('tcp://[::1]:9000'), { proto: 'tcp', hostname: '::1', port: 9000, url: 'tcp://[::1]:9000' });
});

test('bad addresses get docker\'s message', () => {
  for (const bad of ['foo', 'ssh://x', 'tcp://h:99999', 'tcp://h:1/path', 'unix://relative']) {
    assert.throws(() => parseHost(bad), { message: `Invalid bind address format: ${bad}` });
  }
});
