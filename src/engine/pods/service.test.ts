import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is } from '../../errdefs/index.ts';
import { createFakeEngine } from '../../api/docker/fake-engine.ts';

const pod = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, namespace: 'ns', uid: `u-${name}`, attempt: 0 },
  hostname: name,
  log_directory: `/var/log/pods/${name}`,
  labels,
  annotations: { a: name },
});

test('pods over the engine: sandboxes and containers, filters, names, idempotence', async () => {
  const engine = createFakeEngine();
  const pods = engine.pods;
  const a = await pods.runPodSandbox(pod('a', { app: 'web' }));
  const b = await pods.runPodSandbox(pod('b', { app: 'db' }));
  // The sandbox is a container named as dockershim named them, running.
  const ca = await engine.containers.inspect(a);
  assert.equal(ca.Name, '/k8s_POD_a_ns_u-a_0');
  assert.equal(ca.State.Status, 'running');

  const ids = async (f: object) => (await pods.listPodSandbox(f)).map((s) => s.id).sort();
  assert.deepEqual(await ids({}), [a, b].sort());
  assert.deepEqual(await ids({ label_selector: { app: 'web' } }), [a]);
  assert.deepEqual(await ids({ id: b.slice(0, 10) }), [b]);
  const st = await pods.podSandboxStatus(a);
  assert.equal(st.state, 'SANDBOX_READY');
  assert.deepEqual(st.metadata, { name: 'a', namespace: 'ns', uid: 'u-a', attempt: 0 });
  assert.deepEqual(st.annotations, { a: 'a' });
  assert.match(String(st.created_at), /^\d{19}$/);

  // The same metadata again: the name is taken.
  await assert.rejects(pods.runPodSandbox(pod('a')), (e: unknown) => is(e, 'already-exists'));

  const c = await pods.createContainer(a, { metadata: { name: 'app' }, image: { image: 'busybox' }, args: ['sleep', '1'], labels: { tier: 'fe' }, log_path: 'app/0.log' });
  assert.equal((await engine.containers.inspect(c)).Name, '/k8s_app_a_ns_u-a_0');
  await assert.rejects(pods.createContainer(a, { metadata: { name: 'app' }, image: { image: 'busybox' } }), (e: unknown) => is(e, 'already-exists'));
  await assert.rejects(pods.createContainer('f'.repeat(64), { metadata: { name: 'x' }, image: { image: 'busybox' } }), (e: unknown) => is(e, 'not-found'));
  // A sandbox is no container, a container no sandbox.
  await assert.rejects(pods.containerStatus(a), (e: unknown) => is(e, 'not-found'));
  await assert.rejects(pods.podSandboxStatus(c), (e: unknown) => is(e, 'not-found'));

  let s = await pods.containerStatus(c);
  assert.equal(s.state, 'CONTAINER_CREATED');
  assert.equal(s.log_path, '/var/log/pods/a/app/0.log');
  assert.deepEqual(s.labels, { tier: 'fe' });
  await pods.startContainer(c);
  s = await pods.containerStatus(c);
  assert.equal(s.state, 'CONTAINER_RUNNING');
  await assert.rejects(pods.startContainer(c), (e: unknown) => is(e, 'failed-precondition'));

  const cids = async (f: object) => (await pods.listContainers(f)).map((x) => x.id);
  assert.deepEqual(await cids({ pod_sandbox_id: a }), [c]);
  assert.deepEqual(await cids({ pod_sandbox_id: b }), []);
  assert.deepEqual(await cids({ state: { state: 'CONTAINER_RUNNING' } }), [c]);
  assert.deepEqual(await cids({ state: { state: 'CONTAINER_EXITED' } }), []);
  assert.deepEqual(await cids({ label_selector: { tier: 'fe' } }), [c]);

  await pods.stopPodSandbox(a);
  assert.equal((await pods.containerStatus(c)).state, 'CONTAINER_EXITED');
  assert.equal((await pods.podSandboxStatus(a)).state, 'SANDBOX_NOTREADY');
  await pods.stopPodSandbox(a);
  await pods.removePodSandbox(a);
  await pods.removePodSandbox(a);
  await assert.rejects(pods.stopPodSandbox(a), (e: unknown) => is(e, 'not-found'));
  await assert.rejects(pods.containerStatus(c), (e: unknown) => is(e, 'not-found'));
  await pods.removeContainer(c);
  assert.deepEqual(await ids({}), [b]);
});

test('images: status of a missing image is null, removing it is fine, pull returns the id', async () => {
  const engine = createFakeEngine();
  assert.equal(await engine.pods.imageStatus({ image: 'missing' }), null);
  await engine.pods.removeImage({ image: 'missing' });
  assert.match(await engine.pods.pullImage({ image: 'alpine:3' }, { username: 'u', password: 'p' }), /^sha256:/);
  const pull = engine.calls.find((c) => c.method === 'images.pull');
  assert.deepEqual(pull?.args[1], { auth: { username: 'u', password: 'p' } });
  await assert.rejects(engine.pods.pullImage({ image: '' }), (e: unknown) => is(e, 'invalid'));
  const img = await engine.pods.imageStatus({ image: 'busybox' });
  assert.ok(img && img.repo_tags.includes('busybox:latest'));
});

