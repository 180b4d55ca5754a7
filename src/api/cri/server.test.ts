import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_KINDS, conflict, invalid, notFound } from '../../errdefs/index.ts';
import { setLogSink } from '../../util/log.ts';
import { createFakeEngine } from '../docker/fake-engine.ts';
import { parseDaemonArgs, type DaemonConfig } from '../../daemon/config.ts';
import { startDaemon } from '../../daemon/daemon.ts';
import { connectCri } from './client.ts';
import { GRPC, GRPC_CODE_BY_KIND, grpcErrorOf } from './errors.ts';

setLogSink(() => undefined);
const dir = mkdtempSync(join(tmpdir(), 'joey-cri-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFor(name: string, extra: string[] = []): DaemonConfig {
  const r = parseDaemonArgs(['--data-root', join(dir, name, 'data'), '--exec-root', join(dir, name, 'run'), '--config-file', '/dev/null/none', ...extra], { readFile: () => '{}' });
  assert.equal(r.kind, 'run');
  const c = (r as { config: DaemonConfig }).config;
  c.listeners = [{ kind: 'unix', path: join(dir, name, 'run', 'joeyd.sock'), addr: `unix://${join(dir, name, 'run', 'joeyd.sock')}` }];
  return c;
}

test('every error kind has a gRPC code; the common ones are the CRI\'s', () => {
  for (const k of ERROR_KINDS) assert.equal(typeof GRPC_CODE_BY_KIND[k], 'number', k);
  assert.equal(grpcErrorOf(notFound('x')).code, GRPC.NOT_FOUND);
  assert.equal(grpcErrorOf(invalid('x')).code, GRPC.INVALID_ARGUMENT);
  assert.equal(grpcErrorOf(conflict('x')).code, GRPC.FAILED_PRECONDITION);
  assert.equal(grpcErrorOf(new Error('boom')).code, GRPC.UNKNOWN);
  assert.equal(grpcErrorOf(invalid('bad thing')).details, 'bad thing');
});

test('--cri: flags and defaults', () => {
  assert.equal(configFor('f').cri, undefined);
  assert.deepEqual(configFor('f', ['--cri']).cri, { socket: join(dir, 'f', 'run', 'cri.sock') });
  assert.deepEqual(configFor('f', ['--cri', '--cri-socket', '/tmp/x/cri.sock']).cri, { socket: '/tmp/x/cri.sock' });
  assert.deepEqual(configFor('f', ['--cri-network', 'pods', '--pod-infra-image', 'reg/pause:1']).engine.pods, { network: 'pods', podInfraImage: 'reg/pause:1' });
  assert.throws(() => configFor('f', ['--cri', '--cri-socket', 'rel.sock']), /absolute/);
  const r = parseDaemonArgs(['--config-file', '/x.json'], { readFile: () => JSON.stringify({ cri: true, 'cri-socket': '/run/k/cri.sock', 'cri-network': 'k8s' }) });
  assert.equal(r.kind, 'run');
  const c = (r as { config: DaemonConfig }).config;
  assert.deepEqual(c.cri, { socket: '/run/k/cri.sock' });
  assert.equal(c.engine.pods?.network, 'k8s');
});

test('the CRI socket: served with --cri over the engine, gone after shutdown', async () => {
  const config = configFor('a', ['--cri']);
  const d = await startDaemon(config, { version: '9.9.9', createEngine: async () => createFakeEngine() });
  const sock = config.cri!.socket;
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o660);
    const cri = await connectCri(sock);
    try {
      const v = await cri.runtime('Version', { version: 'v1' });
      assert.equal(v.runtime_name, 'joey');
      assert.equal(v.runtime_api_version, 'v1');
      const st = await cri.runtime('Status', {});
      assert.deepEqual(st.status.conditions.map((c: { type: string }) => c.type), ['RuntimeReady', 'NetworkReady']);
      assert.equal(st.status.conditions[0].status, true);

      // A missing image is no error: the image is simply unset.
      const is = await cri.image('ImageStatus', { image: { image: 'missing' } });
      assert.equal(is.image, null);
      // Removing it is fine too.
      await cri.image('RemoveImage', { image: { image: 'missing' } });

      assert.deepEqual((await cri.runtime('ListPodSandbox', {})).items, []);
      assert.deepEqual((await cri.runtime('ListContainers', {})).containers, []);

      const bad = async (p: Promise<unknown>, code: number, re: RegExp) =>
        assert.rejects(p, (e: { code: number; details: string }) => e.code === code && re.test(e.details));
      await bad(cri.runtime('RunPodSandbox', { config: { hostname: 'x' } }), GRPC.INVALID_ARGUMENT, /metadata/);
      await bad(cri.runtime('RunPodSandbox', { config: { metadata: { name: 'p', namespace: 'ns' } } }), GRPC.INVALID_ARGUMENT, /metadata.uid/);
      await bad(cri.runtime('PodSandboxStatus', { pod_sandbox_id: 'f00' }), GRPC.NOT_FOUND, /not found/);
      await bad(cri.runtime('CreateContainer', { pod_sandbox_id: 'f00', config: { metadata: { name: 'c' }, image: { image: 'busybox' } } }), GRPC.NOT_FOUND, /f00/);
      await bad(cri.runtime('ContainerStatus', { container_id: 'f00' }), GRPC.NOT_FOUND, /f00/);
      await bad(cri.image('PullImage', { image: { image: '' } }), GRPC.INVALID_ARGUMENT, /image/);
      await bad(cri.runtime('Exec', { container_id: 'f00', cmd: ['sh'] }), GRPC.UNIMPLEMENTED, /streaming/);
      // Removing is idempotent on what is not there; stopping it is not found (as containerd).
      await bad(cri.runtime('StopPodSandbox', { pod_sandbox_id: 'f00' }), GRPC.NOT_FOUND, /f00/);
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: 'f00' });
      await cri.runtime('RemoveContainer', { container_id: 'f00' });
    } finally {
      cri.close();
    }
  } finally {
    await d.shutdown();
  }
  assert.equal(existsSync(sock), false);
});
