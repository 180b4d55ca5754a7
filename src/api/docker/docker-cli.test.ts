// End to end: the real docker CLI (/usr/local/bin/docker) against the
// adapter over a unix socket, with a fake engine behind it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../../errdefs/index.ts';
import { createFakeEngine } from './fake-engine.ts';
import { C1_ID } from './fake-containers.ts';
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
  return dockerWithInput(undefined, ...args);
}

function dockerWithInput(input: string | undefined, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      '/usr/local/bin/docker',
      args,
      { env: { PATH: process.env.PATH, HOME: srv.dir, DOCKER_HOST: `unix://${srv.socket}`, DOCKER_CONFIG: dockerConfig }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
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

test('docker ps -a and docker inspect show the engine containers', async () => {
  const r = await docker('ps', '-a');
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n');
  assert.match(rows[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.match(rows[1]!, /^1c1c1c1c1c1c\s+busybox\s+"top"\s+.+\s+Up 2 minutes\s+c1$/);
  const i = await docker('inspect', 'c1');
  assert.equal(i.code, 0, i.stderr);
  const [obj] = JSON.parse(i.stdout) as Array<{ Id: string; Name: string; State: { Status: string } }>;
  assert.equal(obj!.Id, C1_ID);
  assert.equal(obj!.Name, '/c1');
  assert.equal(obj!.State.Status, 'running');
  const missing = await docker('inspect', '--type', 'container', 'nope');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nope/);
});

test('docker logs separates stdout and stderr; -t adds timestamps', async () => {
  let r = await docker('logs', 'c1');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello from c1\n');
  assert.equal(r.stderr, 'warning from c1\n');
  r = await docker('logs', '-t', '--tail', '1', 'c1');
  assert.equal(r.stderr, '2023-11-14T22:13:22.000000001Z warning from c1\n');
  assert.equal(r.stdout, '');
});

test('docker run --rm busybox echo hi: create, attach, wait, start in that order; output and exit code 0', async () => {
  engine.calls.length = 0;
  const r = await docker('run', '--rm', 'busybox', 'echo', 'hi');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  const order = engine.calls.map((c) => c.method).filter((m) => m.startsWith('containers.'));
  assert.deepEqual(order.slice(0, 4), ['containers.create', 'containers.attach', 'containers.wait', 'containers.start']);
  assert.deepEqual((engine.calls.find((c) => c.method === 'containers.wait')!.args[1] as { condition: string }).condition, 'removed');
  const attachOpts = engine.calls.find((c) => c.method === 'containers.attach')!.args[1];
  assert.deepEqual(attachOpts, { stdin: false, stdout: true, stderr: true, stream: true, logs: false, detachKeys: undefined });
});

test('docker run exits with the container exit code and separates stderr', async () => {
  let r = await docker('run', '--rm', 'busybox', 'sh', '-c', 'exit 3');
  assert.equal(r.code, 3, r.stderr);
  r = await docker('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 5');
  assert.equal(r.code, 5);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('docker run -i passes stdin and its end to the container', async () => {
  const r = await dockerWithInput('abc\ndef\n', 'run', '-i', '--rm', 'busybox', 'cat');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'abc\ndef\n');
});

test('docker run of an image that is not there pulls it first (the 404 "No such image")', async () => {
  const r = await docker('run', '--rm', 'alpine', 'echo', 'pulled');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Unable to find image 'alpine:latest' locally/);
  assert.equal(r.stdout, 'pulled\n');
});

test('docker exec: output and exit code', async () => {
  let r = await docker('exec', 'c1', 'echo', 'x');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'x\n');
  r = await docker('exec', 'c1', 'sh', '-c', 'echo e >&2; exit 4');
  assert.equal(r.code, 4);
  assert.equal(r.stderr, 'e\n');
  r = await dockerWithInput('piped\n', 'exec', '-i', 'c1', 'cat');
  assert.equal(r.stdout, 'piped\n');
});

test('docker stop and docker rm', async () => {
  let r = await docker('stop', 'c1');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'c1\n');
  assert.equal(engine.fakeContainers.find('c1').status, 'exited');
  r = await docker('rm', 'c1');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'c1\n');
  r = await docker('ps', '-a', '-q');
  assert.equal(r.stdout.includes('1c1c1c1c1c1c'), false);
  r = await docker('rm', 'c1');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such container: c1/);
});
