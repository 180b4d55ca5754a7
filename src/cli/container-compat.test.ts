// The container commands against the scripted container daemon, run by the
// real docker CLI and by joey: the same bytes out, the same exit codes.
// Skipped without docker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { startFakeApi } from '../client/fake-api.ts';
import type { FakeApi } from '../client/fake-api.ts';
import { containerDaemon } from './fake-containers.ts';
import { DOCKER_BIN, dockerAvailable, runDocker, runJoey } from './testing.ts';
import type { RunResult } from './testing.ts';

const skip = !dockerAvailable() && 'docker CLI not installed';

interface Case {
  argv: string[];
  stdin?: string;
}

/** Runs one side against a fresh daemon; the daemon's messages stay as they are. */
async function side(who: 'docker' | 'joey', argv: string[], stdin?: string, prepare?: (api: FakeApi) => void): Promise<RunResult & { api: FakeApi }> {
  const api = await startFakeApi();
  containerDaemon(api);
  prepare?.(api);
  const r =
    who === 'docker'
      ? await runDocker(argv, { host: api.host, stdin })
      : await runJoey(argv, { host: api.host, stdin: stdin ?? '', env: { JOEY_CONFIG: '/nonexistent-joey-config' } });
  await api.close();
  return { ...r, api };
}

