// A scripted container daemon on the fake API, for the CLI tests and for
// pointing the real docker CLI at: create (404 until the image is pulled),
// attach and exec start over hijacked connections, wait that answers when
// the container exits, and the other container endpoints with canned data.
//
// A container's command is a script: "echo:TEXT" (stdout), "err:TEXT"
// (stderr), "cat" (stdin back to stdout until it ends), "sleep:MS",
// "exit:N"; a command naming "missing" fails to start as a missing
// executable does on dockerd.
import type { Socket } from 'node:net';
import tar from 'tar-stream';
import type { ServerResponse } from 'node:http';
import { apiError, json, jsonLines, upgradeError, upgraded } from '../client/fake-api.ts';
import type { FakeApi, RecordedRequest } from '../client/fake-api.ts';
import { frame } from './stdcopy.ts';
import { PULL_STREAM } from './fake-daemon.ts';

export interface FakeContainer {
  id: string;
  name: string;
  body: Record<string, any>;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  attached: Array<{ socket: Socket; stdin: boolean }>;
  waiters: Array<{ res: ServerResponse; condition: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ContainerDaemon {
  containers: Map<string, FakeContainer>;
  images: Set<string>;
  /** Exec processes by id, with their command and exit code. */
  execs: Map<string, { container: string; body: Record<string, any>; exitCode: number }>;
}

/** Runs a command script against the attached sockets; resolves the exit code. */
async function runScript(cmd: string[], tty: boolean, outputs: () => Array<Socket & { streams?: Set<number> }>, stdin: Socket | undefined): Promise<number> {
  const write = (stream: 1 | 2, text: string) => {
    for (const s of outputs()) {
      if (s.destroyed || (s.streams && !s.streams.has(stream))) continue;
      s.write(tty ? Buffer.from(text) : frame(stream, text));
    }
  };
  let code = 0;
  for (const step of cmd) {
    const i = step.indexOf(':');
    const op = i < 0 ? step : step.slice(0, i);
    const arg = i < 0 ? '' : step.slice(i + 1);
    if (op === 'echo') write(1, arg + '\n');
    else if (op === 'err') write(2, arg + (tty ? '\r\n' : '\n'));
    else if (op === 'sleep') await sleep(Number(arg));
    else if (op === 'exit') code = Number(arg);
    else if (op === 'cat' && stdin) {
      await new Promise<void>((resolve) => {
        stdin.on('data', (d: Buffer) => write(1, d.toString()));
        stdin.once('end', () => resolve());
        stdin.once('close', () => resolve());
        stdin.resume();
      });
    }
  }
  return code;
}

function id(n: number): string {
  return (n.toString(16).padStart(2, '0') + 'c0ffee').repeat(8).slice(0, 64);
}

const hex = (c: string) => c.repeat(64);
export const WEB_ID = hex('a1').slice(0, 64);
export const TTY_ID = hex('b2').slice(0, 64);

// Fixed once per process: docker and joey must see the same absolute times.
const NOW_SECONDS = Math.floor(Date.now() / 1000);

/** `docker ps` rows: ports, links, labels, mounts and sizes to format. */
export function containerList(nowSeconds = NOW_SECONDS) {
  return [
    {
      Id: WEB_ID,
      Names: ['/web', '/other/web-link'],
      Image: 'nginx:1.25',
      ImageID: `sha256:${hex('e')}`,
      Command: '/docker-entrypoint.sh nginx -g \'daemon off;\'',
      Created: nowSeconds - 3 * 3600 - 60,
      Ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 443, Type: 'tcp' },
        { PrivatePort: 444, Type: 'tcp' },
        { PrivatePort: 446, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 53, Type: 'udp' },
      ],
      SizeRw: 1234,
      SizeRootFs: 187654321,
      Labels: { 'com.example.tier': 'front', maintainer: 'NGINX <docker-maint@nginx.com>' },
      State: 'running',
      Status: 'Up 3 hours',
      HostConfig: { NetworkMode: 'bridge' },
      NetworkSettings: { Networks: { bridge: {} } },
      Mounts: [
        { Type: 'volume', Name: 'f'.repeat(64), Source: '/var/lib/joey/volumes/x/_data', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' },
        { Type: 'bind', Source: '/srv/www', Destination: '/usr/share/nginx/html', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      ],
    },
    {
      Id: TTY_ID,
      Names: ['/ttyc'],
      Image: `sha256:${hex('c')}`,
      ImageID: `sha256:${hex('c')}`,
      Command: 'sh',
      Created: nowSeconds - 40 * 60, // minutes: a second of drift between the two sides cannot show
      Ports: [],
      Labels: {},
      State: 'exited',
      Status: 'Exited (3) 10 seconds ago',
      HostConfig: { NetworkMode: 'none' },
      NetworkSettings: { Networks: {} },
      Mounts: [],
    },
    {
      Id: hex('d3').slice(0, 64),
      Names: ['/dig'],
      Image: `busybox@sha256:${hex('d')}`,
      ImageID: `sha256:${hex('9')}`,
      Command: 'echo "日本語 \t tabs"',
      Created: nowSeconds - 86400 * 20,
      Ports: [{ PrivatePort: 9000, Type: 'udp' }, { PrivatePort: 9001, Type: 'udp' }, { PrivatePort: 9002, Type: 'udp' }],
      Labels: null,
      State: 'created',
      Status: 'Created',
      HostConfig: { NetworkMode: 'default' },
      NetworkSettings: { Networks: { mynet: {} } },
      Mounts: [],
    },
  ];
}

/** Docker stats JSON for a container. */
export function statsSample(name: string, containerId: string, n = 0) {
  return {
    read: '2025-01-01T00:00:01.000000000Z',
    preread: '2025-01-01T00:00:00.000000000Z',
    name: `/${name}`,
    id: containerId,
    pids_stats: { current: 5 + n },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 4096000 },
        { major: 8, minor: 0, op: 'Write', value: 12288 },
        { major: 8, minor: 0, op: 'Total', value: 4108288 },
      ],
    },
    cpu_stats: { cpu_usage: { total_usage: 500_000_000 + n * 1e8, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 20_000_000_000 + n * 1e9, online_cpus: 4 },
    precpu_stats: { cpu_usage: { total_usage: 400_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 19_000_000_000, online_cpus: 4 },
    memory_stats: { usage: 52_428_800, limit: 2_147_483_648, stats: { total_inactive_file: 2_097_152, inactive_file: 2_097_152 } },
    networks: { eth0: { rx_bytes: 1536, tx_bytes: 648 }, eth1: { rx_bytes: 1_000_000, tx_bytes: 2_000_000 } },
  };
}

/** A tar of a small tree, as GET /archive sends one. */
export async function archiveOf(p: string): Promise<Buffer> {
  const pack = tar.pack();
  const mtime = new Date('2024-05-01T12:00:00Z');
  if (p.replace(/\/+$/, '') === '/data') {
    pack.entry({ name: 'data/', type: 'directory', mode: 0o755, mtime });
    pack.entry({ name: 'data/a.txt', mode: 0o644, mtime }, 'alpha\n');
    pack.entry({ name: 'data/sub/', type: 'directory', mode: 0o700, mtime });
    pack.entry({ name: 'data/sub/b.txt', mode: 0o600, mtime }, 'beta\n');
    pack.entry({ name: 'data/ln', type: 'symlink', linkname: 'a.txt', mode: 0o777, mtime });
  } else {
    pack.entry({ name: p.split('/').pop()!, mode: 0o644, mtime }, 'myhost\n');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Go os.FileMode bits of the paths the fake container has. */
export function pathStat(p: string): { name: string; size: number; mode: number; mtime: string; linkTarget: string } | undefined {
  const clean = p.replace(/\/+$/, '') || '/';
  const mtime = '2024-05-01T12:00:00Z';
  if (clean === '/data' || clean === '/' || clean === '/tmp') return { name: clean.split('/').pop() || '/', size: 4096, mode: 2 ** 31 + 0o755, mtime, linkTarget: '' };
  if (clean === '/etc/hostname') return { name: 'hostname', size: 7, mode: 0o644, mtime, linkTarget: '' };
  if (clean === '/link') return { name: 'link', size: 5, mode: 2 ** 27 + 0o777, mtime, linkTarget: '/data' };
  return undefined;
}

export function containerDaemon(api: FakeApi, opts: { images?: string[] } = {}): ContainerDaemon {
  const d: ContainerDaemon = { containers: new Map(), images: new Set(opts.images ?? ['busybox:latest']), execs: new Map() };
  let seq = 0;
  // two that are running from the start: "web" (no tty) and "ttyc"
  for (const [cid, name, tty] of [[WEB_ID, 'web', false], [TTY_ID, 'ttyc', true]] as const) {
    d.containers.set(cid, { id: cid, name, body: { Image: 'busybox', Tty: tty, OpenStdin: true, Cmd: ['cat'], HostConfig: {} }, state: 'running', exitCode: 0, attached: [], waiters: [] });
  }
  const find = (ref: string) => {
    for (const c of d.containers.values()) if (c.id === ref || c.id.startsWith(ref) || c.name === ref) return c;
    return undefined;
  };
  const byPath = (req: RecordedRequest) => find(decodeURIComponent(req.path.split('/')[2] ?? ''));
  const noSuch = (req: RecordedRequest) => apiError(404, `No such container: ${req.path.split('/')[2]}`);
  const finish = (c: FakeContainer, code: number) => {
    c.state = 'exited';
    c.exitCode = code;
    for (const a of c.attached) a.socket.end();
    c.attached = [];
    const autoRemove = c.body.HostConfig?.AutoRemove === true;
    if (autoRemove) d.containers.delete(c.id);
    for (const w of c.waiters) w.res.end(JSON.stringify({ StatusCode: code, Error: null }) + '\n');
    c.waiters = [];
  };

  api.route('POST', '/containers/create', (req, res) => {
    const body = JSON.parse(req.body.toString() || '{}') as Record<string, any>;
    const image = String(body.Image ?? '');
    const tagged = image.includes(':') ? image : `${image}:latest`;
    if (!d.images.has(tagged)) return apiError(404, `No such image: ${tagged}`)(req, res);
    const c: FakeContainer = { id: id(++seq), name: req.query.get('name') || `c${seq}`, body, state: 'created', exitCode: 0, attached: [], waiters: [] };
    d.containers.set(c.id, c);
    const warnings = body.HostConfig?.Memory && body.HostConfig.Memory < 6 * 1024 * 1024 ? ['Minimum memory limit allowed is 6MB'] : [];
    return json({ Id: c.id, Warnings: warnings }, 201)(req, res);
  });

  api.route('POST', '/images/create', (req, res) => {
    const from = (req.query.get('fromImage') ?? '').replace(/^docker\.io\/(library\/)?/, '');
    if (from === 'nope') return apiError(404, "pull access denied for nope, repository does not exist or may require 'docker login'")(req, res);
    d.images.add(`${from}:${req.query.get('tag') || 'latest'}`);
    return jsonLines(PULL_STREAM)(req, res);
  });

  api.route('GET', /^\/containers\/[^/]+\/json$/, (req, res) => {
    const c = byPath(req);
    if (!c) return noSuch(req)(req, res);
    return json({
      Id: c.id,
      Name: `/${c.name}`,
      State: { Status: c.state, Running: c.state === 'running', Paused: false, Restarting: false, ExitCode: c.exitCode },
      Config: { Tty: !!c.body.Tty, OpenStdin: !!c.body.OpenStdin, Cmd: c.body.Cmd ?? null, Image: c.body.Image },
      HostConfig: { AutoRemove: !!c.body.HostConfig?.AutoRemove },
    })(req, res);
  });

  api.upgrade('POST', /^\/containers\/[^/]+\/attach$/, (req, socket) => {
    const c = byPath(req);
    if (!c) return upgradeError(404, `No such container: ${req.path.split('/')[2]}`)(req, socket);
    upgraded(socket, !c.body.Tty);
    // the streams asked for: dockerd sends no stderr to an attach without stderr=1
    (socket as Socket & { streams?: Set<number> }).streams = new Set([req.query.get('stdout') === '1' ? 1 : 0, req.query.get('stderr') === '1' ? 2 : 0]);
    const attachment = { socket, stdin: req.query.get('stdin') === '1' };
    c.attached.push(attachment);
    // a running container echoes what it is sent until its stdin closes, then exits 0
    if (c.state === 'running' && attachment.stdin) {
      void runScript(['cat'], !!c.body.Tty, () => [socket], socket).then(() => finish(c, 0));
    }
  });

  api.route('GET', '/containers/json', (req, res) => json(containerList())(req, res));
  api.route('GET', '/info', json({ OSType: 'linux', Swarm: { ControlAvailable: false, LocalNodeState: 'inactive' } }));

  api.route('GET', /^\/containers\/[^/]+\/logs$/, (req, res) => {
    const c = byPath(req);
    if (!c) return noSuch(req)(req, res);
    res.writeHead(200, { 'Content-Type': c.body.Tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    const ts = req.query.get('timestamps') === '1' ? '2025-01-01T00:00:00.000000001Z ' : '';
    if (c.body.Tty) res.end(`${ts}tty line\r\n`);
    else res.end(Buffer.concat([frame(1, `${ts}line1\n`), frame(2, `${ts}warn1\n`), frame(1, `${ts}line2\n`)]));
  });

  api.route('GET', /^\/containers\/[^/]+\/top$/, (req, res) => {
    if (!byPath(req)) return noSuch(req)(req, res);
    return json({
      Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      Processes: [
        ['root', '4242', '4200', '0', '10:00', '?', '00:00:00', 'nginx: master process nginx -g daemon off;'],
        ['101', '4300', '4242', '0', '10:00', '?', '00:00:01', 'nginx: worker process'],
      ],
    })(req, res);
  });

  api.route('GET', /^\/containers\/[^/]+\/changes$/, (req, res) => {
    if (!byPath(req)) return noSuch(req)(req, res);
    return json([
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/nginx.conf', Kind: 1 },
      { Path: '/tmp/old', Kind: 2 },
    ])(req, res);
  });

  api.route('GET', /^\/containers\/[^/]+\/stats$/, (req, res) => {
    const c = byPath(req);
    if (!c) return noSuch(req)(req, res);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (req.query.get('stream') === '0') {
      res.end(JSON.stringify(statsSample(c.name, c.id)) + '\n');
      return;
    }
    // the same numbers every time, so that any frame shows the same table
    const tick = () => {
      if (res.destroyed) return;
      res.write(JSON.stringify(statsSample(c.name, c.id)) + '\n');
      setTimeout(tick, 200).unref();
    };
    tick();
  });

  api.route('GET', '/events', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
  });

  api.route('GET', /^\/containers\/[^/]+\/export$/, (req, res) => {
    if (!byPath(req)) return noSuch(req)(req, res);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    res.end(Buffer.from('EXPORTED-TAR'));
  });

  const statHeader = (p: string) => Buffer.from(JSON.stringify(pathStat(p))).toString('base64');
  api.route('HEAD', /^\/containers\/[^/]+\/archive$/, (req, res) => {
    const p = req.query.get('path') ?? '';
    if (!byPath(req) || !pathStat(p)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(p) });
    res.end();
  });
  api.route('GET', /^\/containers\/[^/]+\/archive$/, async (req, res) => {
    const p = req.query.get('path') ?? '';
    if (!byPath(req)) return noSuch(req)(req, res);
    if (!pathStat(p)) return apiError(404, `Could not find the file ${p} in container ${req.path.split('/')[2]}`)(req, res);
    const body = await archiveOf(p === '/link' ? '/data' : p);
    res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(p) });
    res.end(body);
  });
  api.route('PUT', /^\/containers\/[^/]+\/archive$/, (req, res) => {
    if (!byPath(req)) return noSuch(req)(req, res);
    res.writeHead(200);
    res.end();
  });

  api.route('POST', '/commit', (req, res) => {
    if (!find(req.query.get('container') ?? '')) return apiError(404, `No such container: ${req.query.get('container')}`)(req, res);
    return json({ Id: `sha256:${hex('f')}` }, 201)(req, res);
  });
  api.route('POST', '/containers/prune', json({ ContainersDeleted: [hex('1'), hex('2')], SpaceReclaimed: 123456789 }));
  api.route('POST', /^\/containers\/[^/]+\/update$/, (req, res) => {
    if (!byPath(req)) return noSuch(req)(req, res);
    return json({ Warnings: req.body.toString().includes('"Memory":0,') ? [] : ['Your kernel does not support swap limit capabilities'] })(req, res);
  });

  api.route('POST', /^\/containers\/[^/]+\/wait$/, (req, res) => {
    const c = byPath(req);
    if (!c) return noSuch(req)(req, res);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const condition = req.query.get('condition') ?? 'not-running';
    if (c.state === 'exited' && condition === 'not-running') {
      res.end(JSON.stringify({ StatusCode: c.exitCode, Error: null }) + '\n');
      return;
    }
    c.waiters.push({ res, condition });
  });

  api.route('POST', /^\/containers\/[^/]+\/start$/, (req, res) => {
    const c = byPath(req);
    if (!c) return noSuch(req)(req, res);
    const cmd: string[] = c.body.Cmd ?? [];
    if (cmd[0] === 'missing') {
      const msg = 'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "missing": executable file not found in $PATH: unknown';
      return apiError(400, msg)(req, res);
    }
    if (cmd[0] === 'noperm') return apiError(400, 'failed to create task for container: exec: "/etc": permission denied: unknown')(req, res);
    c.state = 'running';
    res.writeHead(204);
    res.end();
    const stdin = c.attached.find((a) => a.stdin)?.socket;
    void (async () => {
      await sleep(20);
      const code = await runScript(cmd, !!c.body.Tty, () => c.attached.map((a) => a.socket), stdin);
      finish(c, code);
    })();
  });

  for (const op of ['stop', 'restart', 'kill', 'pause', 'unpause', 'resize', 'rename']) {
    api.route('POST', new RegExp(`^/containers/[^/]+/${op}$`), (req, res) => {
      const c = byPath(req);
      if (!c) return noSuch(req)(req, res);
      res.writeHead(op === 'resize' ? 200 : 204);
      res.end();
    });
  }

  api.route('DELETE', /^\/containers\/[^/]+$/, (req, res) => {
    const c = byPath(req);
    if (!c) return noSuch(req)(req, res);
    if (c.state === 'running' && req.query.get('force') !== '1') {
      return apiError(409, `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`)(req, res);
    }
    d.containers.delete(c.id);
    res.writeHead(204);
    res.end();
  });

  let execSeq = 0;
  api.route('POST', /^\/containers\/[^/]+\/exec$/, (req, res) => {
    const c = byPath(req);
    if (!c) return noSuch(req)(req, res);
    const execId = id(100 + ++execSeq);
    d.execs.set(execId, { container: c.id, body: JSON.parse(req.body.toString()), exitCode: 0 });
    return json({ Id: execId }, 201)(req, res);
  });
  const execRun = (execId: string, out: () => Socket[], stdin: Socket | undefined) => {
    const e = d.execs.get(execId)!;
    return runScript(e.body.Cmd ?? [], !!e.body.Tty, out, stdin).then((code) => {
      e.exitCode = code;
      return code;
    });
  };
  api.upgrade('POST', /^\/exec\/[^/]+\/start$/, (req, socket) => {
    const execId = req.path.split('/')[2]!;
    const e = d.execs.get(execId);
    if (!e) return upgradeError(404, `No such exec instance: ${execId}`)(req, socket);
    upgraded(socket, !e.body.Tty);
    void execRun(execId, () => [socket], e.body.AttachStdin ? socket : undefined).then(() => socket.end());
  });
  api.route('POST', /^\/exec\/[^/]+\/start$/, (req, res) => {
    const execId = req.path.split('/')[2]!;
    if (!d.execs.has(execId)) return apiError(404, `No such exec instance: ${execId}`)(req, res);
    void execRun(execId, () => [], undefined);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end();
  });
  api.route('GET', /^\/exec\/[^/]+\/json$/, (req, res) => {
    const e = d.execs.get(req.path.split('/')[2]!);
    if (!e) return apiError(404, 'No such exec instance')(req, res);
    return json({ ID: req.path.split('/')[2], Running: false, ExitCode: e.exitCode, ContainerID: e.container, Pid: 0 })(req, res);
  });
  api.route('POST', /^\/exec\/[^/]+\/resize$/, (_req, res) => {
    res.writeHead(200);
    res.end();
  });
  return d;
}
