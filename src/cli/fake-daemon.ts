// Canned Docker API answers for the CLI tests (and for pointing the real
// docker CLI at, to compare outputs).
import { apiError, json, jsonLines } from '../client/fake-api.ts';
import type { Handler, Route } from '../client/fake-api.ts';

const hex = (c: string) => c.repeat(64);
export const IMAGE_ID = `sha256:${hex('a')}`;
export const DIGEST = `sha256:${hex('d')}`;

export const INSPECT = {
  Id: IMAGE_ID,
  RepoTags: ['busybox:latest'],
  RepoDigests: [`busybox@${DIGEST}`],
  Parent: '',
  Comment: '',
  Created: '2024-09-26T21:31:42Z',
  DockerVersion: '',
  Author: '',
  Config: {
    Hostname: '',
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=<b>&c'],
    Cmd: ['sh'],
    Labels: { 'org.x': 'y', b: '2' },
    ExposedPorts: null,
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
  },
  Architecture: 'amd64',
  Os: 'linux',
  Size: 4261574,
  GraphDriver: { Name: 'overlayfs', Data: null },
  RootFS: { Type: 'layers', Layers: [`sha256:${hex('1')}`] },
  Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
};

// Fixed once per process: docker and joey must see the same absolute times.
const NOW_SECONDS = Math.floor(Date.now() / 1000);

export function historyEntries(nowSeconds = NOW_SECONDS) {
  return [
    { Id: IMAGE_ID, Created: nowSeconds - 3600 * 30 - 600, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]', Tags: ['busybox:latest'], Size: 0, Comment: '' },
    {
      Id: '<missing>',
      Created: nowSeconds - 86400 * 40,
      CreatedBy: '/bin/sh -c #(nop) ADD file:7d1b8a3f9ad1f4b5e8f2a5b1c4d9e2f3a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1 in / ',
      Tags: null,
      Size: 4261574,
      Comment: 'buildkit.dockerfile.v0',
    },
    { Id: '<missing>', Created: 0, CreatedBy: 'tab\there', Tags: null, Size: 123, Comment: '' },
  ];
}

export const PULL_STREAM = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Downloading', progressDetail: { current: 32768, total: 2152262 }, progress: '[>   ]  32.77kB/2.152MB', id: '2fce1e0cdfc5' },
  { status: 'Verifying Checksum', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Download complete', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Pull complete', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: `Digest: ${DIGEST}` },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

export const PUSH_STREAM = [
  { status: 'The push refers to repository [127.0.0.1:5000/busybox]' },
  { status: 'Preparing', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Pushing', progressDetail: { current: 512, total: 2152262 }, progress: '[>   ]', id: '2fce1e0cdfc5' },
  { status: 'Pushed', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: `latest: digest: ${DIGEST} size: 527` },
  { progressDetail: {}, aux: { Tag: 'latest', Digest: DIGEST, Size: 527 } },
];

export const VERSION_ANSWER = {
  Platform: { Name: 'Joey Engine' },
  Components: [
    {
      Name: 'Engine',
      Version: '0.1.0',
      Details: { ApiVersion: '1.47', Arch: 'amd64', BuildTime: '2025-01-01T00:00:00.000000000+00:00', Experimental: 'false', GitCommit: 'abc1234', GoVersion: 'node v20', KernelVersion: '6.1.0', MinAPIVersion: '1.24', Os: 'linux' },
    },
    { Name: 'runc', Version: '1.1.12', Details: { GitCommit: 'v1.1.12-0-g51d5e94' } },
  ],
  Version: '0.1.0',
  ApiVersion: '1.47',
  MinAPIVersion: '1.24',
  Os: 'linux',
  Arch: 'amd64',
};

export const INFO_ANSWER = {
  ID: 'abcd',
  Containers: 3,
  ContainersRunning: 1,
  ContainersPaused: 0,
  ContainersStopped: 2,
  Images: 5,
  Driver: 'overlayfs',
  DriverStatus: [['Backing Filesystem', 'extfs']],
  Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'k8s-file'] },
  Debug: false,
  LoggingDriver: 'json-file',
  CgroupDriver: 'systemd',
  CgroupVersion: '2',
  KernelVersion: '6.1.0-18-amd64',
  OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
  OSType: 'linux',
  Architecture: 'x86_64',
  RegistryConfig: {
    InsecureRegistryCIDRs: ['127.0.0.0/8'],
    IndexConfigs: {
      'docker.io': { Name: 'docker.io', Mirrors: ['http://127.0.0.1:5001/'], Secure: true, Official: true },
      '127.0.0.1:5000': { Name: '127.0.0.1:5000', Mirrors: [], Secure: false, Official: false },
    },
    Mirrors: ['http://127.0.0.1:5001/'],
  },
  NCPU: 8,
  MemTotal: 16685408256,
  DockerRootDir: '/var/lib/joey',
  Name: 'host1',
  Labels: [],
  ExperimentalBuild: false,
  ServerVersion: '0.1.0',
  Runtimes: { runc: { path: 'runc' } },
  DefaultRuntime: 'runc',
  LiveRestoreEnabled: true,
  RuncCommit: { ID: 'v1.1.12' },
  SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'],
  Warnings: ['WARNING: bridge-nf-call-iptables is disabled'],
};

