import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readOnlyMounts } from './view.ts';

test("a container's overlay becomes a read-only view with its upper dir on top", () => {
  const active = [{ type: 'overlay', source: 'overlay', options: ['index=off', 'workdir=/s/3/work', 'upperdir=/s/3/fs', 'lowerdir=/s/2/fs:/s/1/fs'] }];
  assert.deepEqual(readOnlyMounts(active), [{ type: 'overlay', source: 'overlay', options: ['index=off', 'lowerdir=/s/3/fs:/s/2/fs:/s/1/fs'] }]);
  const parentless = [{ type: 'bind', source: '/s/4/fs', options: ['rbind', 'rw'] }];
  assert.deepEqual(readOnlyMounts(parentless), [{ type: 'bind', source: '/s/4/fs', options: ['rbind', 'ro'] }]);
});
