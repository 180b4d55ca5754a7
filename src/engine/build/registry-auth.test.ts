import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authForImage, registryHostOf } from './registry-auth.ts';

const a = (username: string) => ({ username, password: 'p' });

test('a base image takes the credentials of its registry, as dockerd resolves them', () => {
  const configs = { '127.0.0.1:5000': a('local'), 'https://index.docker.io/v1/': a('hub'), 'http://reg.example:8080/v2/': a('ex') };
  assert.equal(authForImage(configs, '127.0.0.1:5000/team/app:v1')?.username, 'local');
  assert.equal(authForImage(configs, 'busybox')?.username, 'hub');
  assert.equal(authForImage(configs, 'docker.io/library/busybox:1')?.username, 'hub');
  assert.equal(authForImage(configs, 'reg.example:8080/x')?.username, 'ex');
  assert.equal(authForImage(configs, '127.0.0.1:5001/app'), undefined, 'another port is another registry');
  assert.equal(authForImage(undefined, 'busybox'), undefined);
  assert.equal(authForImage({ 'index.docker.io': a('hub2') }, 'alpine')?.username, 'hub2');
});

test('registryHostOf drops the scheme and path', () => {
  assert.equal(registryHostOf('https://Index.Docker.io/v1/'), 'index.docker.io');
  assert.equal(registryHostOf('127.0.0.1:5000'), '127.0.0.1:5000');
});
