import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerAbsPath, goBase, goFileMode, rfc3339Nano } from './archive.ts';

test('paths are made absolute in the container, keeping a trailing "/" or "/."', () => {
  assert.equal(containerAbsPath('etc/passwd'), '/etc/passwd');
  assert.equal(containerAbsPath('/tmp/'), '/tmp/');
  assert.equal(containerAbsPath('/tmp/.'), '/tmp/.');
  assert.equal(containerAbsPath('.'), '/.');
  assert.equal(containerAbsPath('/a/../../b'), '/b');
  assert.equal(containerAbsPath(''), '/');
  assert.equal(goBase('/tmp/'), 'tmp');
  assert.equal(goBase('/tmp/.'), '.');
  assert.equal(goBase('/'), '/');
});

test("modes are Go's os.FileMode bits, times RFC 3339 with nanoseconds", () => {
  assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755);
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755);
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777);
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666);
  assert.equal(rfc3339Nano(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
  assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
  assert.equal(rfc3339Nano(1_700_000_000_500_000_000n), '2023-11-14T22:13:20.5Z');
});
