// Rich containers (--rich, --rich-mode, --initscript; the Rich, RichMode and
// InitScript fields of the create API), driven by the docker CLI and the joey
// CLI against a private daemon, and checked from outside the container: the
// processes of its PID namespace as the host sees them, its logs, its stop.
//
// Images: a busybox rootfs with /sbin/init (made here in a second) for the
// dumb-init and sbin-init modes; a Debian bookworm rootfs with systemd,
// sshd, cron and rsyslog made with debootstrap (about a minute, once per
// machine, cached under /var/cache/joey-test/rootfs/), both `docker import`ed.
// Every container runs with --network none: sshd is reached through the
// container's own network namespace (nsenter), never from the host's.
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { removeAllContainers, startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import type { Daemon } from './lib/daemon.ts';
import { cmdline, namespaceOf, procStat } from './lib/host.ts';
import { makeTempDir, removeDir, run, sleep, waitFor, type CmdOptions, type CmdResult } from './lib/proc.ts';
import { busyboxInitTar, systemdRootfsTar } from './lib/rich-images.ts';

let cd: ContainerDaemon | undefined;
let d: Daemon;
let work: string;
let scripts: string;
const BUSYBOX = 'rich-busybox:latest';
const SYSTEMD = 'rich-systemd:latest';

before(async () => {
  work = await makeTempDir('joey-it-rich-');
  cd = await startContainerDaemon('rich');
  d = cd.d;
  const tar = await busyboxInitTar(work);
  await d.dockerOk(['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', tar, BUSYBOX], { timeoutMs: 60_000 });
  // Host-side scripts bound into containers (init scripts, a zombie maker).
  scripts = join(work, 'scripts');
  await run('mkdir', ['-p', scripts]);
  const script = async (name: string, body: string): Promise<void> => {
    await writeFile(join(scripts, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(scripts, name), 0o755);
  };
  await script('ok.sh', 'echo prepared-by-initscript > /tmp/initscript-ran; echo init script ran');
  await script('fail.sh', 'echo "checking the database..."; echo "database unreachable: giving up" >&2; exit 3');
  // Leaves orphans: each background sleep's parent (a subshell) exits at
  // once, so the sleep is re-parented to PID 1, which must reap it.
  await script('zombies.sh', 'for i in 1 2 3 4 5; do (sleep 0.2 &); done; exec sleep 1000');
});

after(async () => {
  await teardownContainerDaemon(cd);
  if (work) await removeDir(work);
});

afterEach(async () => {
  if (d?.running) await removeAllContainers(d);
});

function it(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

let counter = 0;
const nm = (what: string): string => `rich-${what}-${++counter}`;
const dk = (args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000, ...opts });
const dkOk = (args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000, ...opts });
// The docker CLI has no --rich flags: containers are made with the joey CLI.
const jk = (args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.joey(args, { timeoutMs: 60_000, ...opts });
const jOk = (args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.joeyOk(args, { timeoutMs: 60_000, ...opts });

async function inspect(name: string): Promise<any> {
  const [c] = await d.dockerJson<any[]>(['container', 'inspect', name], { timeoutMs: 30_000 });
  return c;
}

async function pidOf(name: string): Promise<number> {
  const s = (await inspect(name)).State;
  assert.ok(s.Running && s.Pid > 0, `${name} is not running: ${JSON.stringify(s)}`);
  return s.Pid;
}

interface NsProc {
  pid: number;
  state: string;
  ppid: number;
  cmdline: string;
}

/** The processes of a container's PID namespace, as the host sees them. */
async function processesOf(pid1: number): Promise<NsProc[]> {
  const ns = await namespaceOf(pid1, 'pid');
  const out: NsProc[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const theirs = await readlink(`/proc/${pid}/ns/pid`).catch(() => undefined);
    if (theirs !== ns) continue;
    const st = await procStat(pid);
    if (!st) continue;
    out.push({ pid, state: st.state, ppid: st.ppid, cmdline: await cmdline(pid) });
  }
  return out;
}

const zombies = (ps: NsProc[]): NsProc[] => ps.filter((p) => p.state === 'Z');

async function timedStop(name: string, timeout = 10): Promise<number> {
  const t0 = performance.now();
  await dkOk(['stop', '-t', String(timeout), name], { timeoutMs: (timeout + 30) * 1000 });
  return (performance.now() - t0) / 1000;
}

describe('rich: the API and CLI fields', () => {
  it('Rich, RichMode and InitScript are accepted in the create body and shown back in Config', async () => {
    const name = nm('api');
    const r = await d.api('POST', `/containers/create?name=${name}`, { Image: BUSYBOX, Cmd: ['sleep', '100'], Rich: true, InitScript: '/scripts/ok.sh' });
    assert.equal(r.status, 201, r.text);
    const c = await inspect(name);
    assert.equal(c.Config.Rich, true);
    assert.equal(c.Config.RichMode, 'dumb-init', 'dumb-init is the default mode');
    assert.equal(c.Config.InitScript, '/scripts/ok.sh');

    const bad = await d.api('POST', '/containers/create', { Image: BUSYBOX, Rich: true, RichMode: 'upstart' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /RichMode.*upstart.*dumb-init, sbin-init, systemd/);
    const noRich = await d.api('POST', '/containers/create', { Image: BUSYBOX, RichMode: 'systemd' });
    assert.equal(noRich.status, 400, noRich.text);
    assert.match(noRich.text, /needs Rich/);
    const wrongType = await d.api('POST', '/containers/create', { Image: BUSYBOX, Rich: 'yes' });
    assert.equal(wrongType.status, 400, wrongType.text);
  });

  it('joey create --rich --rich-mode --initscript records them', async () => {
    const name = nm('cli');
    await d.joeyOk(['create', '--name', name, '--rich', '--rich-mode', 'sbin-init', '--initscript', '/scripts/ok.sh', BUSYBOX, 'sleep', '100'], { timeoutMs: 60_000 });
    const c = await inspect(name);
    assert.deepEqual([c.Config.Rich, c.Config.RichMode, c.Config.InitScript], [true, 'sbin-init', '/scripts/ok.sh']);
    assert.equal(c.Config.StopSignal, 'SIGUSR2', 'busybox init powers off on SIGUSR2');
    const f = await d.joeyOk(['inspect', '--format', '{{.Config.Rich}} {{.Config.RichMode}}', name]);
    assert.equal(f.stdout.trim(), 'true sbin-init');
  });
});

describe('rich: dumb-init mode', () => {
  it('a static init from the host is PID 1 and reaps the orphans the command leaves', async () => {
    const rich = nm('reap');
    const plain = nm('noreap');
    await jOk(['run', '-d', '--name', rich, '--network', 'none', '--rich', '-v', `${scripts}:/scripts:ro`, BUSYBOX, '/scripts/zombies.sh']);
    await dkOk(['run', '-d', '--name', plain, '--network', 'none', '-v', `${scripts}:/scripts:ro`, BUSYBOX, '/scripts/zombies.sh']);
    const richPid = await pidOf(rich);
    const plainPid = await pidOf(plain);
    assert.match(await cmdline(richPid), /docker-init -- \/scripts\/zombies\.sh/);
    // Without an init, PID 1 is `sleep`, which never waits: the orphans stay zombies.
    await waitFor('zombies in the container without init', async () => zombies(await processesOf(plainPid)).length === 5, 10_000);
    await sleep(500);
    const ps = await processesOf(richPid);
    assert.deepEqual(zombies(ps), [], `no zombies under the rich init:\n${JSON.stringify(ps, null, 1)}`);
    assert.ok(ps.some((p) => /^sleep 1000/.test(p.cmdline)), 'the command runs under the init');
    // stop: SIGTERM is forwarded to the command, and the init exits with it.
    const secs = await timedStop(rich);
    assert.ok(secs < 5, `stop took ${secs}s`);
    const c = await inspect(rich);
    assert.equal(c.State.Running, false);
    assert.equal(c.State.ExitCode, 143, 'the command died of the forwarded SIGTERM');
  });

  it('exec, kill and logs work as in a plain container', async () => {
    const name = nm('ops');
    await jOk(['run', '-d', '--name', name, '--network', 'none', '--rich', BUSYBOX, 'sh', '-c', 'echo hello from the command; trap "echo got USR1" USR1; while :; do sleep 0.1; done']);
    const ex = await dkOk(['exec', name, 'sh', '-c', 'echo exec-ok; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.match(ex.stdout, /exec-ok\n\/sbin\/docker-init -- sh -c/);
    await dkOk(['kill', '-s', 'USR1', name]);
    await waitFor('the forwarded signal', async () => /got USR1/.test((await dk(['logs', name])).stdout), 10_000);
    assert.match((await dkOk(['logs', name])).stdout, /hello from the command/);
    await dkOk(['kill', name]);
    await waitFor('the container to die', async () => !(await inspect(name)).State.Running, 10_000);
    assert.equal((await inspect(name)).State.ExitCode, 137);
  });
});

describe('rich: init script and environment', () => {
  it('the init script runs before the command', async () => {
    const name = nm('initok');
    await jOk(['run', '-d', '--name', name, '--network', 'none', '--rich', '--initscript', '/scripts/ok.sh', '-v', `${scripts}:/scripts:ro`, BUSYBOX, 'sh', '-c', 'cat /tmp/initscript-ran; exec sleep 1000']);
    await waitFor('the command to see what the init script wrote', async () => /prepared-by-initscript/.test((await dk(['logs', name])).stdout), 10_000);
  });

  it('a failing init script fails the start with its output', async () => {
    const name = nm('initfail');
    const r = await jk(['run', '-d', '--name', name, '--network', 'none', '--rich', '--initscript', '/scripts/fail.sh', '-v', `${scripts}:/scripts:ro`, BUSYBOX, 'sh', '-c', 'echo the command ran; sleep 1000']);
    assert.notEqual(r.code, 0, d.diagnose(r));
    assert.match(r.stderr, /init script \/scripts\/fail\.sh failed with exit code 3/, d.diagnose(r));
    assert.match(r.stderr, /database unreachable: giving up/, d.diagnose(r));
    assert.match(r.stderr, /checking the database/, d.diagnose(r));
    const c = await inspect(name);
    assert.equal(c.State.Running, false);
    assert.match(c.State.Error, /database unreachable/);
    assert.doesNotMatch((await dk(['logs', name])).stdout, /the command ran/);
    // A missing script is a clear error too.
    const missing = await jk(['run', '-d', '--network', 'none', '--rich', '--initscript', '/nope.sh', BUSYBOX, 'sleep', '1000']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /init script \/nope\.sh could not run/, d.diagnose(missing));
  });

  it('the container environment reaches login shells', async () => {
    const name = nm('env');
    await jOk(['run', '-d', '--name', name, '--network', 'none', '--rich', '-e', 'GREETING=hello rich world', '-e', "QUOTED=it's", BUSYBOX, 'sleep', '1000']);
    // env -i: nothing inherited from exec; only the login shell's profile can set it.
    const r = await dkOk(['exec', name, 'env', '-i', '/bin/sh', '-l', '-c', 'echo "[$GREETING] [$QUOTED]"']);
    assert.equal(r.stdout.trim(), "[hello rich world] [it's]");
    const envFile = await dkOk(['exec', name, 'cat', '/etc/environment']);
    assert.match(envFile.stdout, /^GREETING="hello rich world"$/m);
  });
});

describe('rich: sbin-init mode (busybox init)', () => {
  it('the image\'s init is PID 1 and respawns the command; stop is clean', async () => {
    const name = nm('sbin');
    await jOk(['run', '-d', '--name', name, '--network', 'none', '--rich', '--rich-mode', 'sbin-init', '-e', 'WHO=busybox', BUSYBOX, 'sh', '-c', 'echo "command up as $WHO"; exec sleep 1000']);
    const pid1 = await pidOf(name);
    assert.match(await cmdline(pid1), /^(\/sbin\/)?init$/, 'busybox init (it names itself "init")');
    const first = await waitFor('the command under init', async () => (await processesOf(pid1)).find((p) => p.cmdline === 'sleep 1000'), 10_000);
    assert.equal(first.ppid, pid1, 'init is the command\'s parent');
    // Killed from outside, it comes back.
    process.kill(first.pid, 'SIGKILL');
    const second = await waitFor('the command to be respawned', async () => (await processesOf(pid1)).find((p) => p.cmdline === 'sleep 1000' && p.pid !== first.pid), 10_000);
    assert.equal(second.ppid, pid1);
    await waitFor('two starts in the log', async () => ((await dk(['logs', name])).stdout.match(/command up as busybox/g) ?? []).length >= 2, 10_000);
    assert.deepEqual(zombies(await processesOf(pid1)), []);
    const ex = await dkOk(['exec', name, 'cat', '/etc/inittab']);
    assert.match(ex.stdout, /^::respawn:/m);
    const secs = await timedStop(name);
    assert.ok(secs < 8, `stop took ${secs}s`);
    assert.equal((await inspect(name)).State.Running, false);
  });

  it('an image without /sbin/init is refused with a clear error', async () => {
    // Make one: the same rootfs without /sbin/init, committed.
    const base = nm('noinit-base');
    await dkOk(['run', '--name', base, '--network', 'none', BUSYBOX, 'rm', '/sbin/init']);
    await dkOk(['commit', base, 'rich-noinit:latest']);
    const r = await jk(['run', '-d', '--network', 'none', '--rich', '--rich-mode', 'sbin-init', 'rich-noinit:latest', 'sleep', '10']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /has no \/sbin\/init/, d.diagnose(r));
  });
});

describe('rich: systemd mode', () => {
  let ready = false;
  before(async () => {
    const built = await systemdRootfsTar();
    if (built.builtNow) console.log(`# built the systemd rootfs in ${Math.round((built.buildMs ?? 0) / 1000)} s (cached as ${built.key})`);
    await dkOk(['import', built.tar, SYSTEMD], { timeoutMs: 300_000 });
    ready = true;
  }, { timeout: 25 * 60_000 });

  async function runSystemd(name: string, extra: string[], cmd: string[]): Promise<number> {
    assert.ok(ready, 'the systemd image was not imported');
    await jOk(['run', '-d', '--name', name, '--network', 'none', '--rich', '--rich-mode', 'systemd', ...extra, SYSTEMD, ...cmd]);
    const pid1 = await pidOf(name);
    await waitFor('systemctl is-system-running to say running or degraded', async () => {
      const r = await dk(['exec', name, 'systemctl', 'is-system-running']);
      return /^(running|degraded)$/m.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 250);
    return pid1;
  }

  async function mainPid(name: string): Promise<number> {
    const r = await dkOk(['exec', name, 'systemctl', 'show', '-p', 'MainPID', '--value', 'joey-app.service']);
    return Number(r.stdout.trim());
  }

  it('systemd is PID 1, the command is a unit brought back after a kill, stop is clean', async () => {
    const name = nm('systemd');
    const pid1 = await runSystemd(name, ['-e', 'GREETING=hello'], ['sh', '-c', 'echo "app started: $GREETING"; exec sleep 1000']);
    assert.match(await cmdline(pid1), /^\/sbin\/init/);
    const cfg = (await inspect(name)).Config;
    assert.equal(cfg.StopSignal, 'SIGRTMIN+3');
    assert.equal(cfg.Tty, true, 'systemd mode has a terminal: its /dev/console is the log');
    const state = await dk(['exec', name, 'systemctl', 'is-system-running']);
    const failed = await dk(['exec', name, 'systemctl', '--failed', '--no-legend']);
    console.log(`# is-system-running: ${state.stdout.trim()}; failed units: ${failed.stdout.trim() || 'none'}`);
    assert.equal((await dkOk(['exec', name, 'systemctl', 'is-active', 'joey-app.service'])).stdout.trim(), 'active');
    await waitFor('the command\'s output in the logs', async () => /app started: hello/.test((await dk(['logs', name])).stdout), 15_000).catch(async (e) => {
      const status = await dk(['exec', name, 'systemctl', 'status', '--no-pager', '-l', 'joey-app.service']);
      const logs = await dk(['logs', name]);
      throw new Error(`${(e as Error).message}\n--- status\n${status.stdout}${status.stderr}\n--- logs\n${logs.stdout}\n${logs.stderr}`);
    });

    // Killed from outside (the host), the unit is restarted.
    const ps = await processesOf(pid1);
    const app = ps.find((p) => p.cmdline === 'sleep 1000');
    assert.ok(app, `the command runs in the container:\n${ps.map((p) => p.cmdline).join('\n')}`);
    const before = await mainPid(name);
    process.kill(app.pid, 'SIGKILL');
    await waitFor('the unit to come back with a new main pid', async () => {
      const r = await dk(['exec', name, 'systemctl', 'is-active', 'joey-app.service']);
      if (r.stdout.trim() !== 'active') return false;
      const now = await mainPid(name);
      return now > 0 && now !== before;
    }, 20_000, 250);
    await waitFor('a second start in the logs', async () => ((await dk(['logs', name])).stdout.match(/app started: hello/g) ?? []).length >= 2, 15_000);

    const secs = await timedStop(name);
    assert.ok(secs < 10, `stop took ${secs}s (SIGKILL after the timeout would be 10 s)`);
    const c = await inspect(name);
    assert.equal(c.State.Running, false);
    assert.notEqual(c.State.ExitCode, 137, 'systemd halted by itself, not by SIGKILL');
  }, 120_000);

  it('the environment reaches `su -l` sessions; the command may be a bare name', async () => {
    const name = nm('sdenv');
    await runSystemd(name, ['-e', 'GREETING=hello from joey', '-e', 'PCT=100%'], ['sleep', '1000']);
    const unit = await dkOk(['exec', name, 'systemctl', 'cat', 'joey-app.service']);
    assert.match(unit.stdout, /ExecStart="\/usr\/bin\/sleep" "1000"/);
    const r = await dkOk(['exec', name, 'su', '-l', '-c', 'echo "[$GREETING] [$PCT]"']);
    assert.equal(r.stdout.trim(), '[hello from joey] [100%]');
    const unitEnv = await dkOk(['exec', name, 'sh', '-c', 'tr "\\0" "\\n" < /proc/$(systemctl show -p MainPID --value joey-app.service)/environ']);
    assert.match(unitEnv.stdout, /^GREETING=hello from joey$/m);
    assert.match(unitEnv.stdout, /^PCT=100%$/m);
  }, 120_000);

  it('sshd, cron and rsyslog run beside the command; a key login sees the container environment', async () => {
    const name = nm('sshd');
    const pid1 = await runSystemd(name, ['-e', 'GREETING=hello over ssh'], ['sleep', '1000']);
    for (const unit of ['ssh.service', 'cron.service', 'rsyslog.service']) {
      const r = await dk(['exec', name, 'systemctl', 'is-active', unit]);
      assert.equal(r.stdout.trim(), 'active', `${unit}: ${r.stdout}${r.stderr}`);
    }
    // syslog: a message logged in the container lands in rsyslog's file.
    await dkOk(['exec', name, 'logger', '-t', 'joeytest', 'syslog works']);
    await waitFor('the message in /var/log/syslog', async () => /joeytest: syslog works/.test((await dk(['exec', name, 'cat', '/var/log/syslog'])).stdout), 10_000);
    // A key login, through the container's own network namespace (--network none: only its loopback).
    const key = join(work, `id-${name}`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await dkOk(['exec', '-i', name, 'sh', '-c', 'mkdir -p -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys'], { input: await readFile(`${key}.pub`, 'utf8') });
    await run('nsenter', ['-n', '-t', String(pid1), 'ip', 'link', 'set', 'lo', 'up']);
    const ssh = await run('nsenter', ['-n', '-t', String(pid1), 'ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10',
      'root@127.0.0.1', 'echo "[$GREETING]"'], { timeoutMs: 30_000 });
    assert.equal(ssh.code, 0, `${ssh.stdout}\n${ssh.stderr}`);
    assert.equal(ssh.stdout.trim(), '[hello over ssh]', 'pam_env reads the generated /etc/environment');
    const secs = await timedStop(name);
    assert.ok(secs < 10, `stop took ${secs}s`);
  }, 120_000);
});
