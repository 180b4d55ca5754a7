import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is } from '../../errdefs/index.ts';
import { containerPlan, sandboxPlan, type SandboxView } from './configs.ts';
import { LABEL, metaOf, nanosOf, type SandboxMeta } from './labels.ts';
import { containerStateOf, reasonOf } from './service.ts';
import type { ContainerInspect } from '../containers/types.ts';

const META = { name: 'web', namespace: 'default', uid: 'u-1', attempt: 2 };
const opts = { image: 'joey.local/pause:1', network: 'bridge', ownImage: true };

test('sandbox: dockershim name, namespaces, DNS, ports, labels and meta', () => {
  const p = sandboxPlan(
    {
      metadata: META,
      hostname: 'web-0',
      log_directory: '/var/log/pods/x',
      dns_config: { servers: ['10.0.0.10'], searches: ['default.svc'], options: ['ndots:5'] },
      port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '127.0.0.1' }, { protocol: 'UDP', container_port: 53, host_port: 0 }],
      labels: { app: 'web' },
      annotations: { note: 'x' },
      linux: { cgroup_parent: '/kubepods/pod1', sysctls: { 'net.ipv4.ip_forward': '1' } },
    },
    opts,
  );
  assert.equal(p.name, 'k8s_POD_web_default_u-1_2');
  const hc = p.req.HostConfig!;
  assert.equal(hc.NetworkMode, 'bridge');
  assert.equal(hc.IpcMode, 'shareable');
  assert.equal(hc.PidMode, '');
  assert.deepEqual(hc.Dns, ['10.0.0.10']);
  assert.deepEqual(hc.DnsSearch, ['default.svc']);
  assert.deepEqual(hc.DnsOptions, ['ndots:5']);
  assert.deepEqual(hc.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.equal(hc.CgroupParent, '/kubepods/pod1');
  assert.deepEqual(hc.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.equal(p.req.Hostname, 'web-0');
  assert.deepEqual(p.req.Entrypoint, ['/pause']);
  assert.equal(p.req.Labels!['app'], 'web');
  assert.equal(p.req.Labels![LABEL.kind], 'sandbox');
  const meta = metaOf<SandboxMeta>(p.req.Labels)!;
  assert.deepEqual(meta.metadata, META);
  assert.equal(meta.logDirectory, '/var/log/pods/x');
  assert.deepEqual(meta.annotations, { note: 'x' });
});

test('sandbox: NODE network is the host\'s, no ports published, host UTS', () => {
  const p = sandboxPlan({ metadata: META, hostname: 'h', port_mappings: [{ container_port: 80, host_port: 80 }], linux: { security_context: { namespace_options: { network: 'NODE', pid: 'NODE', ipc: 'NODE' } } } }, opts);
  const hc = p.req.HostConfig!;
  assert.equal(hc.NetworkMode, 'host');
  assert.equal(hc.UTSMode, 'host');
  assert.equal(hc.PidMode, 'host');
  assert.equal(hc.IpcMode, 'host');
  assert.equal(hc.PortBindings, null);
  assert.equal(p.req.Hostname, undefined);
});

test('sandbox: bad input is invalid and names the problem', () => {
  const bad = (cfg: unknown, re: RegExp) => assert.throws(() => sandboxPlan(cfg as never, opts), (e: unknown) => is(e, 'invalid') && re.test((e as Error).message));
  bad(null, /config is required/);
  bad({}, /metadata/);
  bad({ metadata: { name: 'a', namespace: 'b' } }, /metadata.uid/);
  bad({ metadata: { ...META, name: 'a_b' } }, /metadata.name/);
  bad({ metadata: META, log_directory: 'rel/dir' }, /log_directory must be absolute/);
  bad({ metadata: META, port_mappings: [{ container_port: 0, host_port: 80 }] }, /container_port/);
});

function sandbox(extra: Partial<SandboxMeta> = {}): SandboxView {
  const meta: SandboxMeta = { metadata: META, labels: {}, annotations: {}, logDirectory: '/var/log/pods/x', runtimeHandler: '', namespaces: { network: 'POD', pid: 'POD', ipc: 'POD' }, ...extra };
  return { id: 'abc', meta, hostname: 'web-0', hostConfig: { Dns: ['10.0.0.10'], DnsSearch: [], DnsOptions: [], CgroupParent: '/kubepods/pod1' } };
}

