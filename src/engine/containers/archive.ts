// docker export and docker cp (HEAD/GET/PUT /containers/{id}/archive): the
// container's files as tar streams, read and written through a ScopedRoot so
// that the container's symlinks resolve inside it, as in a chroot.
import type { BigIntStats } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { extractInto } from '../../archive/extract-tree.ts';
import { packTree } from '../../archive/pack-tree.ts';
import type { Resolved, ScopedRoot } from '../../archive/scoped-root.ts';
import { conflict, forbidden, invalid, is, notFound } from '../../errdefs/index.ts';
import { resolveUserFrom } from '../../runtime/spec/user.ts';
import type { ContainerContext } from './context.ts';
import { openCopyView, openReadView } from './fs-view.ts';
import { findContainer } from './lookup.ts';
import type { ContainerRecord } from './record.ts';
import type { PathStat } from './types.ts';

// Go's os.FileMode bits, which X-Docker-Container-Path-Stat carries.
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
};

/** A Linux st_mode as Go's os.FileMode. */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  if (mode & 0o4000) m += GO_MODE.setuid;
  if (mode & 0o2000) m += GO_MODE.setgid;
  if (mode & 0o1000) m += GO_MODE.sticky;
  switch (mode & 0o170000) {
    case 0o040000:
      return m + GO_MODE.dir;
    case 0o120000:
      return m + GO_MODE.symlink;
    case 0o060000:
      return m + GO_MODE.device;
    case 0o020000:
      return m + GO_MODE.device + GO_MODE.charDevice;
    case 0o010000:
      return m + GO_MODE.namedPipe;
    case 0o140000:
      return m + GO_MODE.socket;
    default:
      return m;
  }
}

/** Go's time.RFC3339Nano, in UTC. */
export function rfc3339Nano(ns: bigint): string {
  const sec = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = ns - sec * 1_000_000_000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return base + (frac === 0n ? '' : '.' + frac.toString().padStart(9, '0').replace(/0+$/, '')) + 'Z';
}

/** The path as an absolute path in the container, cleaned, keeping a
 * trailing "/" or "/." (they mean "a directory", "its content"), as
 * Docker's PreserveTrailingDotOrSeparator. */
export function containerAbsPath(path: string): string {
  let abs = posix.normalize('/' + path);
  if (abs.length > 1 && abs.endsWith('/')) abs = abs.slice(0, -1);
  const dot = path === '.' || path.endsWith('/.');
  if (dot && posix.basename(abs) !== '.') abs += abs.endsWith('/') ? '.' : '/.';
  else if (path.endsWith('/') && !abs.endsWith('/')) abs += '/';
  return abs;
}

/** Go's filepath.Base. */
export function goBase(p: string): string {
  const t = p.replace(/\/+$/, '');
  if (t === '') return p === '' ? '.' : '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

function publish(cx: ContainerContext, c: ContainerRecord, action: string): void {
  cx.deps.events.publish({ Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef } }, status: action, id: c.id, from: c.imageRef });
}

function missing(path: string, c: ContainerRecord): Error {
  return notFound(`Could not find the file ${path} in container ${c.name}`);
}

/** Resolves `path` as Docker's ResolvePath: the directory part with every
 * symlink followed in the container, the last element not (unless the path
 * ends in "/" or "/."). Throws not-found when nothing is there. */
async function resolveForRead(root: ScopedRoot, path: string, c: ContainerRecord): Promise<{ r: Resolved; abs: string }> {
  const abs = containerAbsPath(path);
  const followLast = abs.endsWith('/') || abs.endsWith('/.');
  let r: Resolved;
  try {
    r = await root.resolve(abs, { followLast });
  } catch (e) {
    if (is(e, 'not-found')) throw missing(path, c);
    throw e;
  }
  if (!r.stat) {
    await r.release();
    throw missing(path, c);
  }
  return { r, abs };
}

async function pathStat(root: ScopedRoot, r: Resolved, abs: string): Promise<PathStat> {
  const st: BigIntStats = await root.lstatBig(r.dir, r.name);
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    // Fully resolved in the container, as an absolute path.
    const full = await root.resolve(abs, { followLast: true }).catch(() => undefined);
    if (full) {
      linkTarget = full.path;
      await full.release();
    }
  }
  return { name: goBase(abs), size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: rfc3339Nano(st.mtimeNs), linkTarget };
}

/** Opens a view under the container's lock (so that it cannot be unmounted
 * between the check and the open). */
async function withReadView(cx: ContainerContext, idOrName: string): Promise<{ c: ContainerRecord; root: ScopedRoot }> {
  const found = findContainer(cx, idOrName);
  return cx.lock(found.id, async () => {
    const c = cx.store.get(found.id);
    if (!c) throw notFound(`No such container: ${idOrName}`);
    return { c, root: await openReadView(cx, c) };
  });
}

/** The same with a running container's volumes and bind mounts (cp, not export). */
async function withCopyView(cx: ContainerContext, idOrName: string, path?: string): Promise<{ c: ContainerRecord; root: ScopedRoot }> {
  const found = findContainer(cx, idOrName);
  return cx.lock(found.id, async () => {
    const c = cx.store.get(found.id);
    if (!c) throw notFound(`No such container: ${idOrName}`);
    if (path !== undefined) refuseUnmounted(cx, c, path);
    return { c, root: await openCopyView(cx, c, false) };
  });
}

