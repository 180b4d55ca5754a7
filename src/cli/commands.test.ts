// Each command against a fake daemon: what it asks the API and what it prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeApi } from '../client/fake-api.ts';
import type { FakeApi } from '../client/fake-api.ts';
import { decodeAuthHeader } from '../client/auth.ts';
import { DIGEST, IMAGE_ID, daemonRoutes } from './fake-daemon.ts';
import { runJoey } from './testing.ts';
import type { FakeIoOptions } from './testing.ts';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const api = await startFakeApi({ routes: daemonRoutes() });
  const config = mkdtempSync(path.join(os.tmpdir(), 'joey-cli-cfg-'));
  t.after(async () => {
    await api.close();
    rmSync(config, { recursive: true, force: true });
  });
  const joey = (argv: string[], opts: FakeIoOptions = {}) => runJoey(argv, { host: api.host, ...opts, env: { JOEY_CONFIG: config, ...opts.env } });
  return { api, config, joey };
}

const last = (api: FakeApi) => api.requests[api.requests.length - 1]!;

test('pull: progress lines, then the full reference; auth header sent', async (t) => {
  const { api, joey } = await setup(t);
  const r = await joey(['pull', 'busybox']);
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    [
      'Using default tag: latest',
      'latest: Pulling from library/busybox',
      '2fce1e0cdfc5: Pulling fs layer',
      '2fce1e0cdfc5: Verifying Checksum',
      '2fce1e0cdfc5: Download complete',
      '2fce1e0cdfc5: Pull complete',
      `Digest: ${DIGEST}`,
      'Status: Downloaded newer image for busybox:latest',
      'docker.io/library/busybox:latest',
      '',
    ].join('\n'),
  );
  const req = last(api);
  assert.equal(req.query.get('fromImage'), 'docker.io/library/busybox');
  assert.equal(req.query.get('tag'), 'latest');
  assert.equal(req.headers['x-registry-auth'], 'e30=');
});

test('pull -q prints only the reference; digests and --platform pass through', async (t) => {
  const { api, joey } = await setup(t);
  const r = await joey(['image', 'pull', '-q', '--platform', 'linux/ARM64', `busybox@${DIGEST}`]);
  assert.equal(r.stdout, `docker.io/library/busybox@${DIGEST}\n`);
  assert.equal(last(api).query.get('tag'), DIGEST);
  assert.equal(last(api).query.get('platform'), 'linux/arm64');
});

test('pull: an error line goes to stderr and exits 1; a daemon error gets docker\'s prefix', async (t) => {
  const { joey } = await setup(t);
  const bad = await joey(['pull', 'bad']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'unexpected EOF\n');
  assert.match(bad.stdout, /2fce1e0cdfc5: Pulling fs layer\n$/);
  const nope = await joey(['pull', 'nope']);
  assert.equal(nope.code, 1);
  assert.equal(nope.stderr, "Error response from daemon: pull access denied for nope, repository does not exist or may require 'docker login'\n");
  const invalid = await joey(['pull', 'Busybox']);
  assert.equal(invalid.stderr, 'invalid reference format: repository name (library/Busybox) must be lowercase\n');
});

test('login stores credentials (mode 0600) that pull and push then send', async (t) => {
  const { api, config, joey } = await setup(t);
  const r = await joey(['login', '-u', 'bob', '--password-stdin', '127.0.0.1:5000'], { stdin: 'secret\n' });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Login Succeeded\n');
  assert.match(r.stderr, /WARNING! Your credentials are stored unencrypted in '.*config\.json'/);
  assert.deepEqual(JSON.parse(last(api).body.toString()), { username: 'bob', password: 'secret', serveraddress: '127.0.0.1:5000' });
  const file = path.join(config, 'config.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { auths: { '127.0.0.1:5000': { auth: Buffer.from('bob:secret').toString('base64') } } });

  const push = await joey(['push', '127.0.0.1:5000/busybox']);
  assert.equal(push.code, 0);
  assert.equal(last(api).path, '/images/127.0.0.1:5000/busybox/push');
  assert.deepEqual(decodeAuthHeader(last(api).headers['x-registry-auth'] as string), { serveraddress: '127.0.0.1:5000', username: 'bob', password: 'secret' });
  assert.equal(
    push.stdout,
    `Using default tag: latest\nThe push refers to repository [127.0.0.1:5000/busybox]\n2fce1e0cdfc5: Preparing\n2fce1e0cdfc5: Pushed\nlatest: digest: ${DIGEST} size: 527\n`,
  );

  const out = await joey(['logout', 'http://127.0.0.1:5000/']);
  assert.equal(out.stdout, 'Removing login credentials for 127.0.0.1:5000\n');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { auths: {} });
});

