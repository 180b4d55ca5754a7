// P2P layer distribution with real daemons on loopback: a private registry
// behind a counting proxy, three joeyds with one secret (A is also the
// tracker). B and C must take layers from peers, never trust a peer's bytes,
// and fall back to the registry when peers or the tracker fail. Pulls that
// start together pass each layer on while it downloads, so the registry
// sends it once, and the others finish when the first one dies.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JOEYD_BIN, startJoeyd, type Daemon } from './lib/daemon.ts';
import { BUSYBOX, MULTILAYER, pushImage, pushRaw } from './lib/images.ts';
import { freePort, makeTempDir, removeDir, run, waitFor } from './lib/proc.ts';
import { tarGz } from './lib/tar.ts';
import { startProxy, type RegistryProxy } from './lib/proxy.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

const SECRET = 'p2p-test-secret-0123456789';
let reg: Registry;
let proxy: RegistryProxy;
let ref: string;
let layers: { digest: string; size: number }[];
let configDigest: string;
let a: Daemon;
let b: Daemon;
let c: Daemon;
let ports: { a: number; b: number; c: number; tracker: number };
const tracker = () => `http://127.0.0.1:${ports.tracker}`;
const peerUrl = (port: number) => `http://127.0.0.1:${port}`;
/** A runnable image of a few MB in two layers (busybox and random data). */
let fleet: { ref: string; layers: { digest: string; size: number }[]; sums: string };
const fleetBytes = () => fleet.layers.reduce((n, l) => n + l.size, 0);

function httpGet(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (ch: Buffer) => chunks.push(ch));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
const auth = { authorization: `Bearer ${SECRET}` };

async function trackerHolders(digest: string): Promise<{ peers: string[]; partial: string[] }> {
  const r = await httpGet(`${tracker()}/p2p/v1/peers?digest=${digest}`, auth);
  assert.equal(r.status, 200, r.body.toString());
  return JSON.parse(r.body.toString()) as { peers: string[]; partial: string[] };
}
async function trackerPeers(digest: string): Promise<string[]> {
  return (await trackerHolders(digest)).peers;
}

/** Layer bytes the registry sent for `digests`. */
function registryBytes(digests: string[]): number {
  return proxy.requests.filter((r) => r.method === 'GET' && digests.some((d) => r.path.endsWith(d))).reduce((n, r) => n + r.bytes, 0);
}

async function checkFleetImage(d: Daemon): Promise<void> {
  const out = await d.dockerOk(['run', '--rm', '--network', 'none', fleet.ref, '/bin/busybox', 'sha256sum', '/data/one.bin', '/data/two.bin']);
  assert.equal(out.stdout, fleet.sums);
}

/** Announces for a fake peer, as a joeyd would. */
async function announce(body: { peer: string; digests: string[]; replace: boolean }): Promise<void> {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${tracker()}/p2p/v1/announce`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  assert.equal(status, 204);
}

function layerGets(): number {
  const gets = proxy.blobGets();
  return layers.reduce((n, l) => n + (gets.get(l.digest) ?? 0), 0);
}

async function metric(d: Daemon, source: 'peer' | 'registry'): Promise<number> {
  const text = (await d.api('GET', '/metrics')).text;
  const m = new RegExp(`^joey_p2p_blob_bytes_total\\{source="${source}"\\} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `no p2p metric in\n${text}`);
  return Number(m[1]);
}

function sourcesLogged(d: Daemon): string[][] {
  return d.logLines().filter((l) => l.msg === 'layer blob source').map((l) => l.from as string[]);
}

