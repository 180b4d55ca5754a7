// Image features of joeyd against real components: private registries
// (docker-registry with no auth, htpasswd and token auth), images built and
// pushed by skopeo, the docker CLI and the joey CLI as clients, podman and
// skopeo as peers that must accept what joey pushes and saves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startJoeyd, type Daemon } from './lib/daemon.ts';
import { HOSTILE_CASES, pushHostile } from './lib/hostile.ts';
import {
  MULTILAYER, TEST_LABEL, buildImage, layoutDigests, pushBothFormats, pushImage, pushRaw, skopeoCopy, skopeoInspect,
  type Pushed,
} from './lib/images.ts';
import { readBlob, readJsonBlob, tagged, type Manifest } from './lib/oci-layout.ts';
import { startPodman, type Podman } from './lib/podman.ts';
import { makeTempDir, removeDir, waitFor, type CmdResult } from './lib/proc.ts';
import { startProxy, type RegistryProxy } from './lib/proxy.ts';
import { startRegistry, type Registry } from './lib/registry.ts';
import { listTar, tarGz } from './lib/tar.ts';

// ---- the world every group shares: registries holding the test images -----

let reg: Registry; // no auth
let regBasic: Registry; // htpasswd
let regToken: Registry; // token
let proxy: RegistryProxy; // counting proxy in front of `reg`
let work: string; // scratch dir for tarballs
const pushed: Record<string, Pushed> = {};

before(async () => {
  [reg, regBasic, regToken] = await Promise.all([startRegistry(), startRegistry({ auth: 'htpasswd' }), startRegistry({ auth: 'token' })]);
  proxy = await startProxy(reg.url);
  work = await makeTempDir();
  pushed.busybox = await pushImage(reg, 'busybox');
  const both = await pushBothFormats(reg, 'busybox');
  pushed.busyboxOci = both.oci;
  pushed.busyboxV2 = both.v2s2;
  pushed.multilayer = await pushImage(reg, 'multilayer');
  pushed.multiplatform = await pushImage(reg, 'multiplatform');
  pushed.big = await pushImage(reg, 'big');
  pushed.basic = await pushImage(regBasic, 'busybox');
  pushed.token = await pushImage(regToken, 'busybox');
});

after(async () => {
  await proxy?.stop();
  await Promise.all([reg?.stop(), regBasic?.stop(), regToken?.stop()]);
  if (work) await removeDir(work);
});

/**
 * A joeyd of the group's own, stopped and checked for leaked mounts after it.
 * If a test crashed it, the next test gets it restarted (the crash already failed that test).
 */
function useDaemon(): () => Daemon {
  let d: Daemon | undefined;
  before(async () => {
    d = await startJoeyd({ args: ['--insecure-registry', '127.0.0.0/8'] });
  });
  beforeEach(async () => {
    if (d && !d.running) await d.restart();
  });
  after(async () => {
    await d?.cleanup();
  });
  return () => {
    assert.ok(d, 'joeyd did not start');
    return d;
  };
}

interface ImageRow {
  Repository: string;
  Tag: string;
  Digest?: string;
  ID: string;
  Size: string;
  CreatedAt?: string;
}

async function imageRows(d: Daemon, args: string[] = []): Promise<ImageRow[]> {
  const r = await d.dockerOk(['images', '--no-trunc', '--format', '{{json .}}', ...args]);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ImageRow);
}

const refsOf = (rows: ImageRow[]): string[] => rows.map((r) => `${r.Repository}:${r.Tag}`);

async function inspect(d: Daemon, ref: string): Promise<any> {
  const [img] = await d.dockerJson<any[]>(['image', 'inspect', ref]);
  return img;
}

function failed(d: Daemon, r: CmdResult, pattern: RegExp, what: string): void {
  assert.notEqual(r.code, 0, `${what} should fail\n${d.diagnose(r)}`);
  assert.match(`${r.stderr}\n${r.stdout}`, pattern, `${what}: unclear error\n${d.diagnose(r)}`);
}

/** Digests a pushed image's blobs: its manifest(s), config(s) and layers, as in the OCI layout it came from. */
async function blobsOf(p: Pushed, image: 'busybox' | 'multilayer' | 'big'): Promise<Set<string>> {
  const built = await buildImage(image);
  const d = await layoutDigests(built.layout);
  return new Set([p.digest, ...d.manifests, ...d.configs, ...d.layers].map((x) => x.replace(/^sha256:/, '')));
}

async function committedBlobs(d: Daemon): Promise<string[]> {
  const dir = join(d.dataRoot, 'content/blobs/sha256');
  return existsSync(dir) ? (await readdir(dir)).filter((f) => /^[0-9a-f]{64}$/.test(f)) : [];
}

async function treeSize(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size;
  }
  return n;
}

// ---- system ---------------------------------------------------------------

