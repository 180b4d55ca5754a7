import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import type { ContainerConfig } from '../../engine/containers/types.ts';
import type { OciSpec } from '../types.ts';
import { INIT_PATH_IN_CONTAINER } from './process.ts';
import {
  applyRich, environmentFile, inittab, normalizeRichConfig, profileScript, richModeOf, richStopSignal, systemdUnit,
} from './rich.ts';

function baseSpec(): OciSpec {
  return {
    ociVersion: '1.0.2',
    process: { user: { uid: 0, gid: 0 }, args: ['nginx', '-g', 'daemon off;'], env: ['PATH=/usr/bin:/bin', 'A=1'], cwd: '/' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/run/secrets', type: 'bind', source: '/host/secrets', options: ['rbind'] },
    ],
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
  };
}

/** What sh makes of a profile script: the variables it exports. */
function sourced(script: string, names: string[]): string[] {
  const out = execFileSync('/bin/sh', ['-c', `${script}\n${names.map((n) => `printf '%s\\n' "$${n}"`).join('\n')}`], { env: {} }).toString();
  return out.split('\n').slice(0, names.length);
}

describe('rich mode config', () => {
  test('RichMode defaults to dumb-init; bad modes and fields without Rich are invalid', () => {
    const c: ContainerConfig = { Rich: true };
    normalizeRichConfig(c);
    assert.equal(c.RichMode, 'dumb-init');
    for (const m of ['dumb-init', 'sbin-init', 'systemd']) {
      const x: ContainerConfig = { Rich: true, RichMode: m };
      normalizeRichConfig(x);
      assert.equal(richModeOf(x), m);
    }
    assert.throws(() => normalizeRichConfig({ Rich: true, RichMode: 'upstart' }), { kind: 'invalid', message: /dumb-init, sbin-init, systemd/ });
    assert.throws(() => normalizeRichConfig({ RichMode: 'systemd' }), { kind: 'invalid', message: /needs Rich/ });
    assert.throws(() => normalizeRichConfig({ InitScript: '/x.sh' }), { kind: 'invalid', message: /needs Rich/ });
    assert.throws(() => normalizeRichConfig({ Rich: true, InitScript: 'x.sh' }), { kind: 'invalid', message: /absolute path/ });
    const plain: ContainerConfig = { RichMode: '' };
    normalizeRichConfig(plain);
    assert.equal(richModeOf(plain), undefined);
  });

  test('stop signals: systemd halts on SIGRTMIN+3, busybox init powers off on SIGUSR2, dumb-init forwards the default', () => {
    assert.equal(richStopSignal('systemd', 'other'), 'SIGRTMIN+3');
    assert.equal(richStopSignal('sbin-init', 'busybox'), 'SIGUSR2');
    assert.equal(richStopSignal('sbin-init', 'systemd'), 'SIGRTMIN+3');
    assert.equal(richStopSignal('sbin-init', 'other'), undefined);
    assert.equal(richStopSignal('dumb-init', 'other'), undefined);
  });
});

describe('rich mode files', () => {
  test('the profile script exports the environment, quoting whatever the values hold', () => {
    const env = ['PATH=/opt/bin:/usr/bin', 'GREETING=hello world', "Q=it's $HOME `x` \"y\"", 'HOME=/root', 'HOSTNAME=abc', 'bad-name=1', 'EMPTY='];
    const script = profileScript(env);
    assert.doesNotMatch(script, /HOME=|HOSTNAME=|bad-name/);
    assert.deepEqual(sourced(script, ['PATH', 'GREETING', 'Q', 'EMPTY']), ['/opt/bin:/usr/bin', 'hello world', "it's $HOME `x` \"y\"", '']);
  });

  test('/etc/environment keeps the image\'s other lines and replaces the ones the container sets', () => {
    const out = environmentFile(['PATH=/p', 'LANG=C.UTF-8', 'BAD=a"b', 'ML=a\nb'], 'PATH="/usr/bin"\nTZ=UTC\n\n');
    assert.equal(out, 'TZ=UTC\nPATH="/p"\nLANG="C.UTF-8"\n');
  });

  test('inittab: one respawn entry; plain words as they are, the rest shell-quoted', () => {
    assert.match(inittab(['/usr/sbin/crond', '-f', '-l', '8']), /^::respawn:\/usr\/sbin\/crond -f -l 8$/m);
    const t = inittab(['/bin/sh', '-c', "echo \"it's\" $HOME; sleep 1"]);
    const line = /^::respawn:(.*)$/m.exec(t)![1]!;
    assert.equal(line, `'/bin/sh' '-c' 'echo "it'\\''s" $HOME; sleep 1'`);
    // busybox init runs such a line as sh -c "exec LINE": the words come back intact.
    const words = execFileSync('/bin/sh', ['-c', `set -- ${line}; printf '%s\\n' "$@"`]).toString();
    assert.equal(words, `/bin/sh\n-c\necho "it's" $HOME; sleep 1\n`);
    assert.throws(() => inittab(['/bin/echo', 'a\nb']), { kind: 'invalid', message: /newline/ });
    assert.equal(inittab(['/bin/x']).split('\n').filter((l) => l && !l.startsWith('#')).length, 1);
  });

  test('the systemd unit: ExecStart quoted, $ and % literal, Restart=always, output to journal and console, env and user', () => {
    const unit = systemdUnit({ args: ['/bin/sh', '-c', 'echo "$HOME" 100% \\o/'], env: ['PATH=/usr/bin', 'P=50%', 'Q=say "hi"', 'container=oci', 'HOSTNAME=x'], cwd: '/srv', user: 'www-data:web' });
    assert.match(unit, /^ExecStart="\/bin\/sh" "-c" "echo \\"\$\$HOME\\" 100%% \\\\o\/"$/m);
    for (const l of ['Restart=always', 'StartLimitIntervalSec=0', 'WorkingDirectory=/srv', 'StandardOutput=journal+console', 'User=www-data', 'Group=web', 'Environment="PATH=/usr/bin"', 'Environment="P=50%%"', 'Environment="Q=say \\"hi\\""']) {
      assert.ok(unit.split('\n').includes(l), `${l} in\n${unit}`);
    }
    assert.doesNotMatch(unit, /container=oci|HOSTNAME/);
    assert.doesNotMatch(systemdUnit({ args: ['/x'], env: [], cwd: '/' }), /^User=/m);
    assert.throws(() => systemdUnit({ args: ['sleep'], env: [], cwd: '/' }), { kind: 'invalid', message: /absolute path/ });
  });
});

