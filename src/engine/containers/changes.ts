// docker diff: what the container changed, from its upper dir compared with
// the image underneath. A whiteout (0/0 character device) is a deletion; an
// opaque directory hides everything of the image below it; a directory of
// the image is reported as changed only when something below it is, or its
// owner or permissions are (overlay copies a directory up for any change
// inside, and bumps its mtime for the mount points runc makes).
import { isWhiteout } from '../../archive/pack-tree.ts';
import { ScopedRoot, joinTree, type DirRef } from '../../archive/scoped-root.ts';
import { INIT_PATH_IN_CONTAINER } from '../../runtime/spec/process.ts';
import { KEPT_XATTRS_NAMES, keptXattrs } from '../../archive/names.ts';
import { listXattrs } from '../../sys/xattr.ts';
import type { ContainerContext } from './context.ts';
import { openImageView } from './fs-view.ts';
import { findContainer } from './lookup.ts';

export type ChangeKind = 0 | 1 | 2;
export const MODIFIED: ChangeKind = 0;
export const ADDED: ChangeKind = 1;
export const DELETED: ChangeKind = 2;

export interface Change {
  Path: string;
  Kind: ChangeKind;
}

/** Paths the engine mounts over in every container (runc makes the mount
 * points in the upper dir when the image lacks them): never reported by
 * diff nor committed, as Docker keeps them in its init layer. */
const MANAGED = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/.dockerenv', INIT_PATH_IN_CONTAINER];

export function isEngineManaged(path: string): boolean {
  return MANAGED.some((m) => path === m || path.startsWith(m + '/'));
}

export interface ChangeOptions {
  /** Tree paths of the upper dir's opaque directories. */
  opaque: ReadonlySet<string>;
  exclude?: (path: string) => boolean;
}

/** Changes of `upper` (an overlay upper dir) over `lower` (the merged image),
 * sorted by path as Docker sorts them. */
export async function computeChanges(upper: ScopedRoot, lower: ScopedRoot | undefined, opts: ChangeOptions): Promise<Change[]> {
  const out: Change[] = [];
  await walk(upper, lower, upper.root, lower?.root, false, opts, out);
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** Reports the changes below `up`; resolves true when it reported any. */
async function walk(upper: ScopedRoot, lower: ScopedRoot | undefined, up: DirRef, low: DirRef | undefined, hidden: boolean, opts: ChangeOptions, out: Change[]): Promise<boolean> {
  const names = (await upper.readdir(up)).sort();
  const excluded = (p: string): boolean => opts.exclude?.(p) ?? false;
  let any = false;
  if (low && hidden) {
    // Under an opaque directory nothing of the image shows through.
    const present = new Set(names);
    for (const name of await lower!.readdir(low)) {
      const p = joinTree(up.path, name);
      if (present.has(name) || excluded(p)) continue;
      out.push({ Path: p, Kind: DELETED });
      any = true;
    }
  }
  for (const name of names) {
    const p = joinTree(up.path, name);
    if (excluded(p)) continue;
    const st = await upper.lstat(up, name);
    if (!st) continue;
    if (isWhiteout(st)) {
      out.push({ Path: p, Kind: DELETED });
      any = true;
      continue;
    }
    const was = low ? await lower!.lstat(low, name) : undefined;
    if (!st.isDirectory()) {
      out.push({ Path: p, Kind: was ? MODIFIED : ADDED });
      any = true;
      continue;
    }
    const opaque = hidden || opts.opaque.has(p);
    const sub = await upper.openDir(up, name);
    const subLow = was?.isDirectory() ? await lower!.openDir(low!, name) : undefined;
    try {
      const at = out.length;
      const below = await walk(upper, lower, sub, subLow, opaque, opts, out);
      if (!was) {
        out.splice(at, 0, { Path: p, Kind: ADDED });
        any = true;
      } else if (!was.isDirectory() || below || opaque || st.mode !== was.mode || st.uid !== was.uid || st.gid !== was.gid) {
        out.splice(at, 0, { Path: p, Kind: MODIFIED });
        any = true;
      }
    } finally {
      await sub.fh.close();
      await subLow?.fh.close();
    }
  }
  return any;
}

/** An upper dir's opaque directories and the extended attributes a commit
 * carries (names.ts keeps them), by tree path ("/x/y"), from one walk. */
export async function upperDirAttrs(upperDir: string): Promise<{ opaque: Set<string>; xattrs: Map<string, Record<string, Buffer>> }> {
  const found = await listXattrs(upperDir, `^(trusted\\.overlay\\.opaque|${KEPT_XATTRS_NAMES})$`);
  const opaque = new Set<string>();
  const xattrs = new Map<string, Record<string, Buffer>>();
  for (const [rel, attrs] of found) {
    const path = '/' + rel;
    if (attrs['trusted.overlay.opaque']?.toString() === 'y') opaque.add(path);
    const kept = keptXattrs(Object.entries(attrs));
    if (kept) xattrs.set(path, kept);
  }
  return { opaque, xattrs };
}

/** Tree paths ("/x/y") of the opaque directories of an upper dir. */
export async function opaqueDirs(upperDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [rel, attrs] of await listXattrs(upperDir, '^trusted\\.overlay\\.opaque$')) {
    if (attrs['trusted.overlay.opaque']?.toString() === 'y') out.add('/' + rel);
  }
  return out;
}

export async function containerChanges(cx: ContainerContext, idOrName: string): Promise<Change[]> {
  const c = findContainer(cx, idOrName);
  const views = await cx.lock(c.id, async () => {
    const upperDir = await cx.deps.snapshots.upperDir(c.id);
    const upper = await ScopedRoot.open(upperDir);
    try {
      return { upper, upperDir, lower: await openImageView(cx, c) };
    } catch (e) {
      await upper.close();
      throw e;
    }
  });
  try {
    const opaque = await opaqueDirs(views.upperDir);
    return await computeChanges(views.upper, views.lower, { opaque, exclude: isEngineManaged });
  } finally {
    await views.upper.close();
    await views.lower?.close();
  }
}