describe('system endpoints', () => {
  const daemon = useDaemon();

  test('docker version negotiates the API with joeyd', async () => {
    const d = daemon();
    const v = await d.dockerJson<any>(['version', '--format', '{{json .}}']);
    assert.ok(v.Server, 'the server part is present');
    assert.match(v.Server.ApiVersion, /^1\.\d+$/);
    assert.match(v.Server.MinAPIVersion ?? '1.24', /^1\.\d+$/);
    const [, minor] = v.Server.ApiVersion.split('.').map(Number);
    const [, clientMinor] = v.Client.ApiVersion.split('.').map(Number);
    assert.ok(clientMinor <= minor, `the client talks ${v.Client.ApiVersion}, within the server's ${v.Server.ApiVersion}`);
    assert.equal(v.Server.Os, 'linux');
  });

  test('docker info works', async () => {
    const d = daemon();
    const info = await d.dockerJson<any>(['info', '--format', '{{json .}}']);
    assert.ok(!info.ServerErrors?.length, JSON.stringify(info.ServerErrors));
    assert.equal(info.OSType, 'linux');
    assert.equal(typeof info.Images, 'number');
    assert.ok(info.RegistryConfig?.InsecureRegistryCIDRs?.includes('127.0.0.0/8'));
    const text = await d.dockerOk(['info']);
    assert.match(text.stdout, /Server Version:/);
  });

  test('/_ping answers GET and HEAD with Api-Version', async () => {
    const d = daemon();
    const get = await d.api('GET', '/_ping');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'OK');
    assert.match(String(get.headers['api-version']), /^1\.\d+$/);
    const head = await d.api('HEAD', '/_ping');
    assert.equal(head.status, 200);
    assert.match(String(head.headers['api-version']), /^1\.\d+$/);
    assert.equal(head.body.length, 0);
    const versioned = await d.api('GET', `/v${get.headers['api-version']}/_ping`);
    assert.equal(versioned.status, 200);
  });

  test('/metrics is Prometheus text', async () => {
    const d = daemon();
    await d.api('GET', '/images/json');
    const m = await d.api('GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain/);
    assert.match(m.text, /^# TYPE \w+ (counter|gauge|histogram|summary)$/m);
    assert.match(m.text, /^# HELP \w+ .+$/m);
    for (const line of m.text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? ([-+0-9.eE]+|NaN|[+-]Inf)( -?\d+)?$/, `not a sample line: ${line}`);
    }
  });
});

// ---- pull, list, inspect, tag, rmi, history --------------------------------

describe('pull and local images', () => {
  const daemon = useDaemon();

  test('pull by tag', async () => {
    const d = daemon();
    const r = await d.dockerOk(['pull', pushed.busybox!.ref]);
    assert.match(r.stdout, new RegExp(`Digest: ${pushed.busybox!.digest}`), d.diagnose(r));
    assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${pushed.busybox!.ref}`), d.diagnose(r));
    const again = await d.dockerOk(['pull', pushed.busybox!.ref]);
    assert.match(again.stdout, /Status: Image is up to date/, d.diagnose(again));
  });

  test('docker images lists it with a size and the --digests column', async () => {
    const d = daemon();
    const rows = await imageRows(d, ['--digests']);
    const row = rows.find((r) => `${r.Repository}:${r.Tag}` === pushed.busybox!.ref);
    assert.ok(row, `not listed: ${JSON.stringify(rows)}`);
    assert.equal(row.Digest, pushed.busybox!.digest);
    assert.match(row.ID, /^sha256:[0-9a-f]{64}$/);
    assert.match(row.Size, /^[0-9.]+\s?[kKMG]?B$/);
    assert.notEqual(row.Size, '0B');
    const table = await d.dockerOk(['images', '--digests']);
    assert.match(table.stdout.split('\n')[0]!, /REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE/);
    assert.ok(table.stdout.includes(pushed.busybox!.digest));
  });

  test('image inspect fields', async () => {
    const d = daemon();
    const img = await inspect(d, pushed.busybox!.ref);
    assert.match(img.Id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(img.RepoTags.includes(pushed.busybox!.ref), JSON.stringify(img.RepoTags));
    assert.ok(img.RepoDigests.includes(pushed.busybox!.byDigest), JSON.stringify(img.RepoDigests));
    assert.ok(!Number.isNaN(Date.parse(img.Created)), img.Created);
    assert.ok(Date.parse(img.Created) > Date.parse('2020-01-01'));
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.ok(img.Config.Env.some((e: string) => e.startsWith('PATH=')));
    assert.equal(img.Config.Labels[TEST_LABEL], 'busybox');
    assert.equal(img.RootFS.Type, 'layers');
    assert.equal(img.RootFS.Layers.length, 1);
    assert.ok(img.Size > 1_000_000, `Size ${img.Size}`);
    assert.equal(img.Architecture, 'amd64');
    assert.equal(img.Os, 'linux');
  });

  test('pull by digest', async () => {
    const d = daemon();
    const byTag = await inspect(d, pushed.busybox!.ref);
    const r = await d.dockerOk(['pull', pushed.busybox!.byDigest]);
    assert.match(r.stdout, new RegExp(pushed.busybox!.digest), d.diagnose(r));
    const byDigest = await inspect(d, pushed.busybox!.byDigest);
    assert.equal(byDigest.Id, byTag.Id);
  });

  test('an image with zstd-compressed layers pulls, runs, saves and loads', async () => {
    const d = daemon();
    // The multilayer image again, each layer recompressed with zstd (skopeo
    // 1.9 recompresses only into dir:), with its own config: same diff ids.
    const built = await buildImage('multilayer');
    const m = await readJsonBlob<Manifest>(built.layout, (await tagged(built.layout, 'latest')).digest);
    const layers = await Promise.all(m.layers.map(async (l) => execFileSync('zstd', ['-q', '-c'], { input: gunzipSync(await readBlob(built.layout, l.digest)), maxBuffer: 64 << 20 })));
    const zstd = await pushRaw(reg, 'joey-test/zstd', 'v1', {
      layers,
      layerMediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
      config: await readBlob(built.layout, m.config.digest),
    });
    await d.dockerOk(['pull', zstd.ref]);
    await d.dockerOk(['pull', pushed.multilayer!.ref]);
    const img = await inspect(d, zstd.ref);
    assert.deepEqual(img.RootFS.Layers, (await inspect(d, pushed.multilayer!.ref)).RootFS.Layers, 'the diff ids of the gzip push');
    const run = ['run', '--rm', zstd.ref, 'sh', '-c', `cat ${MULTILAYER.kept}; test -e ${MULTILAYER.deletedFile} || echo whited-out`];
    let r = await d.dockerOk(run);
    assert.equal(r.stdout, 'kept\nwhited-out\n', d.diagnose(r));
    // save keeps the zstd blobs as they came; joeyd loads them back.
    const archive = join(work, 'zstd-save.tar');
    await d.dockerOk(['save', '-o', archive, zstd.ref]);
    await d.dockerOk(['rmi', zstd.ref]);
    r = await d.dockerOk(['load', '-i', archive]);
    assert.match(r.stdout, /Loaded image: .*joey-test\/zstd:v1/, d.diagnose(r));
    r = await d.dockerOk(run);
    assert.equal(r.stdout, 'kept\nwhited-out\n', d.diagnose(r));
    // It carries the multilayer image's label: the filter tests below must not see it.
    await d.dockerOk(['rmi', zstd.ref]);
  });

  test('a corrupt zstd layer fails the pull in zstd\'s words and leaves no image', async () => {
    const d = daemon();
    const good = execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(10240) });
    const bad = Buffer.from(good);
    bad.fill(0x55, 12, bad.length - 8);
    const p = await pushRaw(reg, 'joey-test/zstd-bad', 'v1', { layers: [bad], layerMediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', config: {
      architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(Buffer.alloc(10240)).digest('hex')}`] }, config: {},
    } });
    const r = await d.docker(['pull', p.ref]);
    failed(d, r, /corrupt zstd stream/, 'pull of a corrupt zstd layer');
    assert.equal((await d.docker(['image', 'inspect', p.ref])).code, 1);
  });

  test('the same image pushed as Docker schema 2 pulls to the same layers', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.busyboxV2!.ref]);
    await d.dockerOk(['pull', pushed.busyboxOci!.ref]);
    const v2 = await inspect(d, pushed.busyboxV2!.ref);
    const oci = await inspect(d, pushed.busyboxOci!.ref);
    assert.deepEqual(v2.RootFS.Layers, oci.RootFS.Layers);
    assert.deepEqual(v2.Config.Cmd, ['sh']);
  });

  test('filters: reference, label, dangling', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.multilayer!.ref]);
    const byRef = refsOf(await imageRows(d, ['--filter', `reference=${reg.host}/busybox:latest`]));
    assert.deepEqual(byRef, [pushed.busybox!.ref]);
    const byRepo = refsOf(await imageRows(d, ['--filter', `reference=${reg.host}/multil*`]));
    assert.deepEqual(byRepo, [pushed.multilayer!.ref]);
    const byLabel = refsOf(await imageRows(d, ['--filter', `label=${TEST_LABEL}=multilayer`]));
    assert.deepEqual(byLabel, [pushed.multilayer!.ref]);
    const anyLabel = refsOf(await imageRows(d, ['--filter', `label=${TEST_LABEL}`]));
    assert.ok(anyLabel.includes(pushed.multilayer!.ref) && anyLabel.includes(pushed.busybox!.ref), anyLabel.join(' '));
    const dangling = await imageRows(d, ['--filter', 'dangling=true']);
    assert.deepEqual(dangling, [], 'nothing is dangling yet');
    const notDangling = refsOf(await imageRows(d, ['--filter', 'dangling=false']));
    assert.ok(notDangling.includes(pushed.busybox!.ref));
    const bad = await d.docker(['images', '--filter', 'no-such-filter=1']);
    failed(d, bad, /invalid filter|no-such-filter/i, 'an unknown filter');
  });

  test('tag adds a name; rmi of one of several tags only untags', async () => {
    const d = daemon();
    const id = (await inspect(d, pushed.busybox!.ref)).Id;
    await d.dockerOk(['tag', pushed.busybox!.ref, 'local/bb:one']);
    await d.dockerOk(['tag', id, 'local/bb:two']);
    const img = await inspect(d, 'local/bb:one');
    assert.equal(img.Id, id);
    assert.ok(img.RepoTags.includes('local/bb:one') && img.RepoTags.includes('local/bb:two'), JSON.stringify(img.RepoTags));

    const r1 = await d.dockerOk(['rmi', 'local/bb:one']);
    assert.match(r1.stdout, /Untagged: local\/bb:one/);
    assert.doesNotMatch(r1.stdout, /Deleted:/);
    // By id, while names in two repositories point at it: refused without -f (as dockerd does).
    const byId = await d.docker(['rmi', id]);
    failed(d, byId, /must be forced|referenced in multiple repositories/i, 'rmi by id of an image named in several repositories');
    assert.equal((await inspect(d, 'local/bb:two')).Id, id);
    const r2 = await d.dockerOk(['rmi', 'local/bb:two']);
    assert.match(r2.stdout, /Untagged: local\/bb:two/);
    assert.doesNotMatch(r2.stdout, /Deleted:/, 'the image still has its other names');
    assert.equal((await inspect(d, pushed.busybox!.ref)).Id, id);
  });

  test('rmi of the last name deletes the image', async () => {
    const d = daemon();
    const layer = await tarGz([{ name: 'solo', type: 'file', content: 'only one tag\n' }]);
    const raw = await pushRaw(reg, 'solo', 'v1', { layers: [layer] });
    await d.dockerOk(['pull', raw.ref]);
    const id = (await inspect(d, raw.ref)).Id;
    const r = await d.dockerOk(['rmi', raw.ref]);
    assert.match(r.stdout, new RegExp(`Untagged: ${raw.ref}`));
    assert.match(r.stdout, new RegExp(`Deleted: ${id}`));
    const gone = await d.docker(['image', 'inspect', raw.ref]);
    failed(d, gone, /No such image/, 'inspect after rmi');
    const goneById = await d.docker(['image', 'inspect', id]);
    failed(d, goneById, /No such image/, 'inspect by id after rmi');
  });

  test('rmi of an unknown name: exit 1, "No such image"', async () => {
    const d = daemon();
    const r = await d.docker(['rmi', 'no/such-image:nope']);
    assert.equal(r.code, 1, d.diagnose(r));
    assert.match(r.stderr, /No such image: no\/such-image:nope/);
  });

  test('history', async () => {
    const d = daemon();
    const r = await d.dockerOk(['history', '--no-trunc', '--format', '{{json .}}', pushed.busybox!.ref]);
    const rows = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(rows.length >= 2, r.stdout);
    assert.ok(rows.some((row) => /busybox rootfs/.test(row.CreatedBy)), r.stdout);
    assert.ok(rows.some((row) => /umoci config/.test(row.CreatedBy)), r.stdout);
    const table = await d.dockerOk(['history', pushed.busybox!.ref]);
    assert.match(table.stdout.split('\n')[0]!, /IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT/);
    failed(d, await d.docker(['history', 'no/such:image']), /No such image/, 'history of an unknown image');
  });
});