async function compare(cases: Case[]): Promise<void> {
  for (const c of cases) {
    const docker = await side('docker', c.argv, c.stdin);
    const joey = await side('joey', c.argv, c.stdin);
    assert.deepEqual(
      { code: joey.code, stdout: joey.stdout, stderr: joey.stderr },
      { code: docker.code, stdout: docker.stdout, stderr: docker.stderr.replace(/\bdocker\b(?! login')/g, 'joey') },
      c.argv.join(' '),
    );
  }
}

test('run: output, exit codes (0, 3, 125, 126, 127), pulls, -d, -i, --rm, -t', { skip }, async () => {
  await compare([
    { argv: ['run', 'busybox', 'echo:hello', 'err:oops', 'exit:3'] },
    { argv: ['run', 'busybox', 'echo:fine'] },
    { argv: ['container', 'run', '--rm', 'busybox', 'echo:x', 'exit:2'] },
    { argv: ['run', '-d', 'busybox', 'echo:x'] },
    { argv: ['run', '-t', 'busybox', 'echo:hi', 'err:e'] },
    { argv: ['run', '-i', 'busybox', 'cat', 'exit:5'], stdin: 'line1\nline2\n' },
    { argv: ['run', '-a', 'stdout', 'busybox', 'echo:o', 'err:e'] },
    { argv: ['run', 'busybox', 'missing'] },
    { argv: ['run', 'busybox', 'noperm'] },
    { argv: ['run', '-d', 'busybox', 'missing'] },
    { argv: ['run', 'alpine', 'echo:pulled'] },
    { argv: ['run', '-q', 'alpine', 'echo:quiet'] },
    { argv: ['run', '--pull', 'never', 'alpine'] },
    { argv: ['run', '--pull', 'always', 'busybox', 'exit:0'] },
    { argv: ['run', '-m', '1m', '--dns', '127.0.0.1', 'busybox'] },
    { argv: ['run', '--detach', '-a', 'stdout', 'busybox'] },
    { argv: ['run', '-it', 'busybox'] },
    { argv: ['run', '--pull', 'bogus', 'busybox'] },
    { argv: ['run', '-m', 'x', 'busybox'] },
    { argv: ['run', '--rm', '--restart', 'always', 'busybox'] },
    { argv: ['run'] },
    { argv: ['create', 'busybox'] },
    { argv: ['create', '--name', 'x', 'Busybox'] },
    { argv: ['create', '--platform', 'a/b/c/d', 'busybox'] },
  ]);
});

test('exec, start, attach: streams and exit codes', { skip }, async () => {
  await compare([
    { argv: ['exec', 'web', 'echo:hi', 'err:e', 'exit:4'] },
    { argv: ['exec', '-i', 'web', 'cat'], stdin: 'a\nb\n' },
    { argv: ['exec', '-t', 'ttyc', 'echo:tty', 'err:e'] },
    { argv: ['exec', '-d', 'web', 'echo:hi'] },
    { argv: ['exec', 'nope', 'x'] },
    { argv: ['exec', 'web'] },
    { argv: ['exec', '-e', '=x'] },
    { argv: ['exec', '-it', 'web', 'sh'] },
    { argv: ['exec', '-e', 'A=1', '-u', 'root', '-w', '/tmp', '--privileged', 'web', 'exit:0'] },
    { argv: ['start', 'web', 'nope'] },
    { argv: ['start', '-a', 'web', 'nope'] },
    { argv: ['attach', 'nope'] },
    { argv: ['attach', 'web'], stdin: 'echoed\n' },
  ]);
});

test('ps: docker\'s table, --format, sizes, quiet, filters', { skip }, async () => {
  await compare([
    { argv: ['ps'] },
    { argv: ['ps', '-a', '--no-trunc'] },
    { argv: ['ps', '-q'] },
    { argv: ['ps', '-s'] },
    { argv: ['container', 'ls', '--format', '{{.Names}} {{.Label "com.example.tier"}} {{.Mounts}} {{.LocalVolumes}} {{.Networks}}'] },
    { argv: ['ps', '--format', 'json'] },
    { argv: ['ps', '--format', 'table {{.ID}}\\t{{.Size}}\\t{{.Labels}}'] },
    { argv: ['ps', '--format', 'raw'] },
    { argv: ['ps', '--format', '{{.Nope}}'] },
    { argv: ['ps', '--format', '{{'] },
    { argv: ['ps', '-q', '--format', '{{.Names}}'] },
    { argv: ['ps', '-n', '2', '-f', 'status=running', '-f', 'label=a=b'] },
    { argv: ['container', 'list', '-l', '--format', '{{.Ports}}|{{.Command}}|{{.Image}}|{{.State}}|{{.Status}}'] },
    { argv: ['ps', '-n', 'x'] },
    { argv: ['ps', 'extra'] },
  ]);
});

test('stats --no-stream, logs, top, diff, inspect', { skip }, async () => {
  await compare([
    { argv: ['stats', '--no-stream', 'web', 'ttyc'] },
    { argv: ['stats', '--no-stream', '--no-trunc', 'web'] },
    { argv: ['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.BlockIO}} {{.PIDs}} {{.Container}}', 'web'] },
    { argv: ['stats', '--no-stream', '--format', 'json', 'web'] },
    { argv: ['stats', '--no-stream', 'nope', 'web', 'also'] },
    { argv: ['stats', '--no-stream'] },
    { argv: ['stats', '-a', '--no-stream', '--format', '{{.Container}} {{.Name}} {{.CPUPerc}}'] },
    { argv: ['logs', 'web'] },
    { argv: ['logs', '-t', '--tail', '10', '--since', '2024-01-01T00:00:00Z', '--until', '10m', 'web'] },
    { argv: ['logs', 'ttyc'] },
    { argv: ['logs', 'nope'] },
    { argv: ['logs', '--since', 'garbage', 'web'] },
    { argv: ['top', 'web'] },
    { argv: ['top', 'web', 'aux'] },
    { argv: ['diff', 'web'] },
    { argv: ['diff', 'nope'] },
    { argv: ['inspect', 'nope'] },
    { argv: ['inspect', '-f', '{{.Name}} {{.State.Running}} {{.Config.Tty}}', 'web', 'ttyc'] },
    { argv: ['inspect', '--type', 'bogus', 'x'] },
    { argv: ['container', 'inspect', 'nope', 'web'] },
  ]);
});

test('stop, restart, kill, rm, pause, rename, wait, update, commit, prune, export', { skip }, async () => {
  await compare([
    { argv: ['stop', 'web', 'nope', 'ttyc'] },
    { argv: ['stop', '-t', '5', '-s', 'SIGTERM', 'web'] },
    { argv: ['stop', '--time', '3', 'web'] },
    { argv: ['stop', '--time', '3', '-t', '4', 'web'] },
    { argv: ['stop', '-t', 'x', 'web'] },
    { argv: ['restart', 'web', 'nope'] },
    { argv: ['kill', '-s', 'HUP', 'web', 'nope'] },
    { argv: ['rm', 'nope'] },
    { argv: ['rm', '-f', 'nope', 'web'] },
    { argv: ['container', 'remove', 'web'] },
    { argv: ['rm', '/'] },
    { argv: ['pause', 'web', 'nope'] },
    { argv: ['unpause', 'web'] },
    { argv: ['rename', 'web', 'new'] },
    { argv: ['rename', 'nope', 'new'] },
    { argv: ['rename', ' ', 'new'] },
    { argv: ['wait', 'nope'] },
    { argv: ['update', 'web'] },
    { argv: ['update', '-m', '512m', 'web', 'nope'] },
    { argv: ['update', '--memory', '0', '--restart', 'always', '--pids-limit', '5', '--cpus', '2', 'web'] },
    { argv: ['update', '--restart', 'on-failure:x', 'web'] },
    { argv: ['commit', 'web'] },
    { argv: ['commit', '-a', 'me', '-m', 'msg', '-c', 'ENV A=1', '--pause=false', 'web', 'repo/x:v1'] },
    { argv: ['commit', 'web', 'Bad'] },
    { argv: ['commit', 'nope'] },
    { argv: ['container', 'prune', '-f', '--filter', 'until=24h'] },
    { argv: ['container', 'prune'], stdin: 'y\n' },
    { argv: ['container', 'prune'], stdin: 'n\n' },
    { argv: ['export', 'web'] },
    { argv: ['export', 'nope'] },
    { argv: ['export', '-o', '/nonexistent/x.tar', 'web'] },
  ]);
});

/** docker sends filters as {"k":{"v":true}}, joey as the API documents them, {"k":["v"]}. */
function normalizeFilters([k, v]: [string, string]): [string, string] {
  if (k !== 'filters') return [k, v];
  const f = JSON.parse(v) as Record<string, string[] | Record<string, boolean>>;
  return [k, JSON.stringify(Object.fromEntries(Object.entries(f).map(([n, x]) => [n, Array.isArray(x) ? x : Object.keys(x)])))];
}

test('the API calls match too: attach, then wait, then start; bodies and queries', { skip }, async () => {
  for (const argv of [
    ['run', '--rm', '-i', 'busybox', 'cat'],
    ['exec', '-i', '-e', 'X=1', 'web', 'cat'],
    ['update', '--cpus', '1.5', '-m', '64m', '--restart', 'on-failure:2', 'web'],
    ['commit', '-c', 'CMD ["sh"]', '-p=false', 'web', 'foo'],
    ['ps', '-a', '-n', '3', '-f', 'name=web'],
  ]) {
    const calls = async (who: 'docker' | 'joey') => {
      const r = await side(who, argv, 'x\n');
      return r.api.requests
        .filter((q) => !['/info', '/version'].includes(q.path))
        .map((q) => ({ method: q.method, path: q.path, query: [...q.query].map(normalizeFilters).sort(), body: q.body.length ? JSON.parse(q.body.toString()) : undefined }));
    };
    assert.deepEqual(await calls('joey'), await calls('docker'), argv.join(' '));
  }
});

// ---------------------------------------------------------------- cp

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = lstatSync(p);
      const r = rel ? `${rel}/${n}` : n;
      if (st.isSymbolicLink()) out.push(`L ${r} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`D ${r} ${(st.mode & 0o7777).toString(8)} ${st.mtime.toISOString()}`);
        walk(p, r);
      } else out.push(`F ${r} ${(st.mode & 0o7777).toString(8)} ${JSON.stringify(readFileSync(p, 'utf8'))} ${st.mtime.toISOString()}`);
    }
  };
  walk(dir, '');
  return out;
}

async function tarEntries(buf: Buffer): Promise<string[]> {
  const out: string[] = [];
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex);
  for await (const e of ex) {
    let body = '';
    for await (const c of e) body += c;
    const h = e.header;
    out.push(`${h.type} ${h.name} ${(h.mode ?? 0).toString(8)} ${h.linkname ?? ''} ${JSON.stringify(body)}`);
  }
  return out;
}

test('cp both ways: the same tar sent, the same files written', { skip }, async () => {
  const cases = [
    ['cp', '@W/src', 'web:/tmp'],
    ['cp', '@W/src/f.txt', 'web:/tmp/newname'],
    ['cp', '@W/src/.', 'web:/data'],
    ['cp', '@W/srclink', 'web:/tmp'],
    ['cp', '-L', '@W/srclink', 'web:/tmp'],
    ['container', 'cp', '-a', '@W/src/f.txt', 'web:/data/'],
    ['cp', '@W/src', 'web:/etc/hostname'],
    ['cp', '@W/missing', 'web:/tmp'],
    ['cp', 'web:/data', '@W/out'],
    ['cp', 'web:/data', '@W/out/renamed'],
    ['cp', 'web:/data/.', '@W/out'],
    ['cp', 'web:/etc/hostname', '@W/out/h'],
    ['cp', 'web:/etc/hostname', '@W/out/nodir/'],
    ['cp', 'web:/data', '@W/existing'],
    ['cp', 'web:/link', '@W/out'],
    ['cp', '-L', 'web:/link', '@W/out'],
    ['cp', 'web:/etc/hostname', '@W/nodir/x'],
    ['cp', 'web:/nope', '@W/out'],
    ['cp', '-q=false', 'web:/etc/hostname', '@W/out'],
    ['cp', '-q=false', '@W/src/f.txt', 'web:/tmp'],
    ['cp', 'web:/a', 'web:/b'],
    ['cp', 'a', 'b'],
  ];
  for (const c of cases) {
    const results = [];
    for (const who of ['docker', 'joey'] as const) {
      const w = mkdtempSync(path.join(os.tmpdir(), 'joey-cp-'));
      try {
        mkdirSync(path.join(w, 'src/sub'), { recursive: true });
        writeFileSync(path.join(w, 'src/f.txt'), 'hello\n');
        writeFileSync(path.join(w, 'src/sub/g.txt'), 'world\n');
        symlinkSync('f.txt', path.join(w, 'src/lnk'));
        symlinkSync('src', path.join(w, 'srclink'));
        mkdirSync(path.join(w, 'out'));
        writeFileSync(path.join(w, 'existing'), 'x');
        const argv = c.map((a) => a.replaceAll('@W', w));
        const r = await side(who, argv);
        const put = r.api.requests.find((q) => q.method === 'PUT');
        results.push({
          code: r.code,
          stderr: r.stderr.replaceAll(w, '@W').replace(/\bdocker\b/g, 'joey'),
          put: put ? { query: [...put.query].sort().map(([k, v]) => `${k}=${v}`), entries: await tarEntries(put.body) } : undefined,
          out: tree(path.join(w, 'out')),
        });
      } finally {
        rmSync(w, { recursive: true, force: true });
      }
    }
    // docker logs its own tar writer's complaints when the copy is refused
    results[0]!.stderr = results[0]!.stderr.replace(/^time=.*\n/gm, '');
    assert.deepEqual(results[1], results[0], c.join(' '));
  }
});

// ---------------------------------------------------------------- stats streaming

/** Runs a CLI for a while, then stops it; gives what it printed. */
function runFor(cmd: string, args: string[], env: Record<string, string | undefined>, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH, TZ: process.env.TZ, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => resolve(out));
  });
}

test('stats streams: each frame redrawn in place as docker draws it', { skip }, async (t) => {
  const api = await startFakeApi();
  containerDaemon(api);
  t.after(() => api.close());
  const cfg = mkdtempSync(path.join(os.tmpdir(), 'joey-stats-'));
  t.after(() => rmSync(cfg, { recursive: true, force: true }));
  const main = path.join(import.meta.dirname, 'main.ts');
  const [docker, joey] = await Promise.all([
    runFor(DOCKER_BIN, ['stats', 'web', 'ttyc'], { DOCKER_HOST: api.host, DOCKER_CONFIG: cfg, HOME: cfg }, 1800),
    runFor(process.execPath, ['--import', 'tsx', main, 'stats', 'web', 'ttyc'], { JOEY_HOST: api.host, JOEY_CONFIG: cfg, HOME: cfg }, 2500),
  ]);
  const firstFrame = (s: string) => {
    const end = s.indexOf('\x1b[J');
    assert.ok(end > 0, `a whole frame in ${JSON.stringify(s)}`);
    return s.slice(0, end + 3);
  };
  const frame = firstFrame(joey);
  assert.equal(frame, firstFrame(docker));
  assert.match(frame, /^\x1b\[HCONTAINER ID {3}NAME {6}CPU %/);
  assert.match(frame, / \x1b\[K\n\x1b\[J$/);
});

// ---------------------------------------------------------------- a real terminal

/** Runs a command on a pseudo-terminal (30 rows, 100 columns) and types
 * the steps, timed from a line on its own stdin; gives the exit code and
 * what the terminal showed. */
const PTY_HARNESS = `
import os, pty, sys, time, select, json, fcntl, termios, struct
steps = json.loads(sys.argv[1]); cmd = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(cmd[0], cmd, os.environ)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
out = b''; start = time.time(); si = 0; go = None
while True:
    if go is not None and si < len(steps) and time.time() - go >= steps[si][0]:
        os.write(fd, steps[si][1].encode()); si += 1
    watch = [fd] + ([sys.stdin] if go is None else [])
    r, _, _ = select.select(watch, [], [], 0.05)
    if sys.stdin in r:
        sys.stdin.readline(); go = time.time(); continue
    if r:
        try: data = os.read(fd, 4096)
        except OSError: break
        if not data: break
        out += data
    if time.time() - start > 30: os.kill(pid, 9); break
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "out": out.decode(errors='replace')}))
`;

async function onTerminal(who: 'docker' | 'joey', steps: Array<[number, string]>, argv: string[]) {
  const api = await startFakeApi();
  containerDaemon(api);
  const cfg = mkdtempSync(path.join(os.tmpdir(), 'joey-pty-'));
  try {
    const cmd = who === 'docker' ? [DOCKER_BIN, ...argv] : [process.execPath, '--import', 'tsx', path.join(import.meta.dirname, 'main.ts'), ...argv];
    const env = { PATH: process.env.PATH, TERM: 'xterm', HOME: cfg, DOCKER_HOST: api.host, DOCKER_CONFIG: cfg, JOEY_HOST: api.host, JOEY_CONFIG: cfg };
    const child = spawn('python3', ['-c', PTY_HARNESS, JSON.stringify(steps), ...cmd], { env, cwd: path.join(import.meta.dirname, '../..') });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const closed = new Promise((r) => child.on('close', r));
    // start typing once the CLI holds the attach (and has had time to go raw)
    const attached = () => api.requests.some((q) => q.path.endsWith('/attach') || /^\/exec\/.*\/start$/.test(q.path));
    const ready = (async () => {
      for (let i = 0; i < 300 && !attached(); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      child.stdin.write('go\n');
    })();
    await Promise.race([closed, ready]);
    await closed;
    const result = JSON.parse(out) as { code: number; out: string };
    const calls = api.requests.map((q) => `${q.method} ${q.path.replace(/[0-9a-f]{64}/, 'ID')} ${[...q.query].sort().map(([k, v]) => `${k}=${v}`).join('&')}`);
    const create = api.requests.find((q) => q.path === '/containers/create');
    return { ...result, calls, consoleSize: create ? JSON.parse(create.body.toString()).HostConfig.ConsoleSize : undefined };
  } finally {
    await api.close();
    rmSync(cfg, { recursive: true, force: true });
  }
}

test('on a terminal: raw mode, the TTY size, detach keys, as docker', { skip: skip || (onPath('python3') ? false : 'python3 not installed') }, async () => {
  const CTRL_P_Q = '\u0010\u0011';
  const cases: Array<{ steps: Array<[number, string]>; argv: string[] }> = [
    { steps: [[0, 'hello'], [0.5, CTRL_P_Q]], argv: ['run', '-it', 'busybox', 'cat', 'exit:9'] },
    { steps: [], argv: ['run', '-t', 'busybox', 'echo:hi', 'exit:3'] },
    { steps: [[0, 'abc'], [0.5, '\u0001x']], argv: ['attach', '--detach-keys', 'ctrl-a,x', 'ttyc'] },
    { steps: [[0, 'typed'], [0.5, CTRL_P_Q]], argv: ['exec', '-it', 'ttyc', 'cat'] },
  ];
  for (const c of cases) {
    const [docker, joey] = await Promise.all([onTerminal('docker', c.steps, c.argv), onTerminal('joey', c.steps, c.argv)]);
    assert.deepEqual(joey, { ...docker, out: docker.out.replace(/\bdocker\b/g, 'joey') }, c.argv.join(' '));
  }
});

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      return lstatSync(path.join(dir, cmd)).isFile() || lstatSync(path.join(dir, cmd)).isSymbolicLink();
    } catch {
      return false;
    }
  });
}