test('container: joins the sandbox, command/args, env, mounts, resources, security, log path', () => {
  const p = containerPlan(sandbox(), {
    metadata: { name: 'app', attempt: 1 },
    image: { image: 'busybox' },
    command: ['sh', '-c'],
    args: ['echo hi'],
    working_dir: '/w',
    envs: [{ key: 'A', value: '1' }],
    mounts: [
      { container_path: '/data', host_path: '/srv/data', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
      { container_path: '/x', host_path: '/srv/x' },
    ],
    labels: { tier: 'fe' },
    annotations: { a: 'b' },
    log_path: 'app/1.log',
    tty: false,
    linux: {
      resources: { cpu_period: '100000', cpu_quota: '50000', cpu_shares: '512', memory_limit_in_bytes: String(64 << 20), cpuset_cpus: '0' },
      security_context: { privileged: false, run_as_user: { value: '1000' }, readonly_rootfs: true, capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['MKNOD'] }, namespace_options: { pid: 'CONTAINER' } },
    },
  });
  assert.equal(p.name, 'k8s_app_web_default_u-1_1');
  const hc = p.req.HostConfig!;
  assert.equal(hc.NetworkMode, 'container:abc');
  assert.equal(hc.IpcMode, 'container:abc');
  assert.equal(hc.PidMode, '');
  assert.deepEqual(hc.Binds, ['/srv/data:/data:ro,rslave', '/srv/x:/x:rw,rprivate']);
  assert.equal(hc.CpuPeriod, 100000);
  assert.equal(hc.CpuQuota, 50000);
  assert.equal(hc.CpuShares, 512);
  assert.equal(hc.Memory, 64 << 20);
  assert.equal(hc.CpusetCpus, '0');
  assert.equal(hc.ReadonlyRootfs, true);
  assert.deepEqual(hc.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(hc.CapDrop, ['MKNOD']);
  assert.deepEqual(hc.Dns, ['10.0.0.10']);
  assert.equal(hc.CgroupParent, '/kubepods/pod1');
  assert.deepEqual(hc.LogConfig, { Type: 'k8s-file', Config: { path: '/var/log/pods/x/app/1.log' } });
  assert.deepEqual(p.req.Entrypoint, ['sh', '-c']);
  assert.deepEqual(p.req.Cmd, ['echo hi']);
  assert.deepEqual(p.req.Env, ['A=1']);
  assert.equal(p.req.User, '1000');
  assert.equal(p.req.Hostname, 'web-0');
  assert.equal(p.req.Labels![LABEL.sandboxId], 'abc');
  assert.equal(p.meta.logPath, '/var/log/pods/x/app/1.log');
});

test('container: the pod\'s PID namespace by default (POD), the host\'s with NODE', () => {
  const base = { metadata: { name: 'c' }, image: { image: 'busybox' } };
  assert.equal(containerPlan(sandbox(), base).req.HostConfig!.PidMode, 'container:abc');
  assert.equal(containerPlan(sandbox(), { ...base, linux: { security_context: { namespace_options: { pid: 'NODE' } } } }).req.HostConfig!.PidMode, 'host');
  // Without an image command or args the image's own run.
  const plain = containerPlan(sandbox(), base).req;
  assert.equal(plain.Entrypoint, undefined);
  assert.equal(plain.Cmd, undefined);
});

test('container: bad input is invalid and names the problem', () => {
  const bad = (cfg: unknown, re: RegExp) => assert.throws(() => containerPlan(sandbox(), cfg as never), (e: unknown) => is(e, 'invalid') && re.test((e as Error).message));
  const base = { metadata: { name: 'c' }, image: { image: 'busybox' } };
  bad(null, /config is required/);
  bad({ image: { image: 'busybox' } }, /metadata.name/);
  bad({ metadata: { name: 'c' } }, /image.image/);
  bad({ ...base, mounts: [{ container_path: '/d', host_path: 'rel' }] }, /host_path must be absolute/);
  bad({ ...base, mounts: [{ container_path: 'd', host_path: '/x' }] }, /container_path must be absolute/);
  bad({ ...base, log_path: '/abs.log' }, /relative/);
  bad({ ...base, log_path: '../../etc/x' }, /under the sandbox/);
  bad({ ...base, envs: [{ value: 'x' }] }, /no key/);
});

test('times in nanoseconds, states and reasons', () => {
  assert.equal(nanosOf('0001-01-01T00:00:00Z'), '0');
  assert.equal(nanosOf('2024-01-02T03:04:05.123456789Z'), '1704164645123456789');
  assert.equal(nanosOf('2024-01-02T03:04:05Z'), '1704164645000000000');
  assert.equal(nanosOf('2024-01-02T03:04:05.5Z'), '1704164645500000000');
  assert.equal(containerStateOf('created'), 'CONTAINER_CREATED');
  assert.equal(containerStateOf('running'), 'CONTAINER_RUNNING');
  assert.equal(containerStateOf('exited'), 'CONTAINER_EXITED');
  assert.equal(containerStateOf('removing'), 'CONTAINER_UNKNOWN');
  const st = (s: Partial<ContainerInspect['State']>) => ({ Status: 'exited', ExitCode: 0, OOMKilled: false, ...s }) as ContainerInspect['State'];
  assert.equal(reasonOf(st({})), 'Completed');
  assert.equal(reasonOf(st({ ExitCode: 3 })), 'Error');
  assert.equal(reasonOf(st({ ExitCode: 137, OOMKilled: true })), 'OOMKilled');
  assert.equal(reasonOf(st({ Status: 'running' })), '');
});