// ---- auth ---------------------------------------------------------------------

for (const kind of ['htpasswd', 'token'] as const) {
  describe(`pull from a registry with ${kind} auth`, () => {
    const daemon = useDaemon();
    const registry = (): Registry => (kind === 'htpasswd' ? regBasic : regToken);
    const image = (): Pushed => (kind === 'htpasswd' ? pushed.basic! : pushed.token!);

    test('without login: denied, with a clear message, and nothing created', async () => {
      const d = daemon();
      const r = await d.docker(['pull', image().ref]);
      failed(d, r, /unauthorized|authentication required|denied|no basic auth credentials/i, 'an anonymous pull');
      assert.deepEqual(await imageRows(d), []);
    });

    test('login with a wrong password fails', async () => {
      const d = daemon();
      const u = registry().users![0]!;
      const r = await d.docker(['login', registry().host, '-u', u.username, '--password-stdin'], { input: 'wrong-password\n' });
      failed(d, r, /unauthorized|invalid|incorrect|authentication required/i, 'a login with a wrong password');
    });

    test('after docker login the pull works', async () => {
      const d = daemon();
      const u = registry().users![0]!;
      const login = await d.dockerOk(['login', registry().host, '-u', u.username, '--password-stdin'], { input: `${u.password}\n` });
      assert.match(login.stdout, /Login Succeeded/);
      const config = JSON.parse(await readFile(join(d.dockerConfig, 'config.json'), 'utf8'));
      assert.ok(config.auths?.[registry().host], JSON.stringify(config));
      const r = await d.dockerOk(['pull', image().ref]);
      assert.match(r.stdout, new RegExp(image().digest));
      assert.equal((await inspect(d, image().ref)).Architecture, 'amd64');
      if (kind === 'token') {
        const granted = registry().token!.requests.filter((q) => q.user === u.username).flatMap((q) => q.granted);
        assert.ok(granted.some((g) => g.name === image().repo && g.actions.includes('pull')), JSON.stringify(granted));
      }
      await d.dockerOk(['logout', registry().host]);
    });
  });
}

