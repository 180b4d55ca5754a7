// Root filesystems for the rich-container tests, as tarballs to `docker
// import`: a busybox one with /sbin/init (built in a second, not cached) and
// a Debian one holding systemd, sshd, cron and rsyslog, made with debootstrap
// from Debian's mirror (about a minute) and cached per machine under
// `${JOEY_TEST_CACHE:-/var/cache/joey-test}/rootfs/<key>/rootfs.tar`. The key
// covers the recipe, not the bytes: debootstrap is not reproducible, and one
// build per machine is what is wanted.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUSYBOX, cacheRoot, publishCacheDir } from './images.ts';
import { removeDir, runOk } from './proc.ts';

/** Bump when a recipe changes: it is part of the cache key. */
export const RICH_BUILDER_VERSION = 'joey-rich-rootfs/2';

export const SYSTEMD_RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'cron', 'rsyslog', 'procps', 'iproute2'],
  mirror: 'http://deb.debian.org/debian',
} as const;

/** A tarball of a busybox rootfs whose /sbin/init is busybox (for sbin-init mode). */
export async function busyboxInitTar(work: string): Promise<string> {
  const root = join(work, 'busybox-rootfs');
  await rm(root, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'etc', 'root', 'tmp', 'home', 'proc', 'sys', 'dev', 'var', 'run', 'usr/bin', 'usr/sbin']) {
    await mkdir(join(root, d), { recursive: true });
  }
  await chmod(join(root, 'tmp'), 0o1777);
  await writeFile(join(root, 'bin/busybox'), await readFile(BUSYBOX), { mode: 0o755 });
  const applets = (await runOk(BUSYBOX, ['--list'])).stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== 'busybox');
  for (const a of applets) await symlink('busybox', join(root, 'bin', a));
  await symlink('/bin/busybox', join(root, 'sbin/init'));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tar = join(work, 'busybox-rootfs.tar');
  await runOk('tar', ['-C', root, '-cf', tar, '.']);
  await rm(root, { recursive: true, force: true });
  return tar;
}

/** The systemd rootfs tarball, built on first use (atomically: a rename of a finished dir). */
export async function systemdRootfsTar(): Promise<{ tar: string; key: string; builtNow: boolean; buildMs?: number }> {
  const key = createHash('sha256').update(JSON.stringify({ builder: RICH_BUILDER_VERSION, ...SYSTEMD_RECIPE })).digest('hex').slice(0, 32);
  const base = join(cacheRoot(), 'rootfs');
  const dir = join(base, key);
  const tar = join(dir, 'rootfs.tar');
  if (existsSync(join(dir, 'done.json'))) return { tar, key, builtNow: false };
  await mkdir(base, { recursive: true });
  for (const e of await readdir(base)) {
    if (!e.startsWith('.build-')) continue;
    const st = await stat(join(base, e)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 3_600_000) await removeDir(join(base, e));
  }
  const tmp = await mkdtemp(join(base, `.build-${key}-`));
  const started = Date.now();
  try {
    const root = join(tmp, 'rootfs');
    await runOk('debootstrap', [`--variant=${SYSTEMD_RECIPE.variant}`, `--include=${SYSTEMD_RECIPE.include.join(',')}`, SYSTEMD_RECIPE.suite, root, SYSTEMD_RECIPE.mirror], { timeoutMs: 20 * 60_000 });
    // What a container image does without: apt caches, and a machine id
    // (systemd makes one per boot when the file is empty).
    await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    await mkdir(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
    await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    await mkdir(join(root, 'var/lib/apt/lists'), { recursive: true });
    await writeFile(join(root, 'etc/machine-id'), '');
    // sshd host keys are made per build; the tests only use them inside namespaces they own.
    // No device nodes: an image carries none (the engine makes /dev), and import refuses them.
    await runOk('tar', ['--numeric-owner', '--xattrs', '--exclude=./dev/*', '-C', root, '-cf', join(tmp, 'rootfs.tar'), '.']);
    await removeDir(root);
    await chmod(tmp, 0o755);
    const buildMs = Date.now() - started;
    await writeFile(join(tmp, 'done.json'), JSON.stringify({ key, builder: RICH_BUILDER_VERSION, recipe: SYSTEMD_RECIPE, buildMs }));
    await publishCacheDir(tmp, dir);
    return { tar, key, builtNow: true, buildMs };
  } catch (e) {
    await removeDir(tmp);
    throw e;
  }
}
