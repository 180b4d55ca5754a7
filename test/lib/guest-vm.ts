// A throwaway VM for what this host's kernel cannot do (XFS/ext4 project
// quota): Debian's stock kernel, unpacked from its package without installing
// it, boots under QEMU (TCG: /dev/kvm here hangs a stock kernel) with a
// busybox initramfs that mounts the host's root read-only over 9p and runs a
// script from this repository inside it (chroot), so the guest runs the
// host's node, tools and this working copy at the same paths.
//
// Both the kernel and the initramfs are cached under
// ${JOEY_TEST_CACHE:-/var/cache/joey-test}: guest-kernel/<package_version>/
// and guest-initramfs/<key>.cpio.gz, published atomically as images.ts does.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUSYBOX, cacheRoot, publishCacheDir } from './images.ts';
import { removeDir, run, runOk } from './proc.ts';

/** The modules the guest loads (their dependencies are added, in order).
 * crc32c_generic is only a soft dependency (libcrc32c and ext4 ask the crypto
 * API for "crc32c", which without modprobe in the guest must already be there). */
export const GUEST_MODULES = ['crc32c_generic', 'virtio_pci', '9pnet_virtio', '9p', 'loop', 'overlay', 'quota_v2', 'ext4', 'xfs', 'fuse'];

export interface GuestKernel {
  version: string;
  vmlinuz: string;
  /** Module name → its .ko in the cache, in load order. */
  modules: Array<{ name: string; path: string }>;
}

export const QEMU = 'qemu-system-x86_64';

/** Why a guest cannot boot on this machine, or undefined when it can. */
export function guestUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const p of ['/usr/bin/qemu-system-x86_64', BUSYBOX]) if (!existsSync(p)) return `${p} is missing (scripts/install-deps.sh installs it)`;
  return undefined;
}

/** The linux-image package linux-image-amd64 points at, and its version. */
async function kernelPackage(): Promise<{ name: string; version: string }> {
  const deps = await runOk('apt-cache', ['depends', 'linux-image-amd64']);
  const name = /Depends:\s*(linux-image-[^\s]+)/.exec(deps.stdout)?.[1];
  if (!name) throw new Error(`apt-cache depends linux-image-amd64 names no kernel package:\n${deps.stdout}`);
  const policy = await runOk('apt-cache', ['policy', name]);
  const version = /Candidate:\s*(\S+)/.exec(policy.stdout)?.[1];
  if (!version || version === '(none)') throw new Error(`no candidate version for ${name}`);
  return { name, version };
}

/** `depends=` from a module's .modinfo section (no modinfo on the host). */
function moduleDepends(ko: Buffer): string[] {
  const i = ko.indexOf('\0depends=');
  if (i < 0) return [];
  const end = ko.indexOf(0, i + 1);
  return ko.subarray(i + 9, end).toString().split(',').filter(Boolean);
}

async function findModules(tree: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.ko')) out.set(e.name.slice(0, -3).replace(/-/g, '_'), join(d, e.name));
    }
  };
  await walk(tree);
  return out;
}

/** Debian's stock kernel and the modules the guest needs, downloaded and
 * unpacked once per package version. */
export async function guestKernel(): Promise<GuestKernel> {
  const pkg = await kernelPackage();
  // One directory per package version, one entry in it per module list.
  const base = join(cacheRoot(), 'guest-kernel', `${pkg.name}_${pkg.version}`);
  const dir = join(base, createHash('sha256').update(GUEST_MODULES.join(',')).digest('hex').slice(0, 16));
  if (!existsSync(join(dir, 'done.json'))) {
    await mkdir(base, { recursive: true });
    const tmp = await mkdtemp(join(base, '.build-'));
    try {
      const dl = join(tmp, 'dl');
      await mkdir(dl);
      await runOk('apt-get', ['download', `${pkg.name}=${pkg.version}`], { cwd: dl });
      const deb = (await readdir(dl)).find((f) => f.endsWith('.deb'))!;
      const x = join(tmp, 'x');
      await runOk('dpkg-deb', ['-x', join(dl, deb), x]);
      const boot = (await readdir(join(x, 'boot'))).find((f) => f.startsWith('vmlinuz-'))!;
      const kver = boot.slice('vmlinuz-'.length);
      await copyFile(join(x, 'boot', boot), join(tmp, 'vmlinuz'));
      const all = await findModules(join(x, 'lib', 'modules', kver));
      // Dependencies before dependents, each once.
      const order: string[] = [];
      const visit = async (name: string, chain: string[]): Promise<void> => {
        if (order.includes(name)) return;
        const path = all.get(name);
        if (!path) throw new Error(`module ${name} (needed by ${chain.join(' <- ') || 'the guest'}) is not in ${deb}: built in?`);
        for (const d of moduleDepends(await readFile(path))) await visit(d.replace(/-/g, '_'), [name, ...chain]);
        order.push(name);
      };
      for (const m of GUEST_MODULES) await visit(m, []);
      await mkdir(join(tmp, 'modules'));
      for (const m of order) await copyFile(all.get(m)!, join(tmp, 'modules', `${m}.ko`));
      await removeDir(x);
      await removeDir(dl);
      await writeFile(join(tmp, 'done.json'), JSON.stringify({ package: pkg, kernel: kver, modules: order }));
      await publishCacheDir(tmp, dir);
    } catch (e) {
      await removeDir(tmp);
      throw e;
    }
  }
  const done = JSON.parse(await readFile(join(dir, 'done.json'), 'utf8')) as { modules: string[] };
  return { version: pkg.version, vmlinuz: join(dir, 'vmlinuz'), modules: done.modules.map((name) => ({ name, path: join(dir, 'modules', `${name}.ko`) })) };
}