// ---- multilayer, save ---------------------------------------------------------

describe('multilayer image', () => {
  const daemon = useDaemon();
  let podman: Podman;
  before(async () => {
    podman = await startPodman();
  });
  after(async () => {
    await podman?.cleanup();
  });

  test('pulls with all its layers', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.multilayer!.ref]);
    const img = await inspect(d, pushed.multilayer!.ref);
    assert.equal(img.RootFS.Layers.length, MULTILAYER.layers);
  });

  test('save keeps layers, whiteouts, the opaque dir, hardlink and symlink; podman loads it', async () => {
    const d = daemon();
    const tarPath = join(work, 'multilayer.tar');
    await d.dockerOk(['save', '-o', tarPath, pushed.multilayer!.ref]);
    const entries = await listTar(await readFile(tarPath));
    const names = entries.map((e) => e.name);
    assert.ok(names.includes('manifest.json'), `docker-archive manifest.json missing: ${names.join(' ')}`);

    // Every layer in the archive, as the tar entries it holds.
    const { default: tarStream } = await import('tar-stream');
    const files = new Map<string, Buffer>();
    await new Promise<void>((resolve, reject) => {
      const x = tarStream.extract();
      x.on('entry', (h, s, next) => {
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => {
          files.set(h.name, Buffer.concat(chunks));
          next();
        });
      });
      x.on('finish', resolve);
      x.on('error', reject);
      void readFile(tarPath).then((b) => x.end(b));
    });
    const manifest = JSON.parse(files.get('manifest.json')!.toString())[0];
    assert.equal(manifest.Layers.length, MULTILAYER.layers);
    assert.ok(manifest.RepoTags.includes(pushed.multilayer!.ref));
    const layers = await Promise.all(manifest.Layers.map((l: string) => listTar(files.get(l)!)));
    const flat = (i: number): string[] => layers[i]!.map((e: any) => e.name.replace(/^\.\//, ''));
    assert.ok(flat(1).includes('data/.wh.deleted.txt'), flat(1).join(' '));
    assert.ok(flat(1).includes('data/.wh.deleted-dir'), flat(1).join(' '));
    assert.ok(layers[1]!.some((e: any) => e.type === 'link'), 'the hardlink is kept');
    assert.ok(layers[1]!.some((e: any) => e.type === 'symlink' && e.linkname === 'keep.txt'), 'the symlink is kept');
    assert.ok(flat(2).includes('data/opaque/.wh..wh..opq'), flat(2).join(' '));

    const load = await podman.run(['load', '-i', tarPath]);
    assert.equal(load.code, 0, load.stderr);
    const root = await podman.mountImage(pushed.multilayer!.ref);
    try {
      assert.ok(existsSync(join(root, MULTILAYER.kept)));
      assert.ok(!existsSync(join(root, MULTILAYER.deletedFile)), 'the whiteout removed the file');
      assert.ok(!existsSync(join(root, MULTILAYER.deletedDir)), 'the whiteout removed the dir');
      assert.deepEqual((await readdir(join(root, MULTILAYER.opaqueDir))).sort(), ['new']);
      assert.equal(statSync(join(root, MULTILAYER.hardlink)).ino, statSync(join(root, MULTILAYER.kept)).ino);
    } finally {
      await podman.run(['image', 'unmount', pushed.multilayer!.ref]);
    }
  });

  test('save of busybox loads into podman', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.busybox!.ref]);
    const tarPath = join(work, 'busybox.tar');
    await d.dockerOk(['save', '-o', tarPath, pushed.busybox!.ref]);
    const load = await podman.run(['load', '-i', tarPath]);
    assert.equal(load.code, 0, load.stderr);
    const ls = await podman.run(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.ok(ls.stdout.split('\n').includes(pushed.busybox!.ref), ls.stdout);
  });
});

