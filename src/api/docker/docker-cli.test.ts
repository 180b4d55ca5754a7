// End to end: the real docker CLI (/usr/local/bin/docker) against the
// adapter over a unix socket, with a fake engine behind it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../../errdefs/index.ts';
import { createFakeEngine } from './fake-engine.ts';
import { startTestServer } from './test-helpers.ts';
import { setLogSink } from '../../util/log.ts';

setLogSink(() => {});

let failMode: 'none' | 'early' | 'mid' = 'none';
const engine = createFakeEngine();
const realPull = engine.images.pull;
engine.images.pull = async (ref, opts) => {
  if (failMode === 'early') throw notFound(`manifest for ${ref} not found: manifest unknown`);
  if (failMode === 'mid') {
    opts?.onProgress?.({ kind: 'message', text: 'latest: Pulling from library/busybox' });
    throw new Error('layer a1b2c3d4e5f6: unexpected EOF');
  }
  return realPull(ref, opts);
};
const srv = await startTestServer(engine);
after(() => srv.close());
const dockerConfig = join(srv.dir, 'docker-config');
mkdirSync(dockerConfig);

function docker(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/local/bin/docker',
      args,
      { env: { PATH: process.env.PATH, HOME: srv.dir, DOCKER_HOST: `unix://${srv.socket}`, DOCKER_CONFIG: dockerConfig }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('docker version negotiates 1.47 and shows the engine', async () => {
  const r = await docker('version');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /API version:\s+1\.47 \(downgraded from 1\.\d+\)/);
  assert.match(r.stdout, /^Server: joey$/m);
  assert.match(r.stdout, /^\s+Version:\s+0\.1\.0-test$/m);
  assert.match(r.stdout, /API version:\s+1\.47 \(minimum version 1\.24\)/);
  const f = await docker('version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}/{{.Server.Arch}}');
  assert.equal(f.stdout.trim(), '1.47 linux/amd64');
});

test('docker info shows the engine info', async () => {
  const r = await docker('info');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Server Version: 0\.1\.0-test/);
  assert.match(r.stdout, /Storage Driver: overlay2/);
  assert.match(r.stdout, /Docker Root Dir: \/var\/lib\/joey/);
});

test('docker images lists the engine images', async () => {
  const r = await docker('images');
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n');
  assert.match(rows[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(rows[1]!, /^busybox\s+latest\s+abababababab\s+.+\s+4\.26MB$/);
  const q = await docker('images', '-q', '--filter', 'dangling=false');
  assert.equal(q.stdout.trim(), 'abababababab');
  assert.deepEqual(engine.calls.filter((c) => c.method === 'images.list').at(-1)!.args[0], { all: false, filters: { dangling: ['false'] }, digests: false });
});

test('docker pull prints the progress lines and the result', async () => {
  failMode = 'none';
  const r = await docker('pull', 'busybox');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'Using default tag: latest',
      'latest: Pulling from library/busybox',
      'a1b2c3d4e5f6: Pulling fs layer',
      'a1b2c3d4e5f6: Verifying Checksum',
      'a1b2c3d4e5f6: Download complete',
      'a1b2c3d4e5f6: Pull complete',
      'Digest: sha256:' + 'cd'.repeat(32),
      'Status: Downloaded newer image for busybox:latest',
      'docker.io/library/busybox:latest',
      '',
    ].join('\n'),
  );
});

test('docker pull errors: before output as a daemon error, mid-stream as the stream error', async () => {
  failMode = 'early';
  let r = await docker('pull', 'busybox:nope');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error response from daemon: manifest for .*busybox:nope not found: manifest unknown/);
  failMode = 'mid';
  r = await docker('pull', 'busybox');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Pulling from library\/busybox/);
  assert.match(r.stderr, /layer a1b2c3d4e5f6: unexpected EOF/);
  failMode = 'none';
});

test('docker push, tag, rmi and inspect go through', async () => {
  let r = await docker('push', '127.0.0.1:5000/team/app:v1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^a1b2c3d4e5f6: Pushed$/m);
  assert.match(r.stdout, /^v1: digest: sha256:(cd){32} size: 527$/m);
  r = await docker('tag', 'busybox', '127.0.0.1:5000/team/app:v2');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(engine.calls.at(-1)!.args, ['busybox', '127.0.0.1:5000/team/app', 'v2']);
  r = await docker('rmi', '127.0.0.1:5000/team/app:v2');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Untagged: 127\.0\.0\.1:5000\/team\/app:v2$/m);
  r = await docker('image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', '127.0.0.1:5000/team/app:v1');
  assert.equal(r.stdout.trim(), 'linux/amd64');
  r = await docker('image', 'inspect', 'missing');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such image: missing/);
});
