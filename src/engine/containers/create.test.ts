import assert from 'node:assert/strict';
import { test } from 'node:test';
import { is } from '../../errdefs/index.ts';
import { normalizeHostConfig } from './create.ts';

const runtimes = new Set(['runc', 'crun', 'myrunc']);

test('HostConfig.Runtime: the daemon default when not given, kept when known', () => {
  assert.equal(normalizeHostConfig({}, runtimes, 'myrunc').Runtime, 'myrunc');
  assert.equal(normalizeHostConfig({ Runtime: '' }, runtimes, 'runc').Runtime, 'runc');
  assert.equal(normalizeHostConfig({ Runtime: 'crun' }, runtimes, 'runc').Runtime, 'crun');
});

test('HostConfig.Runtime: an unknown runtime is an invalid-argument error naming it', () => {
  assert.throws(
    () => normalizeHostConfig({ Runtime: 'kata' }, runtimes, 'runc'),
    (e: unknown) => is(e, 'invalid') && /unknown or invalid runtime name: kata/.test((e as Error).message),
  );
});
