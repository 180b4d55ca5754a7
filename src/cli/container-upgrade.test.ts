import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upgradeBody } from './container-upgrade.ts';

test('upgrade flags become the API body; a bad window is refused before any request', () => {
  assert.deepEqual(upgradeBody(['httpd', '-f'], { image: 'app:v2', keepRootfs: true, rollbackWindow: '1m30s' }), {
    Image: 'app:v2',
    Cmd: ['httpd', '-f'],
    KeepRootfs: true,
    RollbackWindow: 90e9,
  });
  assert.deepEqual(upgradeBody([], { entrypoint: '' }), { Entrypoint: [], KeepRootfs: false, RollbackWindow: 0 });
  assert.throws(() => upgradeBody([], { rollbackWindow: 'soon' }), /invalid argument "soon" for "--rollback-window"/);
  assert.throws(() => upgradeBody([], { rollbackWindow: '-5s' }), /cannot be negative/);
});