describe('rich mode spec', () => {
  test('dumb-init: the host init, read-only, in front of the command (once, also with --init)', () => {
    const spec = baseSpec();
    applyRich(spec, { mode: 'dumb-init', initPath: '/usr/bin/catatonit', binds: [{ source: '/c/rich/joey-env.sh', destination: '/etc/profile.d/joey-env.sh', readonly: true }] });
    assert.deepEqual(spec.process!.args, [INIT_PATH_IN_CONTAINER, '--', 'nginx', '-g', 'daemon off;']);
    assert.deepEqual(spec.mounts!.find((m) => m.destination === INIT_PATH_IN_CONTAINER), { destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: '/usr/bin/catatonit', options: ['bind', 'ro'] });
    assert.deepEqual(spec.mounts!.at(-1), { destination: '/etc/profile.d/joey-env.sh', type: 'bind', source: '/c/rich/joey-env.sh', options: ['rbind', 'rprivate', 'ro'] });
    applyRich(spec, { mode: 'dumb-init', initPath: '/usr/bin/catatonit', binds: [] });
    assert.equal(spec.process!.args.filter((a) => a === INIT_PATH_IN_CONTAINER).length, 1);
    assert.equal(spec.mounts!.filter((m) => m.destination === INIT_PATH_IN_CONTAINER).length, 1);
    assert.throws(() => applyRich(baseSpec(), { mode: 'dumb-init', binds: [] }), { kind: 'invalid', message: /catatonit or tini/ });
  });

  test('sbin-init: the image\'s init as PID 1, nothing else of systemd\'s', () => {
    const spec = baseSpec();
    applyRich(spec, { mode: 'sbin-init', initArgs: ['/sbin/init'], binds: [{ source: '/c/rich/inittab', destination: '/etc/inittab', readonly: true }] });
    assert.deepEqual(spec.process!.args, ['/sbin/init']);
    assert.ok(!spec.process!.env.includes('container=oci'));
    assert.ok(spec.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
    assert.equal((spec.linux!.namespaces as unknown[]).length, 2);
  });

  test('systemd: container=oci, a cgroup namespace, writable cgroups, tmpfs before the mounts below them, the unit dir writable', () => {
    const spec = baseSpec();
    applyRich(spec, { mode: 'systemd', initArgs: ['/sbin/init'], binds: [{ source: '/c/rich/systemd', destination: '/run/systemd/system', readonly: false }] });
    assert.deepEqual(spec.process!.args, ['/sbin/init']);
    assert.ok(spec.process!.env.includes('container=oci'));
    assert.ok((spec.linux!.namespaces as Array<{ type: string }>).some((n) => n.type === 'cgroup'));
    assert.ok(!spec.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
    const order = spec.mounts!.map((m) => m.destination);
    assert.deepEqual(order, ['/proc', '/sys/fs/cgroup', '/run', '/run/secrets', '/run/lock', '/tmp', '/run/systemd/system']);
    assert.deepEqual(spec.mounts!.at(-1)!.options, ['rbind', 'rprivate']);
    // A container's own container= and its own /tmp mount are kept.
    const own = baseSpec();
    own.process!.env.push('container=docker');
    own.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    applyRich(own, { mode: 'systemd', initArgs: ['/lib/systemd/systemd'], binds: [] });
    assert.deepEqual(own.process!.env.filter((e) => e.startsWith('container=')), ['container=docker']);
    assert.deepEqual(own.mounts!.filter((m) => m.destination === '/tmp').map((m) => m.options), [['size=1m']]);
  });
});
