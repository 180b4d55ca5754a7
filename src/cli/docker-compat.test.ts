// The reference test: the docker CLI and joey, given the same API answers,
// print the same bytes and exit the same way. Skipped without docker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeApi } from '../client/fake-api.ts';
import { daemonRoutes } from './fake-daemon.ts';
import { dockerAvailable, runDocker, runJoey } from './testing.ts';

const CASES: { argv: string[]; stdin?: string }[] = [
  { argv: ['pull', 'busybox'] },
  { argv: ['pull', '-q', 'busybox:1.36'] },
  { argv: ['pull', 'bad'] },
  { argv: ['pull', 'Busybox'] },
  { argv: ['pull', 'a'.repeat(64)] },
  { argv: ['pull'] },
  { argv: ['pull', '--platform'] },
  { argv: ['push', '127.0.0.1:5000/busybox'] },
  { argv: ['push', '-q', '127.0.0.1:5000/busybox'] },
  { argv: ['push', `busybox@sha256:${'d'.repeat(64)}`] },
  { argv: ['image', 'inspect', 'busybox'] },
  { argv: ['image', 'inspect', 'busybox', 'nope', 'busybox'] },
  { argv: ['image', 'inspect', '-f', 'json', 'busybox'] },
  { argv: ['image', 'inspect', '-f', '{{.Config.Env}} {{json .Config.Labels}} {{.Config.Entrypoint}} {{.GraphDriver.Data}}', 'busybox'] },
  { argv: ['image', 'inspect', '-f', '{{.Nope}}', 'busybox'] },
  { argv: ['image', 'inspect', '-f', '{{if}}', 'busybox'] },
  { argv: ['image', 'inspect', '-f', '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}', 'busybox'] },
  { argv: ['history', 'busybox'] },
  { argv: ['history', '--no-trunc', '-H=false', 'busybox'] },
  { argv: ['history', '--format', 'json', 'busybox'] },
  { argv: ['history', '--format', 'table {{.ID}}\\t{{.CreatedAt}}\\t{{.Size}}', 'busybox'] },
  { argv: ['image', 'prune'], stdin: 'y\n' },
  { argv: ['image', 'prune', '-a'], stdin: 'n\n' },
  { argv: ['image', 'prune', '-f', '--filter', 'until=24h'] },
  { argv: ['rmi', 'busybox', 'nope'] },
  { argv: ['rmi', '-f', 'nope', 'busybox'] },
  { argv: ['rmi', 'used', 'nope'] },
  { argv: ['tag', 'busybox', 'foo/bar'] },
  { argv: ['tag', 'busybox', 'Foo'] },
  { argv: ['tag', 'busybox', 'a:b:c'] },
  { argv: ['tag', 'busybox'] },
  { argv: ['save', '-o', '/nonexistent/x.tar', 'busybox'] },
  { argv: ['save', 'busybox'] },
  { argv: ['load'], stdin: 'tar' },
  { argv: ['load', '-i', '/nonexistent'] },
  { argv: ['import', '-', 'foo/bar:v1', '-c', 'CMD ["sh"]', '-m', 'hi'], stdin: 'tar' },
  { argv: ['import', '/nonexistent'] },
  { argv: ['login', '-p', 'x', '--password-stdin'] },
  { argv: ['login', '--password-stdin'] },
  { argv: ['login'] },
  { argv: ['logout', '127.0.0.1:5000'] },
  { argv: ['version', '-f', '{{.Server.Version}} {{.Server.Platform.Name}}'] },
  { argv: ['version', '-f', '{{.Foo}}'] },
  { argv: ['version', '-f', '{{'] },
  { argv: ['info', '-f', '{{.ServerVersion}} {{json .RegistryConfig.Mirrors}} {{.ClientInfo.Context}}'] },
  { argv: ['info', '-f', '{{.Nope}}'] },
  { argv: ['events'] },
  { argv: ['events', '--format', 'json'] },
  { argv: ['events', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes}} {{.Time}} {{.TimeNano}} {{json .Actor}} {{.Status}}'] },
  { argv: ['events', '--format', '{{.Nope}}'] },
  { argv: ['events', '--format', '{{'] },
  { argv: ['events', '--since', 'bogus'] },
  { argv: ['events', '--until', '2026-13-01'] },
  { argv: ['events', '-f', 'bogus=1'] },
  { argv: ['events', '-f', 'nope'] },
  { argv: ['events', 'x'] },
];

test('docker and joey print the same for the same API answers', { skip: !dockerAvailable() && 'docker CLI not installed' }, async (t) => {
  const api = await startFakeApi({ routes: daemonRoutes() });
  t.after(() => api.close());
  for (const c of CASES) {
    const docker = await runDocker(c.argv, { host: api.host, stdin: c.stdin });
    const joey = await runJoey(c.argv, { host: api.host, stdin: c.stdin ?? '', env: { JOEY_CONFIG: '/nonexistent-joey-config' } });
    // the daemon's own messages may mention docker; the CLI's own mention joey
    const expected = docker.stderr.replace(/\bdocker\b(?! login')/g, 'joey');
    assert.deepEqual(
      { code: joey.code, stdout: joey.stdout, stderr: joey.stderr },
      { code: docker.code, stdout: docker.stdout, stderr: expected },
      c.argv.join(' '),
    );
  }
});