const CONTAINER_ID = '3f2a'.repeat(16);
/** GET /events answers as joeyd writes them (raw text: a double cannot hold
 * timeNano's digits); the stream ends as it does once --until has passed. */
export const EVENT_LINES = [
  `{"status":"create","id":"${CONTAINER_ID}","from":"busybox","Type":"container","Action":"create","Actor":{"ID":"${CONTAINER_ID}","Attributes":{"name":"web","image":"busybox","com.x":"a b"}},"scope":"local","time":1764237600,"timeNano":1764237600123456789}`,
  `{"Type":"image","Action":"tag","Actor":{"ID":"${IMAGE_ID}","Attributes":{"name":"busybox:latest"}},"scope":"local","time":1764237601,"timeNano":1764237601000000001}`,
  `{"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{}},"scope":"local","time":1764237602,"timeNano":1764237602500000000}`,
  `{"Type":"daemon","Action":"reload","Actor":{"ID":"d1"},"time":1764237603}`,
];

/** Networks as joeyd lists them: the built-ins and two user networks. */
export const NETWORKS = [
  {
    Name: 'mynet', Id: hex('7'), Created: '2026-11-27T10:00:00.123456789Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.9.0.0/24', Gateway: '10.9.0.1' }] }, Internal: true, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: { 'com.docker.network.bridge.name': 'jbr-777777777' }, Labels: { team: 'a<b' },
  },
  {
    Name: 'bridge', Id: hex('b'), Created: '2026-11-01T08:00:00Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.231.7.0/24', Gateway: '10.231.7.1' }] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: { 'com.docker.network.bridge.name': 'joey0' }, Labels: {},
  },
  {
    Name: 'host', Id: hex('c'), Created: '2026-11-01T08:00:00.5+01:00', Scope: 'local', Driver: 'host', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
  },
  {
    Name: 'net10', Id: hex('0'), Created: '2026-11-27T10:00:00Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: null,
  },
  {
    Name: 'net9', Id: hex('9'), Created: '2026-11-27T10:00:00Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
  },
];

/** A container with published ports, for `port` (as joeyd's NetworkSettings.Ports). */
export const PORTS = {
  '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }],
  '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
  '9/tcp': [{ HostIp: '', HostPort: '32768' }],
  '443/tcp': null,
  '8000/tcp': [],
};

const network = (req: { path: string }) => NETWORKS.find((n) => n.Name === decodeURIComponent(req.path.split('/')[2] ?? '') || n.Id === req.path.split('/')[2]);