/** The guest's /init: busybox, modules, the host's root over 9p, then the
 * script named by joey.run= on the kernel command line, chrooted into it. */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /modules/$m.ko || echo "joey-guest: insmod $m failed"; done
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host; then
  mount -t proc proc /host/proc
  mount -t sysfs sys /host/sys
  mount -t devtmpfs dev /host/dev
  # The guest's scratch space: under /dev (the guest's own devtmpfs), which
  # hides nothing of the host's tree, wherever the repository sits (/tmp too).
  mkdir -p /host/dev/shm
  mount -t tmpfs -o size=800m,mode=1777 scratch /host/dev/shm
  export TMPDIR=/dev/shm
  cmd=$(sed -n 's/.*joey\\.run=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
  echo "joey-guest: running $cmd"
  # The host's root goes on top of / (as switch_root does) before the
  # chroot: after a bare chroot the initramfs stays the root of the mount
  # namespace, which is where setns(2) puts a process joining it, so that
  # \`runc exec\` would run outside the container's rootfs. This shell
  # keeps its own root, the initramfs, for poweroff.
  cd /host
  mount --move . /
  chroot . /bin/sh "$cmd"
  echo "joey-guest: exit $?"
else
  echo "joey-guest: cannot mount the host root over 9p"
fi
poweroff -f
`;

/** A newc cpio archive (what the kernel unpacks as an initramfs). */
function newc(entries: Array<{ name: string; mode: number; data?: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data = (e as { data?: Buffer }).data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const fields = [ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`);
    parts.push(header, name, pad(header.length + name.length), data, pad(data.length));
  }
  return Buffer.concat(parts);
}

/** The initramfs for `kernel`, cached by its content (init, busybox, modules). */
export async function guestInitramfs(kernel: GuestKernel): Promise<string> {
  const busybox = await readFile(BUSYBOX);
  const mods = await Promise.all(kernel.modules.map(async (m) => ({ ...m, data: await readFile(m.path) })));
  const h = createHash('sha256').update(INIT_SCRIPT).update(busybox);
  for (const m of mods) h.update(m.name).update(m.data);
  const key = h.digest('hex').slice(0, 32);
  const dir = join(cacheRoot(), 'guest-initramfs');
  const file = join(dir, `${key}.cpio.gz`);
  if (existsSync(file)) return file;
  const DIR = 0o040755;
  const entries = [
    ...['bin', 'dev', 'proc', 'sys', 'host', 'modules'].map((name) => ({ name, mode: DIR })),
    { name: 'bin/busybox', mode: 0o100755, data: busybox },
    { name: 'init', mode: 0o100755, data: Buffer.from(INIT_SCRIPT) },
    { name: 'modules.order', mode: 0o100644, data: Buffer.from(mods.map((m) => m.name).join('\n') + '\n') },
    ...mods.map((m) => ({ name: `modules/${m.name}.ko`, mode: 0o100644, data: m.data })),
  ];
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${key}.${process.pid}.tmp`);
  await writeFile(tmp, gzipSync(newc(entries)));
  await rename(tmp, file);
  return file;
}

export interface GuestRun {
  /** The serial console, everything the guest printed. */
  console: string;
  code: number;
  ms: number;
}

/** Boots the guest and runs `script` (an absolute path on the host, which the
 * guest reaches at the same path) in it; resolves when the guest powers off.
 * `cpus` above 1 runs the guest's CPUs on host threads of their own (QEMU's
 * multi-threaded TCG), for a script that does two things at once. */
export async function runInGuest(script: string, opts: { timeoutMs?: number; memMiB?: number; cpus?: number } = {}): Promise<GuestRun> {
  const kernel = await guestKernel();
  const initrd = await guestInitramfs(kernel);
  const started = Date.now();
  const r = await run(QEMU, [
    '-machine', 'q35', '-accel', (opts.cpus ?? 1) > 1 ? 'tcg,thread=multi' : 'tcg', '-m', String(opts.memMiB ?? 1024), '-smp', String(opts.cpus ?? 1),
    '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', kernel.vmlinuz, '-initrd', initrd,
    '-append', `console=ttyS0 quiet panic=-1 joey.run=${script}`,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
  ], { timeoutMs: opts.timeoutMs ?? 240_000 });
  return { console: r.stdout + r.stderr, code: r.code, ms: Date.now() - started };
}

/**
 * Bundles `driver` (a test/guest/*-guest.ts, so the guest's node loads one
 * plain .mjs: tsx under TCG costs seconds), boots the guest running
 * `script DRIVER.mjs ARGS…`, and returns the JSON the driver printed on its
 * `JOEY-RESULT ` line; throws with the console's tail when there is none.
 */
export async function runGuestDriver<T>(script: string, driver: string, work: string, args: string[], opts: { timeoutMs?: number; cpus?: number } = {}): Promise<{ result: T; ms: number }> {
  const { build } = await import('esbuild');
  const bundle = join(work, 'driver.mjs');
  await build({ entryPoints: [driver], outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning' });
  const wrapper = join(work, 'run.sh');
  await writeFile(wrapper, `exec /bin/sh ${script} ${bundle} ${args.join(' ')}\n`);
  const r = await runInGuest(wrapper, { timeoutMs: opts.timeoutMs ?? 360_000, cpus: opts.cpus ?? 2 });
  const line = r.console.split(/\r?\n/).find((l) => l.startsWith('JOEY-RESULT '));
  if (!line) throw new Error(`the guest printed no result (exit ${r.code}, ${r.ms} ms):\n${r.console.slice(-16000)}`);
  return { result: JSON.parse(line.slice('JOEY-RESULT '.length)) as T, ms: r.ms };
}
