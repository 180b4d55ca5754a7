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
  { argv: ['network', 'ls'] },
  { argv: ['network', 'list', '-q', '--no-trunc', '-f', 'driver=bridge'] },
  { argv: ['network', 'ls', '--format', 'json'] },
  { argv: ['network', 'ls', '--format', 'table {{.Name}}\\t{{.CreatedAt}}\\t{{.Labels}}\\t{{.Label "team"}}\\t{{.IPv4}} {{.IPv6}} {{.Internal}}'] },
  { argv: ['network', 'ls', '--format', 'raw'] },
  { argv: ['network', 'ls', '-q', '--format', 'raw'] },
  { argv: ['network', 'ls', '-q', '--format', '{{.Name}}'] },
  { argv: ['network', 'ls', '-f', 'bogus=1'] },
  { argv: ['network', 'ls', '-f', 'nope'] },
  { argv: ['network', 'ls', 'x'] },
  { argv: ['network', 'create', 'n1'] },
  { argv: ['network', 'create', '--subnet', '10.1.0.0/16', '--gateway', '10.1.0.1', '--ip-range', '10.1.2.0/24', '--ipv6', 'n2'] },
  { argv: ['network', 'create', 'mynet'] },
  { argv: ['network', 'create', '--subnet', '10.0.0.0/8', '--subnet', '10.1.0.0/16', 'n'] },
  { argv: ['network', 'create', '--subnet', '10.0.0.0/8', '--gateway', '11.0.0.1', 'n'] },
  { argv: ['network', 'create', '--gateway', '10.0.0.1', 'n'] },
  { argv: ['network', 'create', '--subnet', '10.0.0.0/8', '--ip-range', '10.1.0.0/16,10.2.0.0/16', 'n'] },
  { argv: ['network', 'create', '--subnet', '10.0.0.0/8', '--ip-range', 'bogus', 'n'] },
  { argv: ['network', 'create', '--subnet', 'x', '--subnet', '10.0.0.0/8', 'n'] },
  { argv: ['network', 'create', '--label', ' =x', 'n'] },
  { argv: ['network', 'create', '--ipv4=maybe', 'n'] },
  { argv: ['network', 'create'] },
  { argv: ['network', 'inspect', 'mynet', 'nope'] },
  { argv: ['network', 'inspect', '-v', '-f', '{{.Name}} {{.IPAM.Config}} {{.Labels}} {{.Containers}}', 'mynet'] },
  { argv: ['network', 'inspect', '-f', 'json', 'bridge'] },
  { argv: ['network', 'rm', 'nope', 'mynet', 'bridge'] },
  { argv: ['network', 'remove', '-f', 'nope', 'mynet'] },
  { argv: ['network', 'connect', '--ip', '10.9.0.5', '--alias', 'a', 'mynet', 'web'] },
  { argv: ['network', 'connect', 'mynet', 'nope'] },
  { argv: ['network', 'connect', '--driver-opt', 'x', 'mynet', 'web'] },
  { argv: ['network', 'connect', '--gw-priority', 'x', 'mynet', 'web'] },
  { argv: ['network', 'connect', '--link', 'a:b:c', 'mynet', 'web'] },
  { argv: ['network', 'connect', 'mynet'] },
  { argv: ['network', 'disconnect', '-f', 'mynet', 'web'] },
  { argv: ['network', 'disconnect', 'nope', 'web'] },
  { argv: ['network', 'prune'], stdin: 'y\n' },
  { argv: ['network', 'prune'], stdin: 'n\n' },
  { argv: ['network', 'prune', '-f', '--filter', 'until=24h'] },
  { argv: ['network', 'bogus'] },
  { argv: ['port', 'web'] },
  { argv: ['port', 'web', '80'] },
  { argv: ['container', 'port', 'web', '53/udp'] },
  { argv: ['port', 'web', '9/tcp'] },
  { argv: ['port', 'web', '443'] },
  { argv: ['port', 'web', '8000/tcp'] },
  { argv: ['port', 'web', 'abc'] },
  { argv: ['port', 'web', '70000/tcp'] },
  { argv: ['port', 'web', '/udp'] },
  { argv: ['port', 'web', '080'] },
  { argv: ['port', 'nope', '80'] },
  { argv: ['port'] },
  { argv: ['port', 'a', 'b', 'c'] },
  { argv: ['system', 'df'] },
  { argv: ['system', 'df', '-v'] },
  { argv: ['system', 'df', '--format', 'json'] },
  { argv: ['system', 'df', '--format', 'raw'] },
  { argv: ['system', 'df', '--format', '{{.Type}}: {{.TotalCount}}/{{.Active}} {{.Size}} {{.Reclaimable}} {{json .}}'] },
  { argv: ['system', 'df', '--format', 'table {{.Type}}\t{{.Size}}'] },
  { argv: ['system', 'df', '--format', '{{.Nope}}'] },
  { argv: ['system', 'df', '--format', '{{'] },
  { argv: ['system', 'df', '-v', '--format', 'json'] },
  { argv: ['system', 'df', '-v', '--format', '{{json .Images}}'] },
  { argv: ['system', 'df', '-v', '--format', 'raw'] },
  { argv: ['system', 'df', '-v', '--format', 'table {{range .Volumes}}{{.Name}} {{.Links}} {{.Size}}\n{{end}}'] },
  { argv: ['system', 'df', '-v', '--format', '{{range .Containers}}{{.Names}} {{.Size}} {{.LocalVolumes}}\n{{end}}{{range .Images}}{{.Nope}}{{end}}'] },
  { argv: ['system', 'df', 'x'] },
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