test('ExecSync: output and code; at the timeout the command is killed before the call fails', async () => {
  const engine = createFakeEngine();
  const pods = engine.pods;
  const sb = await pods.runPodSandbox(pod('x'));
  const c = await pods.createContainer(sb, { metadata: { name: 'app' }, image: { image: 'busybox' }, command: ['sleep', '60'] });
  await pods.startContainer(c);
  const ok = await pods.execSync(c, ['sh', '-c', 'echo out; echo err >&2; exit 3'], '5');
  assert.deepEqual([ok.stdout.toString(), ok.stderr.toString(), ok.exit_code], ['out\n', 'err\n', 3]);
  // Nothing killed for a command that ended in time.
  assert.equal(engine.calls.filter((x) => x.method === 'containers.execKill').length, 0);

  const t0 = Date.now();
  await assert.rejects(pods.execSync(c, ['sleep', '30'], '1'), (e: unknown) => is(e, 'deadline-exceeded') && /timed out after 1s and was killed/.test((e as Error).message));
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  const kills = engine.calls.filter((x) => x.method === 'containers.execKill');
  assert.equal(kills.length, 1);
  // Killed by the time the call failed.
  const ex = await engine.containers.execInspect(kills[0]!.args[0] as string);
  assert.deepEqual([ex.Running, ex.ExitCode], [false, 137]);
});

test('stats: each container record read once; a pod\'s usage is its sandbox\'s and containers\' together', async () => {
  const engine = createFakeEngine();
  const pods = engine.pods;
  const sb = await pods.runPodSandbox(pod('s', { app: 'stats' }));
  const other = await pods.runPodSandbox(pod('o'));
  const ids: string[] = [];
  for (const name of ['one', 'two']) {
    const c = await pods.createContainer(sb, { metadata: { name }, image: { image: 'busybox' } });
    await pods.startContainer(c);
    ids.push(c);
  }
  const created = await pods.createContainer(sb, { metadata: { name: 'idle' }, image: { image: 'busybox' } });
  await pods.createContainer(other, { metadata: { name: 'elsewhere' }, image: { image: 'busybox' } });

  const inspects = () => engine.calls.filter((x) => x.method === 'containers.inspect').length;
  const before = inspects();
  const listed = await pods.listContainerStats({ pod_sandbox_id: sb });
  assert.equal(inspects() - before, 3, 'one inspect per container');
  assert.deepEqual(listed.map((x) => x.attributes.id).sort(), [...ids, created].sort());
  const one = listed.find((x) => x.attributes.id === ids[0])!;
  assert.equal(one.attributes.metadata.name, 'one');
  assert.equal(Number(one.cpu.usage_core_nano_seconds.value), 1000);
  assert.equal(Number(one.memory.usage_bytes.value), 1_048_576);
  // A container that has not started uses nothing.
  assert.equal(Number(listed.find((x) => x.attributes.id === created)!.cpu.usage_core_nano_seconds.value), 0);
  const single = await pods.containerStats(ids[1]!);
  const inList = listed.find((x) => x.attributes.id === ids[1])!;
  assert.deepEqual([single.attributes, single.cpu.usage_core_nano_seconds, single.memory.working_set_bytes], [inList.attributes, inList.cpu.usage_core_nano_seconds, inList.memory.working_set_bytes]);

  const ps = await pods.podSandboxStats(sb);
  assert.equal(ps.attributes.id, sb);
  assert.deepEqual(ps.attributes.labels, { app: 'stats' });
  assert.equal(ps.attributes.metadata.name, 's');
  // pause and the two running containers.
  assert.equal(Number(ps.linux.cpu.usage_core_nano_seconds.value), 3000);
  assert.equal(Number(ps.linux.memory.usage_bytes.value), 3 * 1_048_576);
  assert.equal(Number(ps.linux.process.process_count.value), 3);
  assert.equal(ps.linux.network.default_interface?.name, 'eth0');
  assert.equal(Number(ps.linux.network.default_interface?.rx_bytes.value), 700);
  assert.deepEqual(ps.linux.network.interfaces, []);
  assert.deepEqual(ps.linux.containers.map((x) => x.attributes.id).sort(), [...ids, created].sort());

  const all = async (f: object) => (await pods.listPodSandboxStats(f)).map((x) => x.attributes.id).sort();
  assert.deepEqual(await all({}), [sb, other].sort());
  assert.deepEqual(await all({ label_selector: { app: 'stats' } }), [sb]);
  assert.deepEqual(await all({ id: other.slice(0, 8) }), [other]);
  await assert.rejects(pods.podSandboxStats(ids[0]!), (e: unknown) => is(e, 'not-found'));
  await assert.rejects(pods.podSandboxStats('f'.repeat(64)), (e: unknown) => is(e, 'not-found'));
});

test('pod stats as containerd: a sandbox that is not ready has none; the containers are listed once for all pods', async () => {
  const engine = createFakeEngine();
  const pods = engine.pods;
  const ready: string[] = [];
  for (const name of ['p1', 'p2', 'p3']) {
    const sb = await pods.runPodSandbox(pod(name));
    const c = await pods.createContainer(sb, { metadata: { name: 'app' }, image: { image: 'busybox' } });
    await pods.startContainer(c);
    ready.push(sb);
  }
  const stopped = await pods.runPodSandbox(pod('gone'));
  await pods.stopPodSandbox(stopped);
  await assert.rejects(pods.podSandboxStats(stopped), (e: unknown) => is(e, 'unavailable'));

  const lists = () => engine.calls.filter((x) => x.method === 'containers.list').length;
  const before = lists();
  const listed = await pods.listPodSandboxStats({});
  assert.deepEqual(listed.map((x) => x.attributes.id).sort(), [...ready].sort());
  for (const p of listed) assert.equal(p.linux.containers.length, 1);
  // The sandboxes, then the containers: not once more per pod.
  assert.equal(lists() - before, 2);
});
