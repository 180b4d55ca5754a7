import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { OciSpec } from '../../runtime/types.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';
import { applyRichDefaults, prepareRich, resolveCommand, sbinInitKind } from './rich.ts';
import type { ContainerConfig } from './types.ts';

let tmp: string;
let busybox: string; // a rootfs whose /sbin/init is busybox
let debian: string; // one whose /sbin/init is systemd

async function rootfs(name: string, files: Record<string, string | { link: string }>): Promise<string> {
  const root = join(tmp, name);
  for (const [path, what] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    if (typeof what === 'string') await writeFile(join(root, path), what, { mode: 0o755 });
    else await symlink(what.link, join(root, path));
  }
  return root;
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'joey-rich-unit-'));
  busybox = await rootfs('busybox', { '/bin/busybox': 'ELF', '/bin/sh': { link: 'busybox' }, '/bin/sleep': { link: 'busybox' }, '/sbin/init': { link: '../bin/busybox' } });
  debian = await rootfs('debian', {
    '/usr/bin/sleep': 'ELF', '/usr/lib/systemd/systemd': 'ELF', '/bin': { link: 'usr/bin' }, '/lib': { link: 'usr/lib' },
    // An absolute link is resolved inside the rootfs, never on the host.
    '/sbin/init': { link: '/lib/systemd/systemd' },
    '/etc/profile': '# the image\'s\n', '/etc/environment': 'TZ=UTC\n', '/usr/share/doc/readme': 'not executable',
  });
  await chmod(join(debian, 'usr/share/doc/readme'), 0o644);
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The little of a ContainerContext that rich.ts uses. */
function fakeCx(root: string, initPath?: string): ContainerContext {
  return { deps: { initPath }, paths: () => ({ rootfs: root, dir: join(root, '..', `${root.split('/').pop()}-state`) }) } as unknown as ContainerContext;
}

function spec(args: string[], env = ['PATH=/usr/local/bin:/usr/bin:/bin', 'GREETING=hi']): OciSpec {
  return { ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, args, env, cwd: '/' }, mounts: [], linux: { namespaces: [] } };
}

const record = (config: ContainerConfig): ContainerRecord => ({ id: 'c1', config } as unknown as ContainerRecord);