before(async () => {
  reg = await startRegistry();
  proxy = await startProxy(reg.url);
  await pushImage(reg, 'multilayer');
  ref = `${proxy.host}/multilayer:latest`;
  const man = await httpGet(`${reg.url}/v2/multilayer/manifests/latest`, { accept: 'application/vnd.oci.image.manifest.v1+json' });
  const manifest = JSON.parse(man.body.toString()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
  layers = manifest.layers;
  configDigest = manifest.config.digest;
  assert.equal(layers.length, MULTILAYER.layers);
  const one = randomBytes(8 << 20);
  const two = randomBytes(6 << 20);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const pushed = await pushRaw(reg, 'fleet', 'latest', {
    layers: [
      await tarGz([
        { name: 'bin/', type: 'directory', mode: 0o755 },
        { name: 'bin/busybox', type: 'file', mode: 0o755, content: await readFile(BUSYBOX) },
        { name: 'data/', type: 'directory', mode: 0o755 },
        { name: 'data/one.bin', type: 'file', mode: 0o644, content: one },
      ]),
      await tarGz([{ name: 'data/two.bin', type: 'file', mode: 0o644, content: two }]),
    ],
  });
  fleet = { ref: `${proxy.host}/fleet:latest`, layers: pushed.layers, sums: `${sha(one)}  /data/one.bin\n${sha(two)}  /data/two.bin\n` };
  ports = { a: await freePort(), b: await freePort(), c: await freePort(), tracker: await freePort() };
  const common = ['--insecure-registry', '127.0.0.0/8', '--p2p-tracker', tracker()];
  [a, b, c] = await Promise.all([
    startJoeyd({ args: [...common, '--p2p-listen', `127.0.0.1:${ports.a}`, '--p2p-tracker-listen', `127.0.0.1:${ports.tracker}`, '--p2p-secret', SECRET] }),
    startJoeyd({ args: [...common, '--p2p-listen', `127.0.0.1:${ports.b}`, '--p2p-secret', SECRET] }),
    // C takes its p2p settings from daemon.json.
    startJoeyd({ args: ['--insecure-registry', '127.0.0.0/8'], config: { 'p2p-listen': `127.0.0.1:${ports.c}`, 'p2p-tracker': tracker(), 'p2p-secret': SECRET } }),
  ]);
});

after(async () => {
  await Promise.all([a?.cleanup(), b?.cleanup(), c?.cleanup()]);
  await proxy?.stop();
  await reg?.stop();
});

describe('p2p', () => {
  test('B takes the layers from A: the registry serves B the manifest and config only', async () => {
    proxy.reset();
    await a.dockerOk(['pull', ref]);
    assert.equal(layerGets(), layers.length, 'A fetched every layer from the registry');
    // A announces what it holds after the pull.
    await waitFor('the tracker to list A for every layer', async () => {
      for (const l of layers) if (!(await trackerPeers(l.digest)).includes(`http://127.0.0.1:${ports.a}`)) return false;
      return true;
    });
    proxy.reset();
    const pulled = await b.dockerOk(['pull', ref]);
    assert.match(pulled.stdout, /Download complete|Pull complete/);
    assert.equal(layerGets(), 0, `B fetched layers from the registry:\n${JSON.stringify(proxy.requests, null, 1)}`);
    assert.ok(proxy.requests.some((r) => r.path.includes('/manifests/')), 'the manifest came from the registry');
    assert.equal(proxy.blobGets().get(configDigest), 1, 'the config came from the registry');
    const froms = sourcesLogged(b);
    assert.equal(froms.length, layers.length, b.diagnose());
    for (const f of froms) assert.deepEqual(f, [`http://127.0.0.1:${ports.a}`]);
    assert.equal(await metric(b, 'peer'), layers.reduce((n, l) => n + l.size, 0));
    assert.equal(await metric(b, 'registry'), 0);
    const out = await b.dockerOk(['run', '--rm', '--network', 'none', ref, 'cat', MULTILAYER.kept, MULTILAYER.opaqueNew]);
    assert.equal(out.stdout, 'kept\nnew\n');
  });

  test('the blob server and the tracker want the secret; docker info still works and joey info shows p2p', async () => {
    const url = `http://127.0.0.1:${ports.a}/p2p/v1/blobs/${layers[0]!.digest}`;
    assert.equal((await httpGet(url)).status, 401);
    assert.equal((await httpGet(url, { authorization: 'Bearer wrong-secret-wrong-secret' })).status, 401);
    assert.equal((await httpGet(`${tracker()}/p2p/v1/peers?digest=${layers[0]!.digest}`)).status, 401);
    const ok = await httpGet(url, { ...auth, range: 'bytes=0-9' });
    assert.equal(ok.status, 206);
    assert.equal(ok.body.length, 10);
    assert.equal((await httpGet(`http://127.0.0.1:${ports.a}/p2p/v1/blobs/sha256:nope`, auth)).status, 400);
    await a.dockerOk(['info']);
    const info = await a.joeyOk(['info']);
    assert.match(info.stdout, new RegExp(`P2P:\\n  Blob Server: 127\\.0\\.0\\.1:${ports.a}\\n  Advertised As: http://127\\.0\\.0\\.1:${ports.a}\\n  Tracker: http://127\\.0\\.0\\.1:${ports.tracker}\\n  Tracker Listening On: 127\\.0\\.0\\.1:${ports.tracker}`));
  });

  test('a peer serving bad bytes is skipped: C falls back to the registry and ends up with a correct image', async () => {
    // Removing the image withdraws A's and B's layers from the tracker.
    await a.dockerOk(['rmi', ref]);
    await b.dockerOk(['rmi', ref]);
    await waitFor('the tracker to forget A and B', async () => (await trackerPeers(layers[0]!.digest)).length === 0);
    // A fake peer with the secret: right lengths, wrong bytes.
    const sizes = new Map(layers.map((l) => [l.digest, l.size]));
    const evil: Server = createServer((req, res) => {
      const digest = (req.url ?? '').replace('/p2p/v1/blobs/', '');
      const size = sizes.get(digest) ?? 0;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      const end = m && m[2] ? Number(m[2]) : size - 1;
      res.writeHead(m ? 206 : 200, { 'content-length': end - start + 1, ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) });
      res.end(Buffer.alloc(end - start + 1, 0x42));
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const addr = evil.address();
    const evilUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      await announce({ peer: evilUrl, digests: layers.map((l) => l.digest), replace: true });
      assert.deepEqual(await trackerPeers(layers[0]!.digest), [evilUrl]);
      proxy.reset();
      await c.dockerOk(['pull', ref]);
      assert.equal(layerGets(), layers.length, 'every layer came from the registry in the end');
      const warned = c.logLines().filter((l) => l.level === 'warn' && String(l.msg).includes('do not match the digest'));
      assert.ok(warned.length >= 1 && warned.every((l) => l.peer === evilUrl), c.diagnose());
      const out = await c.dockerOk(['run', '--rm', '--network', 'none', ref, 'cat', MULTILAYER.kept]);
      assert.equal(out.stdout, 'kept\n');
      const inspect = await c.dockerJson<{ RootFS: { Layers: string[] } }[]>(['image', 'inspect', ref]);
      assert.equal(inspect[0]!.RootFS.Layers.length, layers.length);
      await announce({ peer: evilUrl, digests: [], replace: true });
    } finally {
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });

  test('a peer that drops mid-way: the download resumes from there with a Range request', async () => {
    await c.dockerOk(['rmi', ref]);
    await waitFor('the tracker to forget C', async () => (await trackerPeers(layers[0]!.digest)).length === 0);
    // A peer that sends the first half of what it is asked for (the real
    // bytes, read from the registry directly, not through the proxy), then
    // drops the connection.
    const dropper: Server = createServer((req, res) => {
      const digest = (req.url ?? '').replace('/p2p/v1/blobs/', '');
      void httpGet(`${reg.url}/v2/multilayer/blobs/${digest}`).then((blob) => {
        res.writeHead(200, { 'content-length': blob.body.length });
        res.write(blob.body.subarray(0, Math.floor(blob.body.length / 2)), () => res.destroy());
      });
    });
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    const addr = dropper.address();
    const dropperUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      await announce({ peer: dropperUrl, digests: layers.map((l) => l.digest), replace: true });
      proxy.reset();
      await b.dockerOk(['pull', ref]);
      const layerReqs = proxy.requests.filter((r) => r.method === 'GET' && layers.some((l) => r.path.endsWith(l.digest)));
      assert.equal(layerReqs.length, layers.length, JSON.stringify(proxy.requests));
      for (const r of layerReqs) {
        const l = layers.find((x) => r.path.endsWith(x.digest))!;
        assert.equal(r.range, `bytes=${Math.floor(l.size / 2)}-`, 'the registry was asked only for the second half');
      }
      const last = sourcesLogged(b).slice(-layers.length);
      for (const f of last) assert.deepEqual(f, [dropperUrl, 'registry']);
      const out = await b.dockerOk(['run', '--rm', '--network', 'none', ref, 'cat', MULTILAYER.kept]);
      assert.equal(out.stdout, 'kept\n');
      await b.dockerOk(['rmi', ref]);
      await announce({ peer: dropperUrl, digests: [], replace: true });
    } finally {
      await new Promise<void>((r) => dropper.close(() => r()));
    }
  });

  test('three joeyds pull one image at the same moment: the registry sends each layer once, the first puller passes it on while it downloads', async () => {
    proxy.reset();
    const daemons = [a, b, c];
    await Promise.all(daemons.map((d) => d.dockerOk(['pull', fleet.ref])));
    const gets = proxy.blobGets();
    for (const l of fleet.layers) assert.equal(gets.get(l.digest), 1, `layer ${l.digest} fetched ${gets.get(l.digest) ?? 0} times from the registry`);
    assert.equal(registryBytes(fleet.layers.map((l) => l.digest)), fleetBytes(), 'the registry sent one copy of the layers, no more');
    // For each layer: one node took it from the registry, the other two from a peer only.
    const peers = new Set([ports.a, ports.b, ports.c].map(peerUrl));
    for (const l of fleet.layers) {
      const froms = daemons.flatMap((d) => d.logLines().filter((x) => x.msg === 'layer blob source' && x.digest === l.digest).map((x) => x.from as string[]));
      assert.equal(froms.length, 3, JSON.stringify(froms));
      assert.equal(froms.filter((f) => f.length === 1 && f[0] === 'registry').length, 1, JSON.stringify(froms));
      assert.equal(froms.filter((f) => f.every((p) => peers.has(p))).length, 2, JSON.stringify(froms));
    }
    for (const d of daemons) await checkFleetImage(d);
  });

  test('the partial holder is killed mid-way: the others finish, from the registry and from each other', async (t) => {
    for (const d of [a, b, c]) await d.docker(['rmi', fleet.ref]);
    const digests = fleet.layers.map((l) => l.digest);
    // Whole copies and downloads both: a node still listed as downloading
    // a layer from before would go to the registry ahead of B.
    await waitFor('the tracker to forget the fleet image', async () => {
      for (const dg of digests) {
        const h = await trackerHolders(dg);
        if (h.peers.length + h.partial.length > 0) return false;
      }
      return true;
    });
    const bUrl = peerUrl(ports.b);
    proxy.reset();
    // The registry stops sending the layers half-way: B, pulling first, holds half.
    proxy.stallAt(Math.floor(fleetBytes() / 2), digests);
    const first = b.dockerSpawn(['pull', fleet.ref]);
    await proxy.stalled();
    await waitFor('B to share both layers', async () => {
      for (const dg of digests) if (!(await trackerHolders(dg)).partial.includes(bUrl)) return false;
      return true;
    });
    const peerBytesBefore = [await metric(a, 'peer'), await metric(c, 'peer')];
    const others = [a, c].map((d) => d.dockerSpawn(['pull', fleet.ref]));
    // A and C catch up with B, which holds what the registry sent before the
    // stall (less what is still in its buffers): then whoever goes on from
    // the registry needs only the other half.
    const half = Math.floor(fleetBytes() / 2);
    await waitFor('A and C to join behind B and take what B holds from peers', async () => {
      for (const dg of digests) if ((await trackerHolders(dg)).partial.length < 3) return false;
      return (await metric(a, 'peer')) - peerBytesBefore[0]! >= half - (1 << 20) && (await metric(c, 'peer')) - peerBytesBefore[1]! >= half - (1 << 20);
    }, 30_000);
    const pid = b.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor('B to die', () => !b.running);
    proxy.release();
    t.after(() => (b.running ? undefined : b.restart()));
    const [ra, rc] = await Promise.all(others.map((o) => o.done));
    assert.equal(ra!.code, 0, a.diagnose(ra));
    assert.equal(rc!.code, 0, c.diagnose(rc));
    assert.notEqual((await first.done).code, 0, 'the pull of the killed daemon failed');
    const left = [a, c].flatMap((d) => d.logLines().filter((x) => x.msg === 'p2p: peer failed, trying the next source' && x.peer === bUrl));
    assert.ok(left.length >= 1, `nobody noticed B die\n${a.diagnose()}\n${c.diagnose()}`);
    // One node goes on from the registry where B stopped; the other follows
    // it, or, when it lost B at the same moment and found nothing newer at
    // A, takes the rest from the registry too: B's half and at most the other
    // half twice (1.5x), against 3x without P2P. B's own downloads never
    // finished: count the bytes as they went out.
    const configBytes = proxy.requests.filter((r) => r.method === 'GET' && /\/blobs\//.test(r.path) && !digests.some((d) => r.path.endsWith(d))).reduce((n, r) => n + r.bytes, 0);
    const sent = proxy.blobBytes() - configBytes;
    t.diagnostic(`the registry sent ${sent} layer bytes for ${fleetBytes()} (${(sent / fleetBytes()).toFixed(2)}x)`);
    assert.ok(sent <= 1.5 * fleetBytes() + (2 << 20), `the registry sent ${sent} bytes for ${fleetBytes()} of layers`);
    await checkFleetImage(a);
    await checkFleetImage(c);
  });

  test('a cancelled pull withdraws its partial layers from the tracker and leaves no partial file', async () => {
    for (const d of [a, c]) await d.docker(['rmi', fleet.ref]);
    const digests = fleet.layers.map((l) => l.digest);
    await waitFor('the tracker to forget the fleet image', async () => {
      for (const dg of digests) if ((await trackerPeers(dg)).length > 0) return false;
      return true;
    });
    const cUrl = peerUrl(ports.c);
    proxy.reset();
    proxy.stallAt(1 << 20, digests);
    const pull = c.dockerSpawn(['pull', fleet.ref]);
    await proxy.stalled();
    await waitFor('C to share a layer', async () => {
      for (const dg of digests) if ((await trackerHolders(dg)).partial.includes(cUrl)) return true;
      return false;
    });
    pull.child.kill('SIGKILL');
    await pull.done;
    await waitFor('the tracker to stop naming C', async () => {
      for (const dg of digests) if ((await trackerHolders(dg)).partial.includes(cUrl)) return false;
      return true;
    });
    const ingest = join(c.dataRoot, 'content/ingest');
    await waitFor('C to drop its partial files', async () => (await readdir(ingest)).length === 0).catch(async (e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(await readdir(ingest))}\n${c.diagnose()}`);
    });
    proxy.release();
    // Gone from the blob server too: a 404, not bytes of a dead download.
    assert.equal((await httpGet(`${cUrl}/p2p/v1/blobs/${digests[0]}`, auth)).status, 404);
  });

  test('with the tracker down, pulls still work from the registry', async () => {
    await a.stop();
    proxy.reset();
    await b.dockerOk(['pull', ref]);
    assert.equal(layerGets(), layers.length);
    assert.ok(b.logLines().some((l) => l.msg === 'p2p: tracker lookup failed, using the registry'), b.diagnose());
    const out = await b.dockerOk(['run', '--rm', '--network', 'none', ref, 'cat', MULTILAYER.kept]);
    assert.equal(out.stdout, 'kept\n');
  });

  test('bad p2p flags stop joeyd with an error naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--p2p-listen', '127.0.0.1:7070', '--p2p-tracker', 'http://127.0.0.1:7071'], /--p2p-secret/],
      [['--p2p-listen', 'nowhere', '--p2p-tracker', 'http://127.0.0.1:7071', '--p2p-secret', SECRET], /--p2p-listen/],
      [['--p2p-tracker', 'ftp://127.0.0.1:7071', '--p2p-secret', SECRET], /--p2p-tracker/],
    ];
    const dir = await makeTempDir('joey-it-p2p-');
    try {
      const file = join(dir, 'daemon.json');
      await writeFile(file, '{}');
      for (const [args, re] of cases) {
        const r = await run(process.execPath, [JOEYD_BIN, '--config-file', file, '--data-root', join(dir, 'data'), ...args]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, re);
      }
    } finally {
      await removeDir(dir);
    }
  });
});
