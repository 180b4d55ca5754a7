// dockerode (the Node client, from npm, unmodified) against a private joeyd:
// ping/version/info, a pull with progress, create/start/wait/logs with the
// stream multiplexing undone by docker-modem, run with attach, exec with its
// exit code, list/inspect/stats/top/pause/rename/stop/remove, archives both
// ways, volumes, networks with connect/disconnect, the events stream, image
// tag/list/remove, and errors as dockerode surfaces them (statusCode and the
// daemon's message). The image comes from the test's registry on loopback.
//
// JOEY_TEST_ENGINE=dockerd runs the same against dockerd.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { removeAllContainers, startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { pushImage } from './lib/images.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

let reg: Registry;
let image: string;
let cd: ContainerDaemon | undefined;
let docker: Docker;
let counter = 0;
const nm = (what: string): string => `itd-${what}-${process.pid}-${++counter}`;

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  cd = await startContainerDaemon('dockerode');
  docker = new Docker({ socketPath: cd.d.socket });
});

after(async () => {
  if (cd?.d.running) await removeAllContainers(cd.d).catch(() => undefined);
  await teardownContainerDaemon(cd).catch((e) => console.error(e));
  await reg?.stop();
});

function it(name: string, fn: () => Promise<void>, timeoutMs = 90_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

/** Reads a stream to its end. */
async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** docker-modem's demultiplexing of a non-TTY stream into stdout and stderr. */
async function demux(stream: Readable | NodeJS.ReadableStream): Promise<{ out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const outText = drain(out);
  const errText = drain(err);
  docker.modem.demuxStream(stream as NodeJS.ReadableStream, out, err);
  await new Promise<void>((res, rej) => {
    stream.on('end', res);
    stream.on('close', res);
    stream.on('error', rej);
  });
  out.end();
  err.end();
  return { out: (await outText).toString(), err: (await errText).toString() };
}

/** The error a dockerode promise rejects with (statusCode, the daemon's JSON). */
async function rejection(p: Promise<unknown>): Promise<{ statusCode?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { statusCode?: number; json?: { message?: string }; message: string };
    return { statusCode: err.statusCode, message: err.json?.message ?? err.message };
  }
  assert.fail('expected the call to fail');
}