/** A stopped container's volumes and binds are not in the view (fs-view.ts):
 * a path under one would read or write the empty mount point in its rootfs,
 * hidden again at the next start, so it is refused with the reason. */
function refuseUnmounted(cx: ContainerContext, c: ContainerRecord, path: string): void {
  if (c.state.Running) return;
  const m = mountHolding(cx.deps.volumes.mountsOf(c.id).filter((x) => x.Type !== 'tmpfs'), containerAbsPath(path).replace(/\/+\.?$/, '') || '/');
  if (m) throw conflict(`${m.Destination} is a ${m.Type === 'bind' ? 'bind mount' : 'volume'} of container ${c.name}, mounted only while it runs: copy to or from it while the container runs`);
}

/** Closes `root` once `stream` is done with it, however it ends. */
function closeAfter(stream: Readable, cleanup: () => Promise<void>): Readable {
  stream.once('close', () => void cleanup().catch(() => undefined));
  return stream;
}

export async function exportContainer(cx: ContainerContext, idOrName: string): Promise<Readable> {
  const { c, root } = await withReadView(cx, idOrName);
  publish(cx, c, 'export');
  return closeAfter(packTree(root, root.root, '.', '', { format: 'merged' }), () => root.close());
}

export async function archiveStat(cx: ContainerContext, idOrName: string, path: string): Promise<PathStat> {
  // Not refused here: a HEAD carries no message, and the docker CLI asks it
  // before a PUT, which says why.
  const { c, root } = await withCopyView(cx, idOrName);
  try {
    const { r, abs } = await resolveForRead(root, path, c);
    try {
      return await pathStat(root, r, abs);
    } finally {
      await r.release();
    }
  } finally {
    await root.close();
  }
}

export async function archiveGet(cx: ContainerContext, idOrName: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
  const { c, root } = await withCopyView(cx, idOrName, path);
  let r: Resolved | undefined;
  try {
    const resolved = await resolveForRead(root, path, c);
    r = resolved.r;
    const stat = await pathStat(root, r, resolved.abs);
    // Entries are named after the path asked for (not where a symlink led),
    // and the root's content is named from the top.
    const base = goBase(resolved.abs);
    const tar = packTree(root, r.dir, r.name, base === '/' ? '' : base, { format: 'merged' });
    const held = r;
    publish(cx, c, 'archive-path');
    return {
      stat,
      tar: closeAfter(tar, async () => {
        await held.release();
        await root.close();
      }),
    };
  } catch (e) {
    await r?.release();
    await root.close();
    throw e;
  }
}

/** The volume, bind or tmpfs whose destination holds `path` (the innermost). */
export function mountHolding<M extends { Destination: string }>(mounts: readonly M[], path: string): M | undefined {
  let best: M | undefined;
  for (const m of mounts) {
    const d = m.Destination.replace(/\/+$/, '') || '/';
    const under = path === d || path.startsWith(d === '/' ? '/' : `${d}/`);
    if (under && (!best || d.length > best.Destination.replace(/\/+$/, '').length)) best = m;
  }
  return best;
}

/** The uid and gid of the container's user (cp -a). */
async function containerUser(root: ScopedRoot, spec: string): Promise<{ uid: number; gid: number }> {
  const [passwd, group] = await Promise.all([root.readFile('/etc/passwd'), root.readFile('/etc/group')]);
  const u = resolveUserFrom(spec.trim(), passwd?.toString('utf8'), group?.toString('utf8'));
  return { uid: u.uid, gid: u.gid };
}

export async function archivePut(cx: ContainerContext, idOrName: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
  const found = findContainer(cx, idOrName);
  // Under the lock throughout: a stopped container's upper dir must not get a
  // second writable mount from a start while we write.
  await cx.lock(found.id, async () => {
    const c = cx.store.get(found.id);
    if (!c) throw notFound(`No such container: ${idOrName}`);
    refuseUnmounted(cx, c, path);
    const root = await openCopyView(cx, c, true);
    try {
      // Here the last element is followed too: one may extract into a symlink to a directory.
      let r: Resolved;
      try {
        r = await root.resolve(containerAbsPath(path), { followLast: true });
      } catch (e) {
        if (is(e, 'not-found')) throw missing(path, c);
        throw e;
      }
      try {
        if (!r.stat) throw missing(path, c);
        if (!r.stat.isDirectory()) throw invalid('extraction point is not a directory');
        // Docker's rule: into a volume or bind it must be read-write; elsewhere
        // the rootfs must not be read-only.
        const at = mountHolding(cx.deps.volumes.mountsOf(c.id), r.path);
        if (at && !at.RW) throw invalid('mounted volume is marked read-only');
        if (!at && c.hostConfig.ReadonlyRootfs) throw forbidden('container rootfs is marked read-only');
        const chown = opts.copyUIDGID && c.config.User ? await containerUser(root, c.config.User) : undefined;
        await extractInto(root, r.path, tar, { noOverwriteDirNonDir: opts.noOverwriteDirNonDir, chown });
        publish(cx, c, 'extract-to-dir');
      } finally {
        await r.release();
      }
    } finally {
      await root.close();
    }
  });
}
