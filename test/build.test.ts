// docker build through the classic builder (POST /build) against a private
// joeyd: the docker CLI with DOCKER_BUILDKIT=0, docker-py, docker-compose
// 1.29 and `joey build`. The base image is imported offline from the host's
// /bin/busybox; nothing leaves the machine.
//
// A multi-stage Dockerfile with ARG before FROM, --build-arg, ENV, WORKDIR,
// COPY (a directory, a glob, --from a stage, --chown), ADD of a local
// tar.gz, RUN, USER, EXPOSE, VOLUME, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT and
// CMD, with a .dockerignore; the image runs and has the files, owners and
// config; history reads as docker's; a second build is all cache; a failing
// RUN exits with its code and leaves no container (--force-rm); a hostile
// context and an unknown instruction are refused with clear errors.
// `docker builder prune` and `system df` report no build cache, as dockerd
// 20.10 does for classic builds; a base image missing locally is pulled from
// an htpasswd registry on loopback with the X-Registry-Config credentials,
// its progress relayed into the build's stream.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { TEST_ENGINE, type Daemon } from './lib/daemon.ts';
import { pushImage } from './lib/images.ts';
import { startRegistry, type Registry } from './lib/registry.ts';
import { busyboxInitTar } from './lib/rich-images.ts';
import { makeTempDir, removeDir, run, type CmdResult } from './lib/proc.ts';
import { tarBuffer, tarGz } from './lib/tar.ts';

const tag = (process.pid % 100000).toString(36);
const BASE = `jbbase${tag}`;
const IMG = `jbapp${tag}:v1`;
let cd: ContainerDaemon | undefined;
let d: Daemon;
let work: string;
let ctxDir: string;