/** docker sends filters as {"k":{"v":true}}, joey as the API documents them, {"k":["v"]}. */
function normalizeFilters([k, v]: [string, string]): [string, string] {
  if (k !== 'filters') return [k, v];
  const f = JSON.parse(v) as Record<string, string[] | Record<string, boolean>>;
  return [k, JSON.stringify(Object.fromEntries(Object.entries(f).map(([n, x]) => [n, Array.isArray(x) ? x : Object.keys(x)])))];
}

test('network commands send what docker sends: paths, queries, bodies (key order included)', { skip: !dockerAvailable() && 'docker CLI not installed' }, async () => {
  for (const argv of [
    ['network', 'create', 'n1'],
    ['network', 'create', '--subnet', '10.1.0.0/16', '--gateway', '10.1.0.1', '--ip-range', '10.1.2.0/24', '--aux-address', 'a=10.1.0.5', '-o', 'x=y', '--label', 'l=1', '--internal', '--attachable', '--scope', 'local', 'n2'],
    ['network', 'create', '--ipv4=false', '--ipv6', '--config-only', '--config-from', 'base', '--ipam-opt', 'q=r', '-d', 'macvlan', '--ipam-driver', 'other', 'n3'],
    ['network', 'ls', '-f', 'driver=bridge', '-f', 'label=a'],
    ['network', 'inspect', '-v', 'mynet'],
    ['network', 'rm', 'mynet', 'nope'],
    ['network', 'connect', '--ip', '10.9.0.5', '--ip6', 'fd00::0:5', '--alias', 'a', '--alias', 'b,c', '--link', 'x:y', '--driver-opt', 'k=v', '--link-local-ip', '169.254.1.1', '--gw-priority', '3', 'mynet', 'web'],
    ['network', 'connect', 'mynet', 'web'],
    ['network', 'disconnect', '-f', 'mynet', 'web'],
    ['network', 'disconnect', 'mynet', 'web'],
    ['network', 'prune', '-f', '--filter', 'until=24h'],
    ['port', 'web', '80'],
  ]) {
    const calls = async (who: 'docker' | 'joey') => {
      const api = await startFakeApi({ routes: daemonRoutes() });
      try {
        if (who === 'docker') await runDocker(argv, { host: api.host });
        else await runJoey(argv, { host: api.host, env: { JOEY_CONFIG: '/nonexistent-joey-config' } });
        return api.requests
          .filter((q) => !['/_ping', '/info', '/version'].includes(q.path))
          .map((q) => ({ method: q.method, path: q.path, query: [...q.query].map(normalizeFilters).sort(), body: q.body.length ? JSON.stringify(JSON.parse(q.body.toString())) : '' }));
      } finally {
        await api.close();
      }
    };
    assert.deepEqual(await calls('joey'), await calls('docker'), argv.join(' '));
  }
});