test('login: -p warns; missing credentials off a terminal are an error', async (t) => {
  const { joey } = await setup(t);
  const r = await joey(['login', '-u', 'bob', '-p', 'pw', 'reg.example.com']);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /^WARNING! Using --password via the CLI is insecure\. Use --password-stdin\.\n/);
  const again = await joey(['login', 'reg.example.com']);
  assert.equal(again.code, 0);
  assert.match(again.stderr, /^Authenticating with existing credentials\.\.\. \[Username: bob\]/);
  const none = await joey(['login', 'other.example.com']);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'Error: Cannot perform an interactive login from a non TTY device\n');
  const both = await joey(['login', '-p', 'x', '--password-stdin']);
  assert.equal(both.stderr, 'conflicting options: cannot specify both --password and --password-stdin\n');
});

test('save refuses a terminal, writes -o files 0600, or streams to a redirected stdout', async (t) => {
  const { api, config, joey } = await setup(t);
  const tty = await joey(['save', 'busybox'], { stdoutTTY: true });
  assert.equal(tty.code, 1);
  assert.equal(tty.stderr, 'cowardly refusing to save to a terminal. Use the -o flag or redirect\n');
  assert.equal(api.requests.length, 0);

  const file = path.join(config, 'out.tar');
  const r = await joey(['save', '-o', file, 'busybox', 'alpine'], { stdoutTTY: true });
  assert.equal(r.code, 0);
  assert.equal(readFileSync(file, 'utf8'), 'TARBYTES');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(last(api).query.getAll('names'), ['busybox', 'alpine']);

  const piped = await joey(['image', 'save', 'busybox']);
  assert.equal(piped.stdout, 'TARBYTES');
  const missing = await joey(['save', '-o', '/nonexistent/dir/x.tar', 'busybox']);
  assert.equal(missing.stderr, 'failed to save image: invalid output path: stat /nonexistent/dir: no such file or directory\n');
});

test('load streams the file; import streams the tarball with its options', async (t) => {
  const { api, config, joey } = await setup(t);
  const tar = path.join(config, 'in.tar');
  writeFileSync(tar, Buffer.alloc(70_000, 7));
  const load = await joey(['load', '-i', tar]);
  assert.equal(load.stdout, 'Loaded image: busybox:latest\n');
  assert.equal(last(api).body.length, 70_000);
  assert.equal(last(api).query.get('quiet'), '1');
  assert.equal(last(api).headers['content-type'], 'application/x-tar');

  const tty = await joey(['load'], { stdinTTY: true });
  assert.equal(tty.stderr, 'requested load from stdin, but stdin is empty\n');

  const imp = await joey(['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=B', '-m', 'hi', tar, 'foo/bar:v1']);
  assert.equal(imp.code, 0);
  assert.equal(imp.stdout, `${IMAGE_ID}\n`);
  const q = last(api).query;
  assert.equal(q.get('fromSrc'), '-');
  assert.equal(q.get('repo'), 'foo/bar:v1');
  assert.equal(q.get('message'), 'hi');
  assert.deepEqual(q.getAll('changes'), ['CMD ["sh"]', 'ENV A=B']);
  assert.equal(last(api).body.length, 70_000);

  const fromStdin = await joey(['import', '-'], { stdin: 'rootfs' });
  assert.equal(fromStdin.code, 0);
  assert.equal(last(api).body.toString(), 'rootfs');
  const missing = await joey(['import', '/nonexistent.tar']);
  assert.equal(missing.stderr, 'open /nonexistent.tar: no such file or directory\n');
});