// ---- multiplatform ---------------------------------------------------------------

describe('multiplatform image', () => {
  const daemon = useDaemon();

  test('pull picks linux/amd64 by default', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.multiplatform!.ref]);
    const img = await inspect(d, pushed.multiplatform!.ref);
    assert.equal(img.Architecture, 'amd64');
    assert.equal(img.Config.Labels[TEST_LABEL], 'multiplatform-linux-amd64');
    assert.ok(img.RepoDigests.includes(pushed.multiplatform!.byDigest), JSON.stringify(img.RepoDigests));
  });

  test('--platform linux/arm64 gets the arm64 config', async () => {
    const d = daemon();
    const r = await d.dockerOk(['pull', '--platform', 'linux/arm64', pushed.multiplatform!.ref]);
    assert.match(r.stdout, /Digest: sha256:/);
    const img = await inspect(d, pushed.multiplatform!.ref);
    assert.equal(img.Architecture, 'arm64');
    assert.equal(img.Config.Labels[TEST_LABEL], 'multiplatform-linux-arm64');
  });

  test('--platform linux/arm/v7 gets the variant', async () => {
    const d = daemon();
    await d.dockerOk(['pull', '--platform', 'linux/arm/v7', pushed.multiplatform!.ref]);
    const img = await inspect(d, pushed.multiplatform!.ref);
    assert.equal(img.Architecture, 'arm');
    assert.equal(img.Variant, 'v7');
  });

  test('a platform the index lacks is a clear error', async () => {
    const d = daemon();
    const r = await d.docker(['pull', '--platform', 'linux/s390x', `${reg.host}/multiplatform:latest`]);
    failed(d, r, /linux\/s390x|no matching manifest/i, 'a pull for a missing platform');
  });
});

// ---- push --------------------------------------------------------------------

describe('push', () => {
  const daemon = useDaemon();
  let target: Registry;
  let podman: Podman;
  before(async () => {
    target = await startRegistry();
    podman = await startPodman();
  });
  after(async () => {
    await podman?.cleanup();
    await target?.stop();
  });

  test('docker push; skopeo, podman and an OCI copy accept the result', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.busybox!.ref]);
    const mine = `${target.host}/mine:v1`;
    await d.dockerOk(['tag', pushed.busybox!.ref, mine]);
    const r = await d.dockerOk(['push', mine]);
    const m = /v1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(r.stdout);
    assert.ok(m, d.diagnose(r));

    const remote = await skopeoInspect(mine);
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.json.Digest, m[1]);
    const config = await skopeoInspect(mine, { config: true });
    const local = await inspect(d, mine);
    assert.deepEqual(config.json.rootfs.diff_ids, local.RootFS.Layers);
    assert.deepEqual(config.json.config.Cmd, ['sh']);
    assert.ok(local.RepoDigests.includes(`${target.host}/mine@${m[1]}`), JSON.stringify(local.RepoDigests));

    const pull = await podman.run(['pull', '--tls-verify=false', mine]);
    assert.equal(pull.code, 0, pull.stderr);
    const root = await podman.mountImage(mine);
    try {
      assert.ok(existsSync(join(root, 'bin/busybox')));
    } finally {
      await podman.run(['image', 'unmount', mine]);
    }

    const oci = join(work, 'pushed-oci');
    await skopeoCopy(`docker://${mine}`, `oci:${oci}:v1`);
    assert.ok(existsSync(join(oci, 'index.json')));
  });

  test('a push to a second repository of the same registry mounts or uploads', async (t) => {
    const d = daemon();
    const other = `${target.host}/other:v1`;
    await d.dockerOk(['tag', pushed.busybox!.ref, other]);
    const r = await d.dockerOk(['push', other]);
    if (/Mounted from mine/.test(r.stdout)) t.diagnostic('cross-repository mount reported');
    else t.diagnostic(`no cross-repository mount reported:\n${r.stdout}`);
    const remote = await skopeoInspect(other);
    assert.equal(remote.code, 0, remote.stderr);
    const again = await d.dockerOk(['push', other]);
    assert.match(again.stdout, /Layer already exists/, d.diagnose(again));
  });

  test('push to a registry that needs auth: denied without login, works after', async () => {
    const d = daemon();
    const ref = `${regToken.host}/pushed:v1`;
    await d.dockerOk(['tag', pushed.busybox!.ref, ref]);
    failed(d, await d.docker(['push', ref]), /unauthorized|authentication required|denied/i, 'an anonymous push');
    const u = regToken.users![0]!;
    await d.dockerOk(['login', regToken.host, '-u', u.username, '--password-stdin'], { input: u.password });
    await d.dockerOk(['push', ref]);
    assert.equal((await skopeoInspect(ref, { creds: u })).code, 0);
  });
});