function networkRoutes(): Route[] {
  const noNetwork: Handler = (req, res) => apiError(404, `network ${decodeURIComponent(req.path.split('/')[2] ?? '')} not found`)(req, res);
  return [
    {
      method: 'GET',
      path: '/networks',
      handler: (req, res) => {
        if (req.query.get('filters')?.includes('bogus')) return apiError(400, "invalid filter 'bogus'")(req, res);
        return json(NETWORKS)(req, res);
      },
    },
    {
      method: 'POST',
      path: '/networks/create',
      handler: (req, res) => {
        const b = JSON.parse(req.body.toString() || '{}') as { Name?: string; EnableIPv6?: boolean };
        if (b.Name === 'mynet') return apiError(409, 'network with name mynet already exists')(req, res);
        if (b.EnableIPv6) return apiError(400, 'IPv6 networks are not supported by joey yet')(req, res);
        return json({ Id: hex('e'), Warning: '' }, 201)(req, res);
      },
    },
    { method: 'POST', path: '/networks/prune', handler: json({ NetworksDeleted: ['net9', 'net10'] }) },
    {
      method: 'POST',
      path: /^\/networks\/[^/]+\/(connect|disconnect)$/,
      handler: (req, res) => {
        if (!network(req)) return noNetwork(req, res);
        const b = JSON.parse(req.body.toString() || '{}') as { Container?: string };
        if (b.Container !== 'web') return apiError(404, `No such container: ${b.Container}`)(req, res);
        res.writeHead(200);
        res.end();
      },
    },
    {
      method: 'GET',
      path: /^\/networks\/[^/]+$/,
      handler: (req, res) => {
        const n = network(req);
        return n ? json(n)(req, res) : noNetwork(req, res);
      },
    },
    {
      method: 'DELETE',
      path: /^\/networks\/[^/]+$/,
      handler: (req, res) => {
        const n = network(req);
        if (!n) return noNetwork(req, res);
        if (n.Name === 'bridge' || n.Name === 'host') return apiError(403, `${n.Name} is a pre-defined network and cannot be removed`)(req, res);
        res.writeHead(204);
        res.end();
      },
    },
    {
      method: 'GET',
      path: /^\/containers\/[^/]+\/json$/,
      handler: (req, res) => {
        const name = req.path.split('/')[2];
        if (name !== 'web') return apiError(404, `No such container: ${name}`)(req, res);
        return json({ Id: CONTAINER_ID, Name: '/web', NetworkSettings: { Ports: PORTS } })(req, res);
      },
    },
  ];
}

/** GET /system/df: busybox used by two containers, an image sharing a layer
 * with another, a dangling one; containers in three states; volumes used,
 * unused and of unknown size. */
