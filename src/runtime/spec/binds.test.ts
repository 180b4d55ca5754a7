import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ociMountOf, rootfsPropagationOf } from './binds.ts';

test('binds are rbind and rprivate unless asked; ro and non-recursive carry over', () => {
  assert.deepEqual(ociMountOf({ Type: 'bind', Source: '/h', Destination: '/c', RW: true, Propagation: 'rprivate' }), { destination: '/c', type: 'bind', source: '/h', options: ['rbind', 'rprivate'] });
  assert.deepEqual(ociMountOf({ Type: 'bind', Source: '/h', Destination: '/c', RW: false, Propagation: 'rshared', NonRecursive: true }), { destination: '/c', type: 'bind', source: '/h', options: ['bind', 'rshared', 'ro'] });
  // Volumes show no propagation but mount rprivate.
  assert.deepEqual(ociMountOf({ Type: 'volume', Source: '/v/_data', Destination: '/d', RW: true, Propagation: '' }), { destination: '/d', type: 'bind', source: '/v/_data', options: ['rbind', 'rprivate'] });
});

test('--mount tmpfs: Docker\'s defaults, the given options, ro', () => {
  assert.deepEqual(ociMountOf({ Type: 'tmpfs', Source: '', Destination: '/t', RW: false, Propagation: '', TmpfsOptions: ['size=1048576', 'mode=1777', 'exec'] }), {
    destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'rprivate', 'size=1048576', 'mode=1777', 'exec', 'ro'],
  });
});

test('bind-recursive=readonly is runc\'s rro; the rootfs propagates when a mount is shared or slave, as dockerd sets it', () => {
  assert.deepEqual(ociMountOf({ Type: 'bind', Source: '/h', Destination: '/c', RW: false, Propagation: 'rprivate', ReadOnlyForceRecursive: true }).options, ['rbind', 'rprivate', 'rro']);
  const m = (propagation: string) => ociMountOf({ Type: 'bind', Source: '/h', Destination: `/${propagation}`, RW: true, Propagation: propagation });
  assert.equal(rootfsPropagationOf([m('rprivate')]), undefined);
  assert.equal(rootfsPropagationOf([m('rslave'), m('rprivate')]), 'rslave');
  assert.equal(rootfsPropagationOf([m('rslave'), m('shared')]), 'rshared');
});