// ---- save / load / import ---------------------------------------------------------

describe('load and import', () => {
  const daemon = useDaemon();

  test('load of an OCI archive made by skopeo', async () => {
    const d = daemon();
    const built = await buildImage('busybox');
    const archive = join(work, 'skopeo-oci.tar');
    await skopeoCopy(built.source, `oci-archive:${archive}:joey-test/oci-loaded:v1`);
    const r = await d.dockerOk(['load', '-i', archive]);
    const m = /Loaded image(?: ID)?: (\S+)/.exec(r.stdout);
    assert.ok(m, d.diagnose(r));
    const img = await inspect(d, m[1]!);
    assert.equal(img.RootFS.Layers.length, 1);
    assert.deepEqual(img.Config.Cmd, ['sh']);
  });

  test('load of a docker-archive made by skopeo', async () => {
    const d = daemon();
    const built = await buildImage('multilayer');
    const archive = join(work, 'skopeo-docker.tar');
    await skopeoCopy(built.source, `docker-archive:${archive}:joey-test/da-loaded:v1`);
    const r = await d.dockerOk(['load', '-i', archive]);
    assert.match(r.stdout, /Loaded image: joey-test\/da-loaded:v1/, d.diagnose(r));
    const img = await inspect(d, 'joey-test/da-loaded:v1');
    assert.equal(img.RootFS.Layers.length, MULTILAYER.layers);
    assert.equal(img.Config.Labels[TEST_LABEL], 'multilayer');
  });

  test('load of garbage fails and changes nothing', async () => {
    const d = daemon();
    const before = await imageRows(d);
    const garbage = join(work, 'garbage.tar');
    await writeFile(garbage, Buffer.concat([Buffer.from('this is not a tar archive\n'), Buffer.alloc(4096, 7)]));
    const r = await d.docker(['load', '-i', garbage]);
    assert.notEqual(r.code, 0, d.diagnose(r));
    assert.ok(r.stderr.trim().length > 0, 'an error message');
    assert.deepEqual(await imageRows(d), before);
    const empty = join(work, 'empty.tar');
    await writeFile(empty, Buffer.alloc(1024));
    assert.notEqual((await d.docker(['load', '-i', empty])).code, 0, 'an empty archive has no image');
  });

  test('import of a rootfs tarball with --change', async () => {
    const d = daemon();
    const built = await buildImage('busybox');
    const m = await readJsonBlob<Manifest>(built.layout, (await tagged(built.layout, 'latest')).digest);
    const rootfs = join(work, 'rootfs.tar.gz');
    await writeFile(rootfs, await readBlob(built.layout, m.layers[0]!.digest));
    const r = await d.dockerOk(['import', '--change', 'CMD ["sh"]', '--change', 'ENV FOO=bar', '-m', 'imported by a test', rootfs, 'myimg:1']);
    assert.match(r.stdout, /sha256:[0-9a-f]{64}/);
    const img = await inspect(d, 'myimg:1');
    assert.equal(img.RootFS.Layers.length, 1);
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.ok(img.Config.Env.includes('FOO=bar'), JSON.stringify(img.Config.Env));
    assert.equal(img.Comment, 'imported by a test');
    assert.equal(img.Architecture, 'amd64');

    const bad = await d.docker(['import', '--change', 'NOPE x', rootfs, 'myimg:2']);
    failed(d, bad, /NOPE|unknown|invalid|dockerfile instruction/i, 'an import with a bad --change');
    failed(d, await d.docker(['image', 'inspect', 'myimg:2']), /No such image/, 'the bad import left no image');
  });
});

// ---- prune ---------------------------------------------------------------------------

