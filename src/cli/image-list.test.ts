import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageSummary } from '../images/types.ts';
import { json, startFakeApi } from '../client/fake-api.ts';
import { renderImages } from './image-list.ts';
import { dockerAvailable, runDocker, runJoey } from './testing.ts';

const now = Date.now();
const ago = (seconds: number) => Math.floor(now / 1000) - seconds;
const hex = (c: string) => c.repeat(64);

// Ages sit far from the unit boundaries so that docker, run a moment later, agrees.
const IMAGES: ImageSummary[] = [
  { Id: `sha256:${hex('a')}`, ParentId: '', RepoTags: ['busybox:latest', 'busybox:1.36'], RepoDigests: [`busybox@sha256:${hex('d')}`], Created: ago(3 * 86400 + 3600), Size: 4261574, SharedSize: -1, Labels: {}, Containers: -1 },
  { Id: `sha256:${hex('b')}`, ParentId: '', RepoTags: ['127.0.0.1:5000/team/app:v1'], RepoDigests: [], Created: ago(7200 + 300), Size: 123456789, SharedSize: -1, Labels: { a: 'b' }, Containers: 2 },
  { Id: `sha256:${hex('c')}`, ParentId: '', RepoTags: [], RepoDigests: [], Created: ago(330), Size: 999, SharedSize: -1, Labels: {}, Containers: -1 },
  { Id: `sha256:${hex('e')}`, ParentId: '', RepoTags: ['<none>:<none>'], RepoDigests: [`alpine@sha256:${hex('f')}`], Created: ago(400 * 86400), Size: 7_800_000_000, SharedSize: -1, Labels: {}, Containers: 0 },
];

test('the images table is docker\'s, column for column', () => {
  assert.equal(
    renderImages(IMAGES, {}, now),
    [
      'REPOSITORY                TAG       IMAGE ID       CREATED         SIZE',
      'busybox                   latest    aaaaaaaaaaaa   3 days ago      4.26MB',
      'busybox                   1.36      aaaaaaaaaaaa   3 days ago      4.26MB',
      '127.0.0.1:5000/team/app   v1        bbbbbbbbbbbb   2 hours ago     123MB',
      '<none>                    <none>    cccccccccccc   5 minutes ago   999B',
      'alpine                    <none>    eeeeeeeeeeee   13 months ago   7.8GB',
      '',
    ].join('\n'),
  );
});

test('--digests adds a DIGEST column; digest-only images show theirs', () => {
  const out = renderImages(IMAGES, { digests: true }, now).split('\n');
  assert.equal(out[0], 'REPOSITORY                TAG       DIGEST                                                                    IMAGE ID       CREATED         SIZE');
  assert.match(out[1]!, new RegExp(`^busybox +latest +sha256:${hex('d')} +aaaaaaaaaaaa`));
  assert.match(out[3]!, /^127\.0\.0\.1:5000\/team\/app +v1 +<none> +bbbbbbbbbbbb/);
  assert.match(out[5]!, new RegExp(`^alpine +<none> +sha256:${hex('f')}`));
});

test('-q prints one id per row, --no-trunc full ids, empty lists only the header', () => {
  assert.equal(renderImages(IMAGES, { quiet: true }, now), 'aaaaaaaaaaaa\naaaaaaaaaaaa\nbbbbbbbbbbbb\ncccccccccccc\neeeeeeeeeeee\n');
  assert.match(renderImages(IMAGES, { noTrunc: true }, now), new RegExp(`sha256:${hex('a')}`));
  assert.equal(renderImages([], {}, now), 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
});

test('--format: templates, table templates with docker\'s headers, and json lines', () => {
  assert.equal(renderImages(IMAGES.slice(0, 1), { format: '{{.Repository}}:{{.Tag}} {{.Containers}}' }, now), 'busybox:latest N/A\nbusybox:1.36 N/A\n');
  assert.equal(
    renderImages(IMAGES.slice(1, 2), { format: 'table {{.ID}}\\t{{.Repository}}\\t{{.Containers}}\\t{{.SharedSize}}' }, now),
    'IMAGE ID       REPOSITORY                CONTAINERS   SHARED SIZE\nbbbbbbbbbbbb   127.0.0.1:5000/team/app   2            N/A\n',
  );
  const line = JSON.parse(renderImages(IMAGES.slice(1, 2), { format: 'json' }, now));
  assert.deepEqual(Object.keys(line), ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize']);
  assert.equal(line.Digest, '<none>');
  assert.match(renderImages(IMAGES.slice(2, 3), { format: 'json' }, now), /"Repository":"\\u003cnone\\u003e"/);
});

test('a bad template fails with docker\'s message and prints nothing', async (t) => {
  const api = await startFakeApi({ routes: [{ method: 'GET', path: '/images/json', handler: json(IMAGES) }] });
  t.after(() => api.close());
  const r = await runJoey(['images', '--format', '{{.Foo}}'], { host: api.host });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.imageContext\n');
});

test('flags become the API query: -a, --filter and the REPOSITORY argument', async (t) => {
  const api = await startFakeApi({ routes: [{ method: 'GET', path: '/images/json', handler: json([]) }] });
  t.after(() => api.close());
  const r = await runJoey(['image', 'ls', '-a', '-f', 'dangling=false', '--filter', 'label=a=b', 'busybox'], { host: api.host });
  assert.equal(r.code, 0);
  const q = api.requests[0]!.query;
  assert.equal(q.get('all'), '1');
  assert.deepEqual(JSON.parse(q.get('filters')!), { dangling: ['false'], label: ['a=b'], reference: ['busybox'] });
});

test('the docker CLI prints the same for the same API answers', { skip: !dockerAvailable() && 'docker CLI not installed' }, async (t) => {
  const api = await startFakeApi({ routes: [{ method: 'GET', path: '/images/json', handler: json(IMAGES) }] });
  t.after(() => api.close());
  const variants = [
    [],
    ['--digests'],
    ['--no-trunc'],
    ['-q'],
    ['--format', 'json'],
    ['--format', '{{.ID}} {{.Repository}}:{{.Tag}} {{.Digest}} {{.Size}} {{.Containers}}'],
    ['--format', 'table {{.Repository}}\\t{{.Containers}}\\t{{.UniqueSize}}\\t{{.CreatedAt}}'],
    ['--format', 'table {{.ID}}', '--digests'],
    ['--format', '{{.Foo}}'],
    ['--format', '{{if .ID}}x'],
    ['-f', 'foo'],
    ['--bogus'],
  ];
  for (const v of variants) {
    const docker = await runDocker(['images', ...v], { host: api.host });
    const joey = await runJoey(['images', ...v], { host: api.host });
    assert.deepEqual(
      { code: joey.code, stdout: joey.stdout, stderr: joey.stderr },
      { code: docker.code, stdout: docker.stdout, stderr: docker.stderr.replaceAll('docker', 'joey') },
      `images ${v.join(' ')}`,
    );
  }
});