describe('dockerode', () => {
  it('ping, version, info', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const v = await docker.version();
    assert.match(v.ApiVersion, /^1\.\d+$/);
    assert.equal(v.Os, 'linux');
    const info = await docker.info();
    assert.ok('runc' in info.Runtimes, 'runc is listed');
  });

  it('pull with progress, then image inspect, tag, list and remove', async () => {
    const stream = await docker.pull(image);
    const events = await new Promise<Array<{ status?: string; error?: string }>>((res, rej) => docker.modem.followProgress(stream, (err, out) => (err ? rej(err) : res(out))));
    assert.ok(events.every((e) => !e.error), JSON.stringify(events));
    assert.ok(events.some((e) => /Status: (Downloaded newer image|Image is up to date)/.test(e.status ?? '')), JSON.stringify(events.slice(-3)));
    const img = await docker.getImage(image).inspect();
    assert.ok(img.RepoTags.includes(image));
    const repo = `itd-tagged-${process.pid}`;
    await docker.getImage(image).tag({ repo, tag: 'v1' });
    const listed = await docker.listImages({ filters: JSON.stringify({ reference: [`${repo}:v1`] }) });
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.Id, img.Id);
    const removed = (await docker.getImage(`${repo}:v1`).remove()) as Array<{ Untagged?: string }>;
    assert.deepEqual(removed, [{ Untagged: `${repo}:v1` }]);
    const missing = await rejection(docker.getImage('itd-no-such-image:v9').inspect());
    assert.equal(missing.statusCode, 404);
    assert.match(missing.message, /No such image: itd-no-such-image:v9/);
  });

  it('create, start, wait and logs: exit status and both streams apart', async () => {
    const c = await docker.createContainer({ name: nm('logs'), Image: image, Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
    const { StatusCode } = await c.wait();
    assert.equal(StatusCode, 3);
    const logs = await c.logs({ stdout: true, stderr: true, follow: false });
    const { out, err } = await demux(Readable.from([logs]));
    assert.equal(out, 'out\n');
    assert.equal(err, 'err\n');
    const info = await c.inspect();
    assert.equal(info.State.ExitCode, 3);
    assert.equal(info.State.Running, false);
    await c.remove();
    const gone = await rejection(c.inspect());
    assert.equal(gone.statusCode, 404);
    assert.match(gone.message, /No such container/);
  });

  it('run attaches and returns the exit status; a TTY container gets one stream', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const outText = drain(out);
    const errText = drain(err);
    const [data] = (await docker.run(image, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 5'], [out, err], { Tty: false, HostConfig: { AutoRemove: true, NetworkMode: 'none' } })) as [{ StatusCode: number }];
    out.end();
    err.end();
    assert.equal(data.StatusCode, 5);
    assert.equal((await outText).toString(), 'to-out\n');
    assert.equal((await errText).toString(), 'to-err\n');

    const tty = new PassThrough();
    const ttyText = drain(tty);
    const [ttyData] = (await docker.run(image, ['sh', '-c', 'echo on-tty; echo also >&2'], tty, { Tty: true, HostConfig: { AutoRemove: true, NetworkMode: 'none' } })) as [{ StatusCode: number }];
    tty.end();
    assert.equal(ttyData.StatusCode, 0);
    assert.equal((await ttyText).toString().replace(/\r/g, ''), 'on-tty\nalso\n');
  });

  it('exec: output, exit code, and the running container\'s list, stats, top, pause, rename, stop', async () => {
    const name = nm('exec');
    const c = await docker.createContainer({ name, Image: image, Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
    const exec = await c.exec({ Cmd: ['sh', '-c', 'echo hi; echo oops >&2; exit 4'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const { out, err } = await demux(stream);
    assert.equal(out, 'hi\n');
    assert.equal(err, 'oops\n');
    const ei = await exec.inspect();
    assert.equal(ei.ExitCode, 4);
    assert.equal(ei.Running, false);

    const listed = await docker.listContainers({ filters: JSON.stringify({ name: [name] }) });
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.State, 'running');
    const stats = await c.stats({ stream: false });
    assert.ok(stats.memory_stats.usage > 0, 'memory usage');
    assert.ok(stats.cpu_stats.cpu_usage.total_usage > 0, 'cpu usage');
    const top = await c.top();
    assert.ok(top.Processes.some((p: string[]) => p.at(-1)!.includes('sleep 1000')), JSON.stringify(top));
    await c.pause();
    assert.equal((await c.inspect()).State.Status, 'paused');
    await c.unpause();
    const renamed = `${name}-renamed`;
    await c.rename({ name: renamed });
    assert.equal((await c.inspect()).Name, `/${renamed}`);
    await c.stop({ t: 0 });
    assert.equal((await c.inspect()).State.Running, false);
    await c.remove({ v: true });
  });

  it('archives both ways: putArchive writes into the container, getArchive reads back', async () => {
    const c = await docker.createContainer({ name: nm('archive'), Image: image, Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
    const pack = tar.pack();
    pack.entry({ name: 'dir/hello.txt', mode: 0o640 }, 'hello from dockerode\n');
    pack.finalize();
    await c.putArchive(await drain(pack), { path: '/tmp' });
    const exec = await c.exec({ Cmd: ['sh', '-c', 'cat /tmp/dir/hello.txt; stat -c %a /tmp/dir/hello.txt'], AttachStdout: true, AttachStderr: true });
    assert.equal((await demux(await exec.start({ hijack: true, stdin: false }))).out, 'hello from dockerode\n640\n');

    const got = await c.getArchive({ path: '/tmp/dir/hello.txt' });
    const entries: Array<{ name: string; body: string }> = [];
    const extract = tar.extract();
    extract.on('entry', (h, s, next) => {
      void drain(s).then((b) => {
        entries.push({ name: h.name, body: b.toString() });
        next();
      });
    });
    got.pipe(extract);
    await new Promise((res, rej) => extract.on('finish', res).on('error', rej));
    assert.deepEqual(entries, [{ name: 'hello.txt', body: 'hello from dockerode\n' }]);
    const missing = await rejection(c.getArchive({ path: '/no/such' }));
    assert.equal(missing.statusCode, 404);
    await c.remove({ force: true });
  });

  it('volumes and networks: create, inspect, list, connect, disconnect, remove', async () => {
    const vname = nm('vol');
    const vol = await docker.createVolume({ Name: vname, Labels: { 'itd.test': 'yes' } });
    assert.equal(vol.name, vname);
    const vols = await docker.listVolumes({ filters: JSON.stringify({ label: ['itd.test=yes'] }) });
    assert.deepEqual(vols.Volumes.map((v) => v.Name), [vname]);
    assert.equal((await docker.getVolume(vname).inspect()).Driver, 'local');

    const netName = nm('net');
    const net = await docker.createNetwork({ Name: netName, Driver: 'bridge', CheckDuplicate: true });
    const c = await docker.createContainer({ name: nm('netc'), Image: image, Cmd: ['sleep', '1000'], HostConfig: { Binds: [`${vname}:/data`] } });
    await c.start();
    await net.connect({ Container: c.id, EndpointConfig: { Aliases: ['itd-alias'] } });
    const ni = await net.inspect();
    assert.ok(c.id in (ni.Containers ?? {}), 'the container is on the network');
    const ci = await c.inspect();
    assert.match(ci.NetworkSettings.Networks[netName]!.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    await net.disconnect({ Container: c.id });
    assert.ok(!(netName in (await c.inspect()).NetworkSettings.Networks));
    const busy = await rejection(docker.getVolume(vname).remove());
    assert.equal(busy.statusCode, 409, busy.message);
    await c.remove({ force: true });
    await net.remove();
    await docker.getVolume(vname).remove();
    assert.equal((await rejection(docker.getNetwork(netName).inspect())).statusCode, 404);
  });

  it('the events stream tells of a container\'s create, start and die', async () => {
    const name = nm('events');
    const since = Math.floor(Date.now() / 1000) - 1;
    const c = await docker.createContainer({ name, Image: image, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
    await c.wait();
    const stream = (await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: JSON.stringify({ container: [name] }) })) as unknown as Readable;
    const text = (await drain(stream)).toString();
    const actions = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { Action: string }).Action);
    for (const a of ['create', 'start', 'die']) assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);
    await c.remove();
  });

  it('buildImage from a tar context, with progress and a build arg; the image runs', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile' }, `FROM ${image}\nARG GREETING=hello\nCOPY msg.txt /msg.txt\nRUN echo "$GREETING from RUN" > /run.txt\nCMD ["sh", "-c", "cat /msg.txt /run.txt"]\n`);
    pack.entry({ name: 'msg.txt' }, 'copied by COPY\n');
    pack.finalize();
    const tag = `itd-built-${process.pid}:v1`;
    const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, buildargs: { GREETING: 'hi' } });
    const events = await new Promise<Array<{ stream?: string; error?: string; aux?: { ID?: string } }>>((res, rej) => docker.modem.followProgress(stream, (err, out) => (err ? rej(err) : res(out))));
    assert.ok(events.every((e) => !e.error), JSON.stringify(events.filter((e) => e.error)));
    assert.ok(events.some((e) => e.aux?.ID?.startsWith('sha256:')), 'the aux message with the image id');
    assert.ok(events.some((e) => /Successfully tagged/.test(e.stream ?? '')));
    const out = new PassThrough();
    const text = drain(out);
    const [data, container] = (await docker.run(tag, [], out, { Tty: true, HostConfig: { NetworkMode: 'none' } })) as [{ StatusCode: number }, Docker.Container];
    out.end();
    assert.equal(data.StatusCode, 0);
    assert.equal((await text).toString().replace(/\r/g, ''), 'copied by COPY\nhi from RUN\n');
    await container.remove();
    await docker.getImage(tag).remove();
  });

  it('bad input: a create without an image, an unknown container, a bad filter', async () => {
    const noImage = await rejection(docker.createContainer({ name: nm('bad'), Image: 'itd-no-such-image:v9' }));
    assert.equal(noImage.statusCode, 404);
    assert.match(noImage.message, /No such image/);
    const stop = await rejection(docker.getContainer('itd-nope').stop());
    assert.equal(stop.statusCode, 404);
    const bad = await rejection(docker.listContainers({ filters: '{"status": ["sleepy"]}' }));
    assert.equal(bad.statusCode, 400);
    assert.match(bad.message, /sleepy/);
  });
});