describe('rich mode, the rootfs side', () => {
  test('what /sbin/init is, following links inside the rootfs', async () => {
    assert.equal(await sbinInitKind(busybox), 'busybox');
    assert.equal(await sbinInitKind(debian), 'systemd');
    assert.equal(await sbinInitKind(tmp), 'missing');
  });

  test('commands resolve through the container\'s PATH, in the rootfs', async () => {
    assert.equal(await resolveCommand(debian, 'sleep', ['PATH=/usr/local/bin:/bin'], '/'), '/bin/sleep');
    assert.equal(await resolveCommand(debian, 'sleep', [], '/'), '/usr/bin/sleep');
    assert.equal(await resolveCommand(debian, './run.sh', [], '/srv'), '/srv/run.sh');
    await assert.rejects(resolveCommand(debian, 'readme', ['PATH=/usr/share/doc'], '/'), { kind: 'invalid', message: /executable file not found in \$PATH/ });
    await assert.rejects(resolveCommand(debian, 'nginx', [], '/'), { kind: 'invalid', message: /"nginx": executable file not found/ });
  });

  test('create: the mode\'s default, and the stop signal its init wants unless one was chosen', async () => {
    const bb: ContainerConfig = { Rich: true, RichMode: 'sbin-init' };
    await applyRichDefaults(bb, busybox);
    assert.equal(bb.StopSignal, 'SIGUSR2');
    const sd: ContainerConfig = { Rich: true, RichMode: 'systemd' };
    await applyRichDefaults(sd, debian);
    assert.deepEqual([sd.StopSignal, sd.Tty], ['SIGRTMIN+3', true]);
    const chosen: ContainerConfig = { Rich: true, RichMode: 'systemd', StopSignal: 'SIGTERM' };
    await applyRichDefaults(chosen, debian);
    assert.equal(chosen.StopSignal, 'SIGTERM');
    const dumb: ContainerConfig = { Rich: true };
    await applyRichDefaults(dumb, busybox);
    assert.deepEqual([dumb.RichMode, dumb.StopSignal], ['dumb-init', undefined]);
  });

  test('sbin-init on busybox: a generated inittab with the resolved command, and the env files', async () => {
    const cx = fakeCx(busybox);
    const s = spec(['sleep', '1000'], ['PATH=/bin', 'GREETING=hi']);
    await prepareRich(cx, record({ Rich: true, RichMode: 'sbin-init' }), s);
    assert.deepEqual(s.process!.args, ['/sbin/init']);
    const bind = (dest: string) => s.mounts!.find((m) => m.destination === dest);
    assert.match(await readFile(bind('/etc/inittab')!.source!, 'utf8'), /^::respawn:\/bin\/sleep 1000$/m);
    assert.match(await readFile(bind('/etc/profile.d/joey-env.sh')!.source!, 'utf8'), /^export GREETING='hi'$/m);
    // busybox has no /etc/profile: one that sources profile.d is bound.
    assert.match(await readFile(bind('/etc/profile')!.source!, 'utf8'), /profile\.d/);
    assert.ok(bind('/etc/inittab')!.options!.includes('ro'));
  });

  test('systemd: the unit and its wants link in the runtime unit dir; the image\'s /etc/profile is kept', async () => {
    const cx = fakeCx(debian);
    const s = spec(['sleep', '1000']);
    await prepareRich(cx, record({ Rich: true, RichMode: 'systemd' }), s);
    assert.deepEqual(s.process!.args, ['/sbin/init']);
    const dir = s.mounts!.find((m) => m.destination === '/run/systemd/system')!;
    assert.deepEqual(dir.options, ['rbind', 'rprivate']);
    assert.match(await readFile(join(dir.source!, 'joey-app.service'), 'utf8'), /^ExecStart="\/usr\/bin\/sleep" "1000"$/m);
    assert.equal(await readlink(join(dir.source!, 'multi-user.target.wants', 'joey-app.service')), '../joey-app.service');
    assert.equal(s.mounts!.find((m) => m.destination === '/etc/profile'), undefined);
    assert.equal(await readFile(s.mounts!.find((m) => m.destination === '/etc/environment')!.source!, 'utf8'), 'TZ=UTC\nPATH="/usr/local/bin:/usr/bin:/bin"\nGREETING="hi"\n');
    // Started again: the files are made afresh.
    await prepareRich(cx, record({ Rich: true, RichMode: 'systemd' }), spec(['sleep', '2']));
    assert.match(await readFile(join(dir.source!, 'joey-app.service'), 'utf8'), /"2"/);
  });

  test('refusals name what is missing', async () => {
    await assert.rejects(prepareRich(fakeCx(busybox), record({ Rich: true }), spec(['sleep', '1'])), { kind: 'failed-precondition', message: /catatonit or tini/ });
    await assert.rejects(prepareRich(fakeCx(busybox), record({ Rich: true, RichMode: 'systemd' }), spec(['sleep', '1'])), { kind: 'failed-precondition', message: /no systemd/ });
    const noInit = await rootfs('noinit', { '/bin/sleep': 'ELF' });
    await assert.rejects(prepareRich(fakeCx(noInit), record({ Rich: true, RichMode: 'sbin-init' }), spec(['sleep', '1'])), { kind: 'failed-precondition', message: /no \/sbin\/init/ });
    // Not rich: nothing changes.
    const s = spec(['sleep', '1']);
    await prepareRich(fakeCx(busybox), record({}), s);
    assert.deepEqual([s.process!.args, s.mounts], [['sleep', '1'], []]);
  });
});