test('image prune asks first; "n" cancels quietly, -f prunes and reports', async (t) => {
  const { api, joey } = await setup(t);
  const no = await joey(['image', 'prune'], { stdin: 'n\n' });
  assert.equal(no.code, 0);
  assert.equal(no.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
  assert.equal(api.requests.length, 0);

  const yes = await joey(['image', 'prune', '-a', '--filter', 'until=24h'], { stdin: 'y\n' });
  assert.equal(
    yes.stdout,
    'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] ' +
      `Deleted Images:\nuntagged: foo:latest\ndeleted: ${IMAGE_ID}\n\nTotal reclaimed space: 4.262MB\n`,
  );
  assert.deepEqual(JSON.parse(last(api).query.get('filters')!), { until: ['24h'], dangling: ['false'] });

  const forced = await joey(['image', 'prune', '-f']);
  assert.match(forced.stdout, /^Deleted Images:\n/);
  assert.deepEqual(JSON.parse(last(api).query.get('filters')!), { dangling: ['true'] });
});

test('rmi: Untagged/Deleted lines; errors joined; -f forgives only "no such image"', async (t) => {
  const { api, joey } = await setup(t);
  const r = await joey(['rmi', 'busybox', 'nope']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `Untagged: busybox:latest\nUntagged: busybox@${DIGEST}\nDeleted: ${IMAGE_ID}\n`);
  assert.equal(r.stderr, 'Error response from daemon: No such image: nope\n');
  const forced = await joey(['image', 'rm', '-f', '--no-prune', 'nope']);
  assert.equal(forced.code, 0);
  assert.equal(forced.stderr, 'Error response from daemon: No such image: nope\n');
  assert.equal(last(api).query.get('force'), '1');
  assert.equal(last(api).query.get('noprune'), '1');
  const used = await joey(['rmi', '-f', 'used', 'nope']);
  assert.equal(used.code, 1);
  assert.match(used.stderr, /^Error response from daemon: conflict: .*\nError response from daemon: No such image: nope\n$/);
});

test('tag sends the normalized target; bad targets fail before the API', async (t) => {
  const { api, joey } = await setup(t);
  assert.equal((await joey(['tag', 'busybox', 'foo/bar'])).code, 0);
  assert.equal(last(api).query.get('repo'), 'docker.io/foo/bar');
  assert.equal(last(api).query.get('tag'), 'latest');
  const bad = await joey(['tag', 'busybox', 'a:b:c']);
  assert.equal(bad.stderr, 'Error parsing reference: "a:b:c" is not a valid repository/tag: invalid reference format\n');
  const digest = await joey(['tag', 'busybox', `foo@${DIGEST}`]);
  assert.equal(digest.stderr, 'refusing to create a tag with a digest reference\n');
});

test('history: docker\'s table, -q, --no-trunc -H=false', async (t) => {
  const { joey } = await setup(t);
  const r = await joey(['history', 'busybox']);
  assert.equal(
    r.stdout,
    [
      'IMAGE          CREATED        CREATED BY                                      SIZE      COMMENT',
      'aaaaaaaaaaaa   30 hours ago   /bin/sh -c #(nop)  CMD ["sh"]                   0B        ',
      '<missing>      5 weeks ago    /bin/sh -c #(nop) ADD file:7d1b8a3f9ad1f4b5e…   4.26MB    buildkit.dockerfile.v0',
      '<missing>      N/A            tab here                                        123B      ',
      '',
    ].join('\n'),
  );
  assert.equal((await joey(['image', 'history', '-q', 'busybox'])).stdout, 'aaaaaaaaaaaa\n<missing>\n<missing>\n');
  const raw = await joey(['history', '--no-trunc', '-H=false', 'busybox']);
  assert.match(raw.stdout, /^IMAGE +CREATED AT +CREATED BY +SIZE +COMMENT\n/);
  assert.match(raw.stdout, /\n<missing> +1970-01-01T00:00:00Z +tab here +123 +\n$/);
});

test('inspect: a 4-space indented array, json, templates, and not-found errors', async (t) => {
  const { joey } = await setup(t);
  const r = await joey(['image', 'inspect', 'busybox']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\[\n {4}\{\n {8}"Id": "sha256:a+",\n {8}"RepoTags": \[\n {12}"busybox:latest"\n {8}\],/);
  assert.match(r.stdout, /"ExposedPorts": null,/);
  assert.equal(JSON.parse(r.stdout)[0].Size, 4261574);
  const j = await joey(['inspect', '-f', 'json', 'busybox']);
  assert.equal(j.stdout.split('\n').length, 2);
  const tmpl = await joey(['inspect', '--format', '{{.Os}} {{.Config.Entrypoint}} {{index .Config.Labels "org.x"}}', 'busybox', 'nope', 'busybox']);
  assert.equal(tmpl.code, 1);
  assert.equal(tmpl.stdout, 'linux [] y\nlinux [] y\n');
  // the generic inspect tries containers, then images, then networks and volumes
  assert.equal(tmpl.stderr, 'Error: No such object: nope\n');
  const missing = await joey(['image', 'inspect', 'nope']);
  assert.equal(missing.stdout, '[]\n');
  const parse = await joey(['image', 'inspect', '-f', '{{if}}', 'busybox']);
  assert.equal(parse.code, 64);
  assert.equal(parse.stderr, 'template parsing error: template: :1: missing value for if\n');
});

test('version: Client and Server sections; the client part even without a daemon', async (t) => {
  const { joey } = await setup(t);
  const r = await joey(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Client:\n Version: {11}\d+\.\d+\.\d+\n API version: {7}1\.47\n/);
  assert.match(r.stdout, /\n\nServer: Joey Engine\n Engine:\n {2}Version: {10}0\.1\.0\n {2}API version: {6}1\.47 \(minimum version 1\.24\)\n/);
  assert.match(r.stdout, /\n runc:\n {2}Version: {10}1\.1\.12\n {2}GitCommit: {8}v1\.1\.12-0-g51d5e94\n$/);
  assert.equal((await joey(['version', '-f', '{{.Server.Version}} {{.Client.APIVersion}}'])).stdout, '0.1.0 1.47\n');
  const down = await runJoey(['version'], { host: 'unix:///nonexistent/joeyd.sock' });
  assert.equal(down.code, 1);
  assert.match(down.stdout, /^Client:\n/);
  assert.doesNotMatch(down.stdout, /Server:/);
  assert.equal(down.stderr, 'Cannot connect to the joey daemon at unix:///nonexistent/joeyd.sock. Is joeyd running?\n');
});

test('info: docker\'s report with joey\'s root dir, mirrors and insecure registries', async (t) => {
  const { joey } = await setup(t);
  const r = await joey(['info']);
  assert.equal(r.code, 0);
  for (const line of [
    ' Images: 5',
    ' Server Version: 0.1.0',
    ' Storage Driver: overlayfs',
    '  Backing Filesystem: extfs',
    ' Total Memory: 15.54GiB',
    ' Joey Root Dir: /var/lib/joey',
    ' Insecure Registries:\n  127.0.0.1:5000\n  127.0.0.0/8',
    ' Registry Mirrors:\n  http://127.0.0.1:5001/',
    ' Live Restore Enabled: true\n\n',
  ]) {
    assert.ok(r.stdout.includes(line + '\n') || r.stdout.endsWith(line), line);
  }
  assert.equal(r.stderr, 'WARNING: bridge-nf-call-iptables is disabled\n');
  assert.equal((await joey(['info', '--format', '{{.Images}} {{json .RegistryConfig.Mirrors}}'])).stdout, '5 ["http://127.0.0.1:5001/"]\n');
});

test('events: since/until/filters asked of the daemon; one line per event, in docker\'s form', async (t) => {
  const { api, joey } = await setup(t);
  const r = await joey(['events', '--since', '2025-11-27T10:00:00Z', '--until', '1764237700', '-f', 'type=container', '--filter', 'event=start', '-f', 'type=container']);
  assert.equal(r.code, 0, r.stderr);
  const req = last(api);
  assert.equal(req.path, '/events');
  assert.equal(req.query.get('since'), '1764237600.000000000');
  assert.equal(req.query.get('until'), '1764237700');
  assert.deepEqual(JSON.parse(req.query.get('filters')!), { type: ['container'], event: ['start'] });
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 5);
  // nanoseconds kept exact, attributes sorted, no parentheses without attributes
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.123456789(Z|[+-]\d\d:\d\d) container create (3f2a){16} \(com\.x=a b, image=busybox, name=web\)$/);
  assert.match(lines[2]!, /\.500000000(Z|[+-]\d\d:\d\d) network connect n1$/);
  assert.match(lines[3]!, /:03\.000000000(Z|[+-]\d\d:\d\d) daemon reload d1$/);

  const tmpl = await joey(['events', '--format', '{{.TimeNano}} {{json .Actor.Attributes}}']);
  assert.equal(tmpl.stdout.split('\n')[0], '1764237600123456789 {"com.x":"a b","image":"busybox","name":"web"}');
  const bad = await joey(['events', '--format', '{{.Nope}}']);
  assert.equal(bad.code, 64);
  assert.equal(api.requests.filter((q) => q.path === '/events').length, 2, 'a bad template asks nothing of the daemon');
});