export function diskUsageAnswer(nowSeconds = NOW_SECONDS) {
  const image = (id: string, tags: string[], size: number, shared: number, containers: number, ageHours: number) => ({
    Id: `sha256:${hex(id)}`, ParentId: '', RepoTags: tags, RepoDigests: tags.length ? [`${tags[0]!.split(':')[0]}@${DIGEST}`] : [],
    Created: nowSeconds - ageHours * 3600, Size: size, SharedSize: shared, VirtualSize: size, Labels: {}, Containers: containers,
  });
  const container = (n: number, name: string, state: string, status: string, sizeRw: number, mounts: object[]) => ({
    Id: hex(String(n)), Names: [`/${name}`], Image: 'busybox', ImageID: IMAGE_ID, Command: 'sh -c \'sleep 1000 && echo <done>\'',
    Created: nowSeconds - 3 * 3600 - 60, Ports: [], SizeRw: sizeRw, SizeRootFs: sizeRw + 4261574, Labels: {}, State: state, Status: status,
    HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { Networks: { bridge: {} } }, Mounts: mounts,
  });
  const vol = (name: string, size: number, refs: number) => ({
    CreatedAt: '2024-09-26T21:31:42Z', Driver: 'local', Labels: {}, Mountpoint: `/var/lib/joey/volumes/${name}/_data`, Name: name, Options: null, Scope: 'local',
    UsageData: { Size: size, RefCount: refs },
  });
  const volMount = (name: string) => ({ Type: 'volume', Name: name, Source: `/var/lib/joey/volumes/${name}/_data`, Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
  return {
    LayersSize: 4261574 + 2000000 + 1234 + 55555,
    Images: [
      image('a', ['busybox:latest', 'busybox:1.36'], 4261574, 0, 2, 30),
      image('b', ['127.0.0.1:5000/team/app:v1'], 2001234, 2000000, 0, 50),
      image('c', ['other:v2'], 2000000, 2000000, 0, 72),
      image('e', [], 55555, 0, 0, 24 * 40),
    ],
    Containers: [
      container(1, 'web', 'running', 'Up 3 hours', 1_500_000, [volMount('data'), { Type: 'bind', Source: '/srv', Destination: '/srv', Mode: '', RW: true, Propagation: 'rprivate' }]),
      container(2, 'old', 'exited', 'Exited (0) 2 hours ago', 20_480, [volMount('f'.repeat(64))]),
      container(3, 'new', 'created', 'Created', 0, []),
    ],
    Volumes: [vol('data', 10_485_760, 1), vol('f'.repeat(64), 4096, 1), vol('unused', 123_456_789, 0), vol('elsewhere', -1, 0)],
    BuildCache: [],
  };
}

const created: Handler = (_req, res) => {
  res.writeHead(201);
  res.end();
};

/** A daemon that knows busybox, not "nope", and has "used" in use. */
export function daemonRoutes(): Route[] {
  return [
    { method: 'GET', path: '/images/busybox/json', handler: json(INSPECT) },
    { method: 'GET', path: /^\/images\/nope\//, handler: apiError(404, 'No such image: nope') },
    { method: 'GET', path: '/images/busybox/history', handler: (req, res) => json(historyEntries())(req, res) },
    {
      method: 'POST',
      path: '/images/prune',
      handler: json({ ImagesDeleted: [{ Untagged: 'foo:latest' }, { Deleted: IMAGE_ID }], SpaceReclaimed: 4261574 }),
    },
    { method: 'DELETE', path: '/images/busybox', handler: json([{ Untagged: 'busybox:latest' }, { Untagged: `busybox@${DIGEST}` }, { Deleted: IMAGE_ID }]) },
    { method: 'DELETE', path: '/images/nope', handler: apiError(404, 'No such image: nope') },
    { method: 'DELETE', path: '/images/used', handler: apiError(409, 'conflict: unable to remove repository reference "used" (must force) - container 123 is using its referenced image abc') },
    { method: 'POST', path: '/images/busybox/tag', handler: created },
    { method: 'POST', path: '/auth', handler: json({ Status: 'Login Succeeded', IdentityToken: '' }) },
    { method: 'GET', path: '/version', handler: json(VERSION_ANSWER) },
    {
      method: 'GET',
      path: '/events',
      handler: (req, res) => {
        if (req.query.get('filters')?.includes('bogus')) return apiError(400, "invalid filter 'bogus'")(req, res);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(EVENT_LINES.map((l) => l + '\n').join(''));
      },
    },
    { method: 'GET', path: '/info', handler: json(INFO_ANSWER) },
    { method: 'GET', path: '/system/df', handler: (req, res) => json(diskUsageAnswer())(req, res) },
    ...networkRoutes(),
    {
      method: 'POST',
      path: '/images/create',
      handler: (req, res) => {
        const from = req.query.get('fromImage') ?? '';
        if (from.endsWith('/nope')) return apiError(404, "pull access denied for nope, repository does not exist or may require 'docker login'")(req, res);
        if (from.endsWith('/bad')) return jsonLines([...PULL_STREAM.slice(0, 3), { errorDetail: { message: 'unexpected EOF' }, error: 'unexpected EOF' }])(req, res);
        if (req.query.get('fromSrc')) return jsonLines([{ status: IMAGE_ID }])(req, res);
        return jsonLines(PULL_STREAM)(req, res);
      },
    },
    { method: 'POST', path: /^\/images\/.*\/push$/, handler: jsonLines(PUSH_STREAM) },
    {
      method: 'POST',
      path: '/images/load',
      handler: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ stream: 'Loaded image: busybox:latest\n' }) + '\n');
      },
    },
    {
      method: 'GET',
      path: '/images/get',
      handler: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        res.end(Buffer.from('TARBYTES'));
      },
    },
  ];
}
