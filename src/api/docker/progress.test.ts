import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanSize, progressBar, progressLine, toDockerMessage } from './progress.ts';

test('humanSize matches go-units HumanSize (decimal, 4 significant digits)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1500), '1.5kB');
  assert.equal(humanSize(32_768), '32.77kB');
  assert.equal(humanSize(1_048_576), '1.049MB');
  assert.equal(humanSize(2_152_262), '2.152MB');
  assert.equal(humanSize(999_999), '1000kB');
  assert.equal(humanSize(4_261_550_000), '4.262GB');
});

test('progressBar draws 50 columns of = and > like dockerd', () => {
  assert.equal(progressBar(0, 0), '');
  assert.equal(progressBar(1_048_576, 2_152_262), `[${'='.repeat(24)}>${' '.repeat(26)}]  1.049MB/2.152MB`);
  assert.equal(progressBar(2_152_262, 2_152_262), `[${'='.repeat(50)}>]  2.152MB/2.152MB`);
  assert.equal(progressBar(1, 1000), `[>${' '.repeat(50)}]       1B/1kB`);
  // Unknown total: the size alone, padded to 8.
  assert.equal(progressBar(32_768, 0), ' 32.77kB');
  // A current beyond the total shows only the current.
  assert.equal(progressBar(3000, 2000), `[${'='.repeat(50)}>]      3kB`);
});

test('pull phases become dockerd status lines', () => {
  const line = (p: Parameters<typeof progressLine>[0]) => progressLine(p, 'pull');
  assert.equal(line({ kind: 'message', text: 'latest: Pulling from library/busybox' }), '{"status":"Pulling from library/busybox","id":"latest"}\n');
  assert.equal(
    line({ kind: 'message', text: 'sha256:abc: Pulling from team/app' }),
    '{"status":"Pulling from team/app","id":"sha256:abc"}\n',
  );
  assert.equal(line({ kind: 'message', id: 'v1', text: 'Pulling from team/app' }), '{"status":"Pulling from team/app","id":"v1"}\n');
  assert.equal(line({ kind: 'message', text: 'Digest: sha256:abc' }), '{"status":"Digest: sha256:abc"}\n');
  assert.equal(line({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'waiting' }), '{"status":"Pulling fs layer","progressDetail":{},"id":"a1b2c3d4e5f6"}\n');
  assert.equal(
    line({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'downloading', current: 1_048_576, total: 2_152_262 }),
    `{"status":"Downloading","progressDetail":{"current":1048576,"total":2152262},"progress":"[${'='.repeat(24)}>${' '.repeat(26)}]  1.049MB/2.152MB","id":"a1b2c3d4e5f6"}\n`,
  );
  const statuses: Array<[Parameters<typeof progressLine>[0] & { kind: 'layer' }, string]> = [
    [{ kind: 'layer', id: 'x', phase: 'verifying' }, 'Verifying Checksum'],
    [{ kind: 'layer', id: 'x', phase: 'download-complete' }, 'Download complete'],
    [{ kind: 'layer', id: 'x', phase: 'pull-complete' }, 'Pull complete'],
    [{ kind: 'layer', id: 'x', phase: 'already-exists' }, 'Already exists'],
  ];
  for (const [p, status] of statuses) assert.deepEqual(toDockerMessage(p, 'pull'), { status, progressDetail: {}, id: 'x' });
  const ex = toDockerMessage({ kind: 'layer', id: 'x', phase: 'extracting', current: 32_768, total: 2_152_262 }, 'pull');
  assert.equal(ex.status, 'Extracting');
  assert.deepEqual(ex.progressDetail, { current: 32_768, total: 2_152_262 });
  assert.match(ex.progress!, /^\[>\s+\]  32.77kB\/2.152MB$/);
});

test('push and load phases', () => {
  assert.deepEqual(toDockerMessage({ kind: 'layer', id: 'x', phase: 'waiting' }, 'push'), { status: 'Preparing', progressDetail: {}, id: 'x' });
  assert.equal(toDockerMessage({ kind: 'layer', id: 'x', phase: 'pushing', current: 10, total: 20 }, 'push').status, 'Pushing');
  assert.equal(toDockerMessage({ kind: 'layer', id: 'x', phase: 'pushed' }, 'push').status, 'Pushed');
  assert.equal(toDockerMessage({ kind: 'layer', id: 'x', phase: 'layer-exists' }, 'push').status, 'Layer already exists');
  assert.equal(toDockerMessage({ kind: 'layer', id: 'x', phase: 'mounted', from: 'library/busybox' }, 'push').status, 'Mounted from library/busybox');
  assert.equal(toDockerMessage({ kind: 'layer', id: 'x', phase: 'loading', current: 1, total: 2 }, 'load').status, 'Loading layer');
  assert.equal(
    progressLine({ kind: 'aux', data: { Tag: 'v1', Digest: 'sha256:abc', Size: 527 } }, 'push'),
    '{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:abc","Size":527}}\n',
  );
  // "The push refers to repository [...]" carries no id.
  assert.deepEqual(toDockerMessage({ kind: 'message', text: 'The push refers to repository [docker.io/library/busybox]' }, 'push'), {
    status: 'The push refers to repository [docker.io/library/busybox]',
  });
});
