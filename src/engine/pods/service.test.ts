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
