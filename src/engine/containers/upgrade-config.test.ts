import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is } from '../../errdefs/index.ts';
import type { ImageConfig } from '../../images/types.ts';
import { mergeConfig } from './create.ts';
import { upgradeConfig, validateUpgradeRequest } from './upgrade-config.ts';

const v1: ImageConfig = { Cmd: ['/app', 'v1'], Env: ['PATH=/bin', 'APP=1'], WorkingDir: '/srv', Labels: { version: '1', team: 'a' }, ExposedPorts: { '80/tcp': {} } };
const v2: ImageConfig = { Cmd: ['/app', 'v2'], Env: ['PATH=/bin:/usr/bin', 'APP=2'], WorkingDir: '/srv2', Labels: { version: '2' }, ExposedPorts: { '8080/tcp': {} } };

test('a command that came from the old image becomes the new image\'s', () => {
  const cur = mergeConfig(v1, {});
  const next = upgradeConfig(cur, v1, v2, {});
  assert.deepEqual(next.Cmd, ['/app', 'v2']);
  assert.equal(next.WorkingDir, '/srv2');
  assert.deepEqual(next.Env, ['PATH=/bin:/usr/bin', 'APP=2']);
  assert.deepEqual(next.Labels, { version: '2' }, 'image labels follow the image');
  assert.deepEqual(next.ExposedPorts, { '8080/tcp': {} });
});

test('what the user gave the container stays; an explicit command wins', () => {
  const cur = mergeConfig(v1, { Cmd: ['sh', '-c', 'mine'], Env: ['APP=custom', 'EXTRA=1'], Labels: { owner: 'me', version: 'pinned' }, WorkingDir: '/mine' });
  const next = upgradeConfig(cur, v1, v2, {});
  assert.deepEqual(next.Cmd, ['sh', '-c', 'mine'], 'the container\'s own command');
  assert.deepEqual(next.Env, ['PATH=/bin:/usr/bin', 'APP=custom', 'EXTRA=1']);
  assert.deepEqual(next.Labels, { version: 'pinned', owner: 'me' });
  assert.equal(next.WorkingDir, '/mine');
  assert.deepEqual(upgradeConfig(cur, v1, v2, { Cmd: ['/app', '--flag'] }).Cmd, ['/app', '--flag']);
  // An explicit entrypoint drops an image-given command, as at create.
  const fromImage = mergeConfig(v1, {});
  const ep = upgradeConfig(fromImage, v1, v2, { Entrypoint: ['/bin/other'] });
  assert.deepEqual(ep.Entrypoint, ['/bin/other']);
  assert.equal(ep.Cmd, null);
});

test('request bodies are checked field by field', () => {
  assert.deepEqual(validateUpgradeRequest({ Image: 'x:v2', RollbackWindow: 5e9, KeepRootfs: true }), { Image: 'x:v2', KeepRootfs: true, RollbackWindow: 5e9 });
  assert.deepEqual(validateUpgradeRequest(undefined), {});
  for (const bad of [{ Image: 3 }, { Cmd: 'ls' }, { RollbackWindow: -1 }, { RollbackWindow: '5s' }, { KeepRootfs: 'yes' }, [1]]) {
    assert.throws(() => validateUpgradeRequest(bad), (e) => is(e, 'invalid'), JSON.stringify(bad));
  }
});