describe('image prune', () => {
  const daemon = useDaemon();

  test('prune removes dangling images; prune -a removes unused ones', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.busybox!.ref]);
    // Two versions of one tag: pulling the second leaves the first dangling.
    const first = await pushRaw(reg, 'prune/moving', 't', { layers: [await tarGz([{ name: 'v', type: 'file', content: '1\n' }])] });
    await d.dockerOk(['pull', first.ref]);
    const firstId = (await inspect(d, first.ref)).Id;
    await pushRaw(reg, 'prune/moving', 't', { layers: [await tarGz([{ name: 'v', type: 'file', content: '2\n' }])] });
    await d.dockerOk(['pull', first.ref]);
    const secondId = (await inspect(d, first.ref)).Id;
    assert.notEqual(firstId, secondId);

    const dangling = (await d.dockerOk(['images', '--filter', 'dangling=true', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(dangling, [firstId]);
    const listed = await imageRows(d, ['--filter', 'dangling=true']);
    assert.equal(listed[0]?.Tag, '<none>', JSON.stringify(listed));

    const p = await d.dockerOk(['image', 'prune', '-f']);
    assert.match(p.stdout, /Total reclaimed space/);
    const ids = (await d.dockerOk(['images', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    assert.ok(!ids.includes(firstId), 'the dangling image is gone');
    assert.ok(ids.includes(secondId) && ids.includes((await inspect(d, pushed.busybox!.ref)).Id), 'tagged images stay');

    const all = await d.dockerOk(['image', 'prune', '-a', '-f']);
    assert.match(all.stdout, /Total reclaimed space/);
    assert.deepEqual((await d.dockerOk(['images', '-a', '-q'])).stdout.trim(), '', 'no image is used by a container, so all go');
    const busyboxLayer = [...(await blobsOf(pushed.busybox!, 'busybox'))];
    const left = await committedBlobs(d);
    assert.deepEqual(left.filter((b) => busyboxLayer.includes(b)), [], 'the removed images\' blobs are collected');
  });
});

// ---- hostile images ---------------------------------------------------------------------

describe('hostile images', () => {
  const daemon = useDaemon();
  let hreg: Registry;
  let hproxy: RegistryProxy;
  let passwdLinks = 0;
  before(async () => {
    hreg = await startRegistry();
    hproxy = await startProxy(hreg.url);
    passwdLinks = statSync('/etc/passwd').nlink;
  });
  after(async () => {
    await hproxy?.stop();
    await hreg?.stop();
  });

  for (const kind of HOSTILE_CASES) {
    test(`refuses ${kind}`, async () => {
      const d = daemon();
      const h = await pushHostile(hreg, hproxy, kind);
      const r = await d.docker(['pull', h.ref]);
      assert.ok(d.running, `joeyd died pulling ${kind}\n${d.diagnose(r)}`);
      assert.notEqual(r.code, 0, `the pull of ${kind} must fail\n${d.diagnose(r)}`);
      const said = `${r.stderr}\n${r.stdout}`;
      assert.ok(h.mentions.some((m) => said.includes(m)), `the error should name one of ${JSON.stringify(h.mentions)}\n${d.diagnose(r)}`);
      for (const s of h.sentinels) assert.ok(!existsSync(s), `${s} was written outside the data root`);
      assert.equal(statSync('/etc/passwd').nlink, passwdLinks, '/etc/passwd got a new hardlink');
      const rows = await imageRows(d);
      assert.ok(!rows.some((row) => row.Repository.endsWith(h.repo)), `an image record was left: ${JSON.stringify(rows)}`);
      const byName = await d.docker(['image', 'inspect', h.ref]);
      assert.notEqual(byName.code, 0);
    });
  }
});

// ---- bad references --------------------------------------------------------------------

describe('bad references', () => {
  const daemon = useDaemon();

  test('are refused with a clear error and change nothing', async () => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.busybox!.ref]);
    const before = await imageRows(d);

    failed(d, await d.docker(['pull', 'library/Upper']), /invalid reference format|must be lowercase/i, 'docker pull library/Upper');
    failed(d, await d.docker(['tag', pushed.busybox!.ref, 'bad::tag']), /invalid reference format/i, "docker tag … 'bad::tag'");

    // The same through the API, which the CLI's own checks do not guard.
    const pull = await d.api('POST', '/images/create?fromImage=library%2FUpper&tag=latest');
    assert.equal(pull.status, 400, pull.text);
    assert.match(pull.text, /library\/Upper|lowercase|invalid reference/i);
    const tag = await d.api('POST', `/images/${pushed.busybox!.ref}/tag?repo=bad%3A&tag=%3Atag`);
    assert.equal(tag.status, 400, tag.text);
    const tag2 = await d.api('POST', `/images/${pushed.busybox!.ref}/tag?repo=library%2FUpper&tag=v1`);
    assert.equal(tag2.status, 400, tag2.text);
    assert.match(tag2.text, /library\/Upper|lowercase|invalid reference/i);
    const spaced = await d.api('POST', `/images/${pushed.busybox!.ref}/tag?repo=ok%2Fname&tag=bad%20tag`);
    assert.equal(spaced.status, 400, spaced.text);

    const jr = await d.joey(['pull', 'library/Upper']);
    failed(d, jr, /invalid reference|lowercase/i, 'joey pull library/Upper');

    assert.deepEqual(await imageRows(d), before, 'nothing changed');
  });
});

// ---- crash mid-pull ---------------------------------------------------------------------