function it(name: string, fn: () => Promise<void>, timeoutMs = 120_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

const legacy = { DOCKER_BUILDKIT: '0' };
function dockerBuild(args: string[]): Promise<CmdResult> {
  return d.docker(['build', ...args], { env: legacy, timeoutMs: 120_000 });
}

const DOCKERFILE = `# syntax=docker/dockerfile:1
# escape=\\
ARG BASE_IMAGE=${BASE}
FROM \${BASE_IMAGE} AS build
ARG GREETING=hello
ENV OUT=/out
WORKDIR /src
COPY src/ ./
RUN mkdir -p $OUT \\
 && echo "$GREETING from build" > $OUT/greeting.txt \\
 && cat hello.txt >> $OUT/greeting.txt

FROM ${BASE}
LABEL org.example.title="joey build test" version=1
ENV APP_HOME=/app PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR \${APP_HOME}
COPY --from=build /out/greeting.txt ./
COPY --chown=nobody:nogroup owned.txt /app/owned.txt
ADD bundle.tar.gz /app/bundle/
COPY *.cfg conf/
COPY . /ctx/
RUN echo "uid=$(id -u)" > /app/run-as.txt
USER nobody
EXPOSE 8080/tcp 9090
VOLUME /data
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --retries=2 CMD true
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/greeting.txt"]
`;

before(async () => {
  work = await makeTempDir('joey-build-');
  cd = await startContainerDaemon('build');
  d = cd.d;
  const tar = await busyboxInitTar(work);
  await d.dockerOk(['import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--change', 'CMD ["sh"]', tar, BASE]);
  ctxDir = join(work, 'ctx');
  await mkdir(join(ctxDir, 'src'), { recursive: true });
  await mkdir(join(ctxDir, 'ignored'), { recursive: true });
  await writeFile(join(ctxDir, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(ctxDir, '.dockerignore'), '*.secret\nignored/\n!ignored/keep.txt\n');
  await writeFile(join(ctxDir, 'src/hello.txt'), 'hello file\n');
  await writeFile(join(ctxDir, 'owned.txt'), 'mine\n');
  await writeFile(join(ctxDir, 'a.cfg'), 'a\n');
  await writeFile(join(ctxDir, 'b.cfg'), 'b\n');
  await writeFile(join(ctxDir, 'x.secret'), 'do not send\n');
  await writeFile(join(ctxDir, 'ignored/other.txt'), 'no\n');
  await writeFile(join(ctxDir, 'ignored/keep.txt'), 'yes\n');
  await writeFile(join(ctxDir, 'bundle.tar.gz'), await tarGz([
    { name: 'lib/', type: 'directory' },
    { name: 'lib/data.txt', type: 'file', content: 'from the archive\n', uid: 1234, gid: 4321 },
  ]));
});

after(async () => {
  await teardownContainerDaemon(cd);
  if (work) await removeDir(work);
});

describe('docker build (DOCKER_BUILDKIT=0)', () => {
  let firstId = '';

  it('builds a multi-stage Dockerfile with build args, and tags it', async () => {
    const r = await dockerBuild(['-t', IMG, '--build-arg', 'GREETING=hi-arg', '--build-arg', 'UNUSED=1', ctxDir]);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.match(r.stdout, /^Step 1\/\d+ : ARG BASE_IMAGE=/m);
    assert.match(r.stdout, /Step 2\/\d+ : FROM \$\{BASE_IMAGE\} AS build\n ---> [0-9a-f]{12}\n/);
    assert.match(r.stdout, / ---> Running in [0-9a-f]{12}\n/);
    assert.match(r.stdout, /Removing intermediate container [0-9a-f]{12}\n/);
    assert.match(r.stdout, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
    const m = /Successfully built ([0-9a-f]{12})\n/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.match(r.stdout, new RegExp(`Successfully tagged ${IMG}\\n`));
    firstId = m[1]!;
    assert.deepEqual((await d.docker(['ps', '-aq'])).stdout.trim(), '', 'no intermediate container is left');
    if (TEST_ENGINE === 'joeyd') assert.deepEqual(await readdir(join(d.dataRoot, 'build', 'contexts')), [], 'the context is removed');
    // Intermediate step images show with -a only, as with dockerd; the
    // result of the first stage is dangling (dockerd leaves it so too).
    const images = await d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(images.stdout.split('\n').filter((l) => l === '<none>:<none>').length, 1, images.stdout);
    const all = await d.dockerOk(['images', '-a', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.match(all.stdout, /<none>:<none>/);
  });

  it('the image runs and has the files, owners and config', async () => {
    const out = await d.dockerOk(['run', '--rm', IMG]);
    assert.equal(out.stdout, 'hi-arg from build\nhello file\n');
    const ls = await d.dockerOk(['run', '--rm', IMG, 'cd /app && ls -ln owned.txt bundle/lib/data.txt && cat bundle/lib/data.txt run-as.txt && ls conf /ctx /ctx/ignored && id -u && pwd']);
    assert.match(ls.stdout, /-rw-r--r--\s+1 65534\s+65534\s+5 .* owned\.txt/);
    assert.match(ls.stdout, /1234\s+4321\s+.* bundle\/lib\/data\.txt/, 'ADD keeps the archive owners');
    assert.match(ls.stdout, /from the archive\nuid=0\n/);
    assert.match(ls.stdout, /a\.cfg\s+b\.cfg/);
    assert.doesNotMatch(ls.stdout, /x\.secret|other\.txt/, '.dockerignore');
    assert.match(ls.stdout, /keep\.txt/, '! exceptions of .dockerignore');
    assert.match(ls.stdout, /\n65534\n\/app\n$/);
    const [info] = await d.dockerJson<any[]>(['image', 'inspect', IMG]);
    const c = info.Config;
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(c.Cmd, ['cat /app/greeting.txt']);
    assert.equal(c.WorkingDir, '/app');
    assert.equal(c.User, 'nobody');
    assert.ok(c.Env.includes('APP_HOME=/app'), c.Env);
    assert.ok(!c.Env.some((e: string) => e.startsWith('GREETING=')), 'ARGs are not in the image');
    assert.deepEqual(c.Labels, { 'org.example.title': 'joey build test', version: '1' });
    assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ['8080/tcp', '9090/tcp']);
    assert.deepEqual(Object.keys(c.Volumes), ['/data']);
    assert.equal(c.StopSignal, 'SIGQUIT');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 }, 'the shell form, as docker');
  });

  it('docker history shows the steps as docker does', async () => {
    const h = await d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', IMG]);
    const lines = h.stdout.trim().split('\n');
    assert.equal(lines[0], '/bin/sh -c #(nop)  CMD ["cat /app/greeting.txt"]|0B');
    assert.ok(lines.includes('/bin/sh -c #(nop)  USER nobody|0B'), h.stdout);
    assert.ok(lines.some((l) => l.startsWith('/bin/sh -c echo "uid=$(id -u)" > /app/run-as.txt|') && !l.endsWith('|0B')), h.stdout);
    // (dockerd 20.10 runs --chown and the checksum together.)
    assert.ok(lines.some((l) => /^\/bin\/sh -c #\(nop\) COPY --chown=nobody:nogroup ?file:[0-9a-f]{64} in \/app\/owned\.txt \|/.test(l)), h.stdout);
    assert.ok(lines.some((l) => /^\/bin\/sh -c #\(nop\) COPY multi:[0-9a-f]{64} in conf\/ \|4B$/.test(l)), h.stdout);
    assert.ok(lines.includes(`/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\\x02'}|0B`), h.stdout);
    assert.ok(lines.includes('/bin/sh -c #(nop)  EXPOSE 8080/tcp 9090|0B'), h.stdout);
    assert.ok(lines.includes('/bin/sh -c #(nop) WORKDIR /app|0B'), h.stdout);
  });

  it('a second build comes from the cache', async () => {
    const started = Date.now();
    const r = await dockerBuild(['-t', IMG, '--build-arg', 'GREETING=hi-arg', ctxDir]);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.doesNotMatch(r.stdout, /Running in/);
    assert.match(r.stdout, / ---> Using cache\n/);
    assert.match(r.stdout, new RegExp(`Successfully built ${firstId}\\n`));
    assert.ok(Date.now() - started < 10_000);
    // A changed file invalidates its COPY and what follows; --no-cache everything.
    const nc = await dockerBuild(['-q', '--no-cache', '--build-arg', 'GREETING=hi-arg', ctxDir]);
    assert.equal(nc.code, 0, d.diagnose(nc));
    assert.match(nc.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(nc.stdout.trim().slice(7, 19), firstId);
  });

  it('--target stops at a stage', async () => {
    const r = await dockerBuild(['--target', 'build', '-t', `jbtarget${tag}`, '--build-arg', 'GREETING=t', ctxDir]);
    assert.equal(r.code, 0, d.diagnose(r));
    const out = await d.dockerOk(['run', '--rm', `jbtarget${tag}`, 'cat', '/out/greeting.txt']);
    assert.equal(out.stdout, 't from build\nhello file\n');
  });

  it('a failing RUN exits with its code and output, and --force-rm leaves no container', async () => {
    const dir = join(work, 'fail');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\nRUN echo before-the-failure && exit 3\n`);
    const r = await dockerBuild(['--force-rm', dir]);
    assert.equal(r.code, 3, d.diagnose(r));
    assert.match(r.stdout, /before-the-failure/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo before-the-failure && exit 3' returned a non-zero code: 3/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '');
  });

  it('an unknown instruction names its line', async () => {
    const dir = join(work, 'unknown');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\n# a comment\nFOO bar\n`);
    const r = await dockerBuild([dir]);
    assert.notEqual(r.code, 0);
    // dockerd 20.10 says "error line 3", newer ones "error on line 3".
    assert.match(r.stderr, /dockerfile parse error (on )?line 3: unknown instruction: FOO/);
  });

  it('ONBUILD triggers run in a child build; SHELL; FROM scratch with COPY', async () => {
    const dir = join(work, 'onbuild');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'parent.Dockerfile'), `FROM ${BASE}\nONBUILD RUN echo triggered > /trig.txt\n`);
    await writeFile(join(dir, 'hello.txt'), 'hello scratch\n');
    await writeFile(join(dir, 'Dockerfile'), [
      'FROM scratch AS files', 'COPY hello.txt /', `FROM jbparent${tag}`, 'SHELL ["/bin/sh", "-ec"]',
      'COPY --from=files /hello.txt /h.txt', 'RUN cat /trig.txt /h.txt', '',
    ].join('\n'));
    const p = await dockerBuild(['-f', join(dir, 'parent.Dockerfile'), '-t', `jbparent${tag}`, dir]);
    assert.equal(p.code, 0, d.diagnose(p));
    const [parent] = await d.dockerJson<any[]>(['image', 'inspect', `jbparent${tag}`]);
    assert.deepEqual(parent.Config.OnBuild, ['RUN echo triggered > /trig.txt']);
    const c = await dockerBuild(['-t', `jbchild${tag}`, dir]);
    assert.equal(c.code, 0, d.diagnose(c));
    assert.match(c.stdout, /# Executing 1 build trigger\n/);
    assert.match(c.stdout, /triggered\nhello scratch\n/);
    const [child] = await d.dockerJson<any[]>(['image', 'inspect', `jbchild${tag}`]);
    assert.deepEqual(child.Config.OnBuild ?? [], [], 'triggers do not pass to grandchildren');
    assert.deepEqual(child.Config.Shell, ['/bin/sh', '-ec']);
  });

  it('refuses a context tar that escapes, and ADD of a URL', async () => {
    if (TEST_ENGINE === 'dockerd') return; // dockerd 20.10 drops the escaping entry and builds
    const body = await tarBuffer([
      { name: 'Dockerfile', type: 'file', content: `FROM ${BASE}\nCOPY . /\n` },
      { name: '../escape.txt', type: 'file', content: 'out' },
    ]);
    const r = await d.api('POST', '/build', body, { 'content-type': 'application/x-tar' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /outside of the destination/);
    const dir = join(work, 'url');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\nADD http://127.0.0.1:1/x /x\n`);
    const u = await dockerBuild([dir]);
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /adding from a URL is not supported/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '');
  });
});

describe('ADD of a compressed file, FROM scratch in the cache', () => {
  it('ADD copies a gzip that is not a tar as it is, and still unpacks a tar.gz', async () => {
    const dir = join(work, 'addgz');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'notes.txt.gz'), gzipSync('plain notes, gzipped\n'));
    await writeFile(join(dir, 'bundle.tar.gz'), await tarGz([{ name: 'inside.txt', type: 'file', content: 'unpacked\n' }]));
    await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\nADD notes.txt.gz /n/\nADD bundle.tar.gz /b/\n`);
    const r = await dockerBuild(['-t', `jbaddgz${tag}`, dir]);
    assert.equal(r.code, 0, d.diagnose(r));
    const out = await d.dockerOk(['run', '--rm', `jbaddgz${tag}`, 'sh', '-c', 'ls /n && ls /b && gunzip -c /n/notes.txt.gz && cat /b/inside.txt']);
    assert.equal(out.stdout, 'notes.txt.gz\ninside.txt\nplain notes, gzipped\nunpacked\n');
  });

  it('ADD unpacks .tar.xz, .tar.bz2 and .tar.zst archives, and copies an xz of a plain file as it is', async () => {
    const dir = join(work, 'addxz');
    await mkdir(dir, { recursive: true });
    const tar = (name: string): Promise<Buffer> => tarBuffer([{ name, type: 'file', content: `${name} unpacked\n` }]);
    await writeFile(join(dir, 'a.tar.xz'), execFileSync('xz', ['-c'], { input: await tar('from-xz.txt') }));
    await writeFile(join(dir, 'b.tar.bz2'), execFileSync('bzip2', ['-c'], { input: await tar('from-bz2.txt') }));
    await writeFile(join(dir, 'c.tar.zst'), execFileSync('zstd', ['-q', '-c'], { input: await tar('from-zst.txt') }));
    await writeFile(join(dir, 'notes.xz'), execFileSync('xz', ['-c'], { input: 'plain notes\n' }));
    await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\nADD a.tar.xz b.tar.bz2 /x/\nADD notes.xz /n/\n${TEST_ENGINE === 'dockerd' ? '' : 'ADD c.tar.zst /x/\n'}`);
    const r = await dockerBuild(['-t', `jbaddxz${tag}`, dir]);
    assert.equal(r.code, 0, d.diagnose(r));
    const out = await d.dockerOk(['run', '--rm', `jbaddxz${tag}`, 'sh', '-c', 'cat /x/*.txt; ls /n']);
    const want = TEST_ENGINE === 'dockerd' ? 'from-bz2.txt unpacked\nfrom-xz.txt unpacked\nnotes.xz\n' : 'from-bz2.txt unpacked\nfrom-xz.txt unpacked\nfrom-zst.txt unpacked\nnotes.xz\n';
    assert.equal(out.stdout, want);
  });

  it('a FROM scratch stage comes from the cache on a second build, with the same image id', async () => {
    const dir = join(work, 'scratchcache');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data.txt'), `scratch data ${tag}\n`);
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY data.txt /data.txt\nENV WHERE=scratch\nCMD ["/nothing"]\n');
    const first = await dockerBuild(['-t', `jbscratch${tag}`, dir]);
    assert.equal(first.code, 0, d.diagnose(first));
    const id1 = /Successfully built ([0-9a-f]{12})\n/.exec(first.stdout)?.[1];
    assert.ok(id1, first.stdout);
    const second = await dockerBuild(['-t', `jbscratch${tag}`, dir]);
    assert.equal(second.code, 0, d.diagnose(second));
    assert.equal(second.stdout.match(/ ---> Using cache\n/g)?.length, 3, second.stdout);
    assert.match(second.stdout, new RegExp(`Successfully built ${id1}\\n`));
  });

  it('COPY --from keeps a file\'s user.* xattrs and capabilities, and so does the image', async () => {
    if (TEST_ENGINE === 'dockerd') return; // dockerd's classic builder keeps security.capability only
    // The earlier stage: an image whose layer has the attributes (GNU tar writes them).
    const src = join(work, 'xattr-src');
    await mkdir(join(src, 'bin'), { recursive: true });
    await writeFile(join(src, 'bin/tool'), 'not really a program\n', { mode: 0o755 });
    await run('setfattr', ['-n', 'user.joey', '-v', 'from-the-stage', join(src, 'bin/tool')]);
    const caps = (await run('setcap', ['cap_net_raw+ep', join(src, 'bin/tool')])).code === 0;
    const srcTar = join(work, 'xattr-src.tar');
    const t = await run('tar', ['--xattrs', '--xattrs-include=*', '-C', src, '-cf', srcTar, '.']);
    assert.equal(t.code, 0, t.stderr);
    await d.dockerOk(['import', srcTar, `jbxsrc${tag}`]);
    const dir = join(work, 'xattr');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM jbxsrc${tag} AS stage\nFROM ${BASE}\nCOPY --from=stage /bin/tool /usr/local/bin/tool\nCOPY --from=stage /bin /copied/\n`);
    const r = await dockerBuild(['-t', `jbxattr${tag}`, dir]);
    assert.equal(r.code, 0, d.diagnose(r));
    const cid = (await d.dockerOk(['run', '-d', `jbxattr${tag}`, 'sleep', '60'])).stdout.trim();
    try {
      const [info] = await d.dockerJson<any[]>(['inspect', cid]);
      const root = `/proc/${info.State.Pid}/root`;
      for (const p of ['/usr/local/bin/tool', '/copied/tool']) {
        const x = await run('getfattr', ['--absolute-names', '-n', 'user.joey', '--only-values', root + p]);
        assert.equal(x.stdout, 'from-the-stage', `${p}: ${x.stderr}`);
        if (caps) assert.match((await run('getcap', [root + p])).stdout, /cap_net_raw[=+]ep/, p);
      }
    } finally {
      await d.docker(['rm', '-f', cid]);
    }
  });
});

describe('build cache: docker system df and docker builder prune', () => {
  // dockerd 20.10 keeps the classic builder's cache as images: its BuildCache
  // (BuildKit's) stays empty, and a builder prune removes nothing.
  it('system df shows no build cache, and a builder prune reclaims nothing and keeps the cache', async () => {
    const df = await d.api('GET', '/v1.41/system/df');
    assert.equal(df.status, 200);
    assert.deepEqual(df.json().BuildCache ?? [], []);
    const sdf = await d.dockerOk(['system', 'df']);
    assert.match(sdf.stdout, /^Build Cache\s+0\s+0\s+0B\s+0B$/m);
    const before = (await d.dockerOk(['images', '-aq', '--no-trunc'])).stdout.split('\n').sort();
    let r = await d.docker(['builder', 'prune', '-f']);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.equal(r.stdout, 'Total reclaimed space: 0B\n');
    r = await d.docker(['builder', 'prune', '-a', '-f', '--filter', 'until=1h', '--keep-storage', '1MB']);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.equal(r.stdout, 'Total reclaimed space: 0B\n');
    r = await d.docker(['builder', 'prune', '-a'], { input: 'y\n' });
    assert.equal(r.stdout, 'WARNING! This will remove all build cache. Are you sure you want to continue? [y/N] Total reclaimed space: 0B\n');
    r = await d.docker(['builder', 'prune'], { input: 'n\n' });
    assert.equal(r.stdout, 'WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ');
    const api = await d.api('POST', '/v1.41/build/prune?all=1');
    assert.equal(api.status, 200);
    assert.deepEqual(api.json(), { CachesDeleted: null, SpaceReclaimed: 0 });
    const bad = await d.api('POST', `/v1.41/build/prune?filters=${encodeURIComponent('{"bogus":{"x":true}}')}`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /failed to prune build cache: Invalid filter 'bogus'/);
    const badUntil = await d.api('POST', `/v1.41/build/prune?filters=${encodeURIComponent('{"until":{"xyz":true}}')}`);
    assert.notEqual(badUntil.status, 200); // dockerd: 500, joey: 400
    assert.match(badUntil.text, /"until\\" filter expects a duration/);
    const j = await d.joey(['builder', 'prune', '-a', '-f']);
    assert.equal(j.code, 0, d.diagnose(j));
    assert.equal(j.stdout, 'Total reclaimed space: 0B\n');
    // Every step image is still there, and a build still comes from the cache.
    assert.deepEqual((await d.dockerOk(['images', '-aq', '--no-trunc'])).stdout.split('\n').sort(), before);
    const again = await dockerBuild(['-t', IMG, '--build-arg', 'GREETING=hi-arg', ctxDir]);
    assert.equal(again.code, 0, d.diagnose(again));
    assert.doesNotMatch(again.stdout, /Running in/);
  });
});

describe('a missing base image is pulled with the build\'s credentials', () => {
  let reg: Registry | undefined;
  let base = '';
  let dir = '';
  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    base = (await pushImage(reg, 'busybox', { repo: `jbpull${tag}` })).ref;
    dir = join(work, 'pull');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM ${base}\nRUN echo pulled > /p.txt\n`);
  });
  after(async () => {
    await reg?.stop();
  });

  it('without credentials the pull fails and the build with it', async () => {
    const r = await dockerBuild([dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /Step 1\/2 : FROM /);
    assert.match(r.stderr, /no basic auth credentials|unauthorized|authentication required/);
    const u = reg!.users![0]!;
    const body = await tarBuffer([{ name: 'Dockerfile', type: 'file', content: `FROM ${base}\n` }]);
    const xrc = Buffer.from(JSON.stringify({ [reg!.host]: { username: u.username, password: 'wrong' } })).toString('base64');
    const a = await d.api('POST', '/v1.41/build', body, { 'content-type': 'application/x-tar', 'X-Registry-Config': xrc });
    assert.equal(a.status, 200);
    const last = JSON.parse(a.text.trim().split('\n').at(-1)!);
    assert.match(last.error, /unauthorized|authentication required/, a.text);
  });

  it('X-Registry-Config credentials pull it, and its progress is in the build stream', async () => {
    const u = reg!.users![0]!;
    const body = await tarBuffer([{ name: 'Dockerfile', type: 'file', content: `FROM ${base}\nCMD ["sh"]\n` }]);
    const xrc = Buffer.from(JSON.stringify({ [reg!.host]: { username: u.username, password: u.password } })).toString('base64');
    const a = await d.api('POST', '/v1.41/build', body, { 'content-type': 'application/x-tar', 'X-Registry-Config': xrc });
    assert.equal(a.status, 200);
    const msgs = a.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(!msgs.some((m) => m.error), a.text);
    const at = msgs.findIndex((m) => m.status === `Pulling from jbpull${tag}` && m.id === 'latest');
    assert.ok(at > 0, a.text);
    assert.ok(msgs.some((m) => m.status === 'Pulling fs layer' && /^[0-9a-f]{12}$/.test(m.id)), a.text);
    assert.ok(msgs.some((m) => m.status === 'Pull complete'), a.text);
    assert.ok(msgs.some((m) => /^Digest: sha256:[0-9a-f]{64}$/.test(m.status ?? '')), a.text);
    const status = msgs.findIndex((m) => m.status === `Status: Downloaded newer image for ${base}`);
    assert.ok(status > at, a.text);
    assert.match(msgs[status + 1].stream, /^ ---> [0-9a-f]{12}\n$/, 'then the step goes on');
    await d.dockerOk(['rmi', base]); // untagged only: the build's image keeps it
  });

  it('docker build after docker login shows the pull as docker pull does', async () => {
    const u = reg!.users![0]!;
    await d.dockerOk(['login', '-u', u.username, '--password-stdin', reg!.host], { input: u.password });
    const r = await dockerBuild(['-t', `jbpulled${tag}`, dir]);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.match(r.stdout, new RegExp(`Step 1/2 : FROM ${base}\\nlatest: Pulling from jbpull${tag}\\n`));
    // (The layer stays from the test before: joey says "Already exists" for
    // it, dockerd, which still has the image, says nothing.)
    assert.match(r.stdout, new RegExp(`Digest: sha256:[0-9a-f]{64}\\nStatus: Downloaded newer image for ${base}\\n ---> [0-9a-f]{12}\\nStep 2/2`));
    assert.doesNotMatch(r.stdout, /^Pulling /m);
    const out = await d.dockerOk(['run', '--rm', `jbpulled${tag}`, 'cat', '/p.txt']);
    assert.equal(out.stdout, 'pulled\n');
  });
});

describe('other clients', () => {
  it('docker-py client.images.build', async () => {
    const dir = join(work, 'py');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\nARG WHO\nRUN echo "py $WHO" > /who.txt\nCMD ["cat", "/who.txt"]\n`);
    const script = [
      'import docker, sys',
      'c = docker.from_env()',
      `img, logs = c.images.build(path=sys.argv[1], tag="jbpy${tag}:1", buildargs={"WHO": "docker-py"}, rm=True)`,
      'print("".join(l.get("stream", "") for l in logs))',
      'print("TAGS", img.tags)',
      'print("OUT", c.containers.run(img.id, remove=True).decode().strip())',
    ].join('\n');
    const r = await run('python3', ['-c', script, dir], { env: d.clientEnv(), timeoutMs: 90_000 });
    assert.equal(r.code, 0, d.diagnose(r));
    assert.match(r.stdout, new RegExp(`TAGS \\['jbpy${tag}:1'\\]`));
    assert.match(r.stdout, /OUT py docker-py/);
  });

  it('docker-compose 1.29 build:', async () => {
    const dir = join(work, 'compose');
    await mkdir(join(dir, 'web'), { recursive: true });
    await writeFile(join(dir, 'web', 'Dockerfile'), `FROM ${BASE}\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n`);
    await writeFile(join(dir, 'web', 'msg.txt'), 'from compose\n');
    await writeFile(join(dir, 'docker-compose.yml'), `version: "3"\nservices:\n  web:\n    build: ./web\n    image: jbcompose${tag}:latest\n    network_mode: none\n`);
    const env = d.clientEnv({ COMPOSE_PROJECT_NAME: `jbc${tag}`, PATH: process.env.PATH });
    const b = await run('docker-compose', ['--ansi', 'never', 'build'], { cwd: dir, env, timeoutMs: 90_000 });
    assert.equal(b.code, 0, d.diagnose(b));
    const out = await d.dockerOk(['run', '--rm', `jbcompose${tag}:latest`]);
    assert.equal(out.stdout, 'from compose\n');
  });

  it('joey build', async () => {
    const dir = join(work, 'joey');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Containerfile'), `FROM ${BASE}\nARG V=1\nRUN echo "joey $V" > /v.txt\n`);
    const r = await d.joey(['build', '-t', `jbjoey${tag}`, '-f', join(dir, 'Containerfile'), '--build-arg', 'V=2', '--label', 'a=b', dir]);
    assert.equal(r.code, 0, d.diagnose(r));
    assert.match(r.stdout, /Step 1\/4 : FROM/);
    assert.match(r.stdout, /Step 4\/4 : LABEL a=b\n/);
    assert.match(r.stdout, new RegExp(`Successfully tagged jbjoey${tag}:latest`));
    const out = await d.dockerOk(['run', '--rm', `jbjoey${tag}`, 'cat', '/v.txt']);
    assert.equal(out.stdout, 'joey 2\n');
    const fail = await d.joey(['build', dir, '-f', join(dir, 'nope')]);
    assert.notEqual(fail.code, 0);
  });
});