describe('kill -9 in the middle of a pull', () => {
  const daemon = useDaemon();

  test('restart reconciles: no image, no stray blobs, and the pull then works', { timeout: 300_000 }, async (t) => {
    const d = daemon();
    await d.dockerOk(['pull', pushed.busybox!.ref]);
    const big = await buildImage('big');
    const layers = (await readJsonBlob<Manifest>(big.layout, (await tagged(big.layout, 'latest')).digest)).layers;
    const total = layers.reduce((n, l) => n + l.size, 0);
    const ref = `${proxy.host}/big:latest`;

    proxy.reset();
    proxy.stallAt(Math.floor(total / 2));
    const pull = d.dockerSpawn(['pull', ref]);
    await Promise.race([
      proxy.stalled(),
      pull.done.then((r) => {
        throw new Error(`the pull ended before half-way\n${d.diagnose(r)}`);
      }),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no half-way stall; ${proxy.blobBytes()} of ${total} bytes sent`)), 120_000)),
    ]);
    // What has reached the daemon is in the ingest area (the proxy holds the rest).
    await waitFor('partial downloads in content/ingest', async () => (await treeSize(join(d.dataRoot, 'content/ingest'))) > 0, 10_000, 100)
      .catch((e: unknown) => t.diagnostic(String(e)));
    t.diagnostic(`killing joeyd with ${proxy.blobBytes()} of ${total} bytes sent, ingest holds ${await treeSize(join(d.dataRoot, 'content/ingest'))}`);
    await d.kill9();
    const killed = await pull.done;
    assert.notEqual(killed.code, 0, 'the interrupted pull fails');
    proxy.release();

    await d.restart();
    const refs = refsOf(await imageRows(d, ['-a']));
    assert.ok(!refs.includes(ref), `the half-pulled image is listed: ${refs.join(' ')}`);
    assert.ok(refs.includes(pushed.busybox!.ref), 'the complete image survived');
    const referenced = await blobsOf(pushed.busybox!, 'busybox');
    const blobs = await committedBlobs(d);
    const stray = blobs.filter((b) => !referenced.has(b));
    assert.deepEqual(stray, [], 'committed blobs that no image references');
    assert.equal((await inspect(d, pushed.busybox!.ref)).RootFS.Layers.length, 1);

    proxy.reset();
    const again = await d.dockerOk(['pull', ref], { timeoutMs: 240_000 });
    assert.match(again.stdout, /Downloaded newer image/);
    t.diagnostic(`the second pull fetched ${proxy.blobBytes()} of ${total} layer bytes`);
    assert.equal((await inspect(d, ref)).RootFS.Layers.length, layers.length);
  });

  test('two concurrent pulls of one image both succeed and fetch each blob once', { timeout: 300_000 }, async () => {
    const fresh = await startJoeyd({ args: ['--insecure-registry', '127.0.0.0/8'] });
    try {
      const big = await buildImage('big');
      const digests = await layoutDigests(big.layout);
      const ref = `${proxy.host}/big:latest`;
      proxy.reset();
      const a = fresh.dockerSpawn(['pull', ref]);
      const b = fresh.dockerSpawn(['pull', ref]);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      assert.equal(ra.code, 0, fresh.diagnose(ra));
      assert.equal(rb.code, 0, fresh.diagnose(rb));
      const gets = proxy.blobGets();
      for (const dg of digests.layers) assert.equal(gets.get(dg), 1, `layer ${dg} fetched ${gets.get(dg) ?? 0} times`);
      for (const dg of digests.configs) assert.equal(gets.get(dg), 1, `config ${dg} fetched ${gets.get(dg) ?? 0} times`);
      assert.equal((await inspect(fresh, ref)).RootFS.Layers.length, digests.layers.length);
    } finally {
      await fresh.cleanup();
    }
  });
});

// ---- the joey CLI --------------------------------------------------------------------

describe('joey CLI', () => {
  const daemon = useDaemon();
  let target: Registry;
  before(async () => {
    target = await startRegistry();
  });
  after(async () => {
    await target?.stop();
  });

  test('version talks to the daemon', async () => {
    const d = daemon();
    const r = await d.joeyOk(['version']);
    assert.match(r.stdout, /Server/i);
    assert.match(r.stdout, /API version:?\s+1\.\d+/i);
  });

  test('pull, images --digests, inspect', async () => {
    const d = daemon();
    const r = await d.joeyOk(['pull', pushed.busybox!.ref]);
    assert.match(r.stdout, new RegExp(pushed.busybox!.digest));
    const ls = await d.joeyOk(['images', '--digests']);
    const line = ls.stdout.split('\n').find((l) => l.startsWith(`${reg.host}/busybox `));
    assert.ok(line, ls.stdout);
    assert.ok(line.includes('latest') && line.includes(pushed.busybox!.digest), line);
    const [img] = JSON.parse((await d.joeyOk(['image', 'inspect', pushed.busybox!.ref])).stdout);
    assert.equal(img.Architecture, 'amd64');
    assert.deepEqual(img.Config.Cmd, ['sh']);
  });

  test('tag, rmi, and rmi of an unknown name', async () => {
    const d = daemon();
    await d.joeyOk(['tag', pushed.busybox!.ref, 'joey/bb:x']);
    assert.equal((await inspect(d, 'joey/bb:x')).Id, (await inspect(d, pushed.busybox!.ref)).Id);
    const rm = await d.joeyOk(['rmi', 'joey/bb:x']);
    assert.match(rm.stdout, /Untagged: joey\/bb:x/);
    const unknown = await d.joey(['rmi', 'no/such:thing']);
    assert.equal(unknown.code, 1, d.diagnose(unknown));
    assert.match(unknown.stderr, /No such image/);
  });

  test('login to a token registry, then pull', async () => {
    const d = daemon();
    failed(d, await d.joey(['pull', pushed.token!.ref]), /unauthorized|authentication required|denied/i, 'an anonymous joey pull');
    const u = regToken.users![0]!;
    const login = await d.joeyOk(['login', regToken.host, '-u', u.username, '--password-stdin'], { input: `${u.password}\n` });
    assert.match(login.stdout, /Login Succeeded/);
    assert.ok(existsSync(join(d.joeyConfig, 'config.json')));
    await d.joeyOk(['pull', pushed.token!.ref]);
    await d.joeyOk(['logout', regToken.host]);
  });

  test('push, save and load', async () => {
    const d = daemon();
    const ref = `${target.host}/joey-pushed:v1`;
    await d.joeyOk(['tag', pushed.busybox!.ref, ref]);
    const push = await d.joeyOk(['push', ref]);
    assert.match(push.stdout, /digest: sha256:[0-9a-f]{64}/);
    assert.equal((await skopeoInspect(ref)).code, 0);
    const tarPath = join(work, 'joey-save.tar');
    await d.joeyOk(['save', '-o', tarPath, ref]);
    await d.joeyOk(['rmi', ref]);
    const load = await d.joeyOk(['load', '-i', tarPath]);
    assert.match(load.stdout, new RegExp(`Loaded image: ${ref}`));
  });
});
