// Entry names from a hostile tar: normalized to paths relative to the layer
// root, refused when they could reach outside it, and sorted into the OCI
// whiteout forms.
import { listXattrs, readXattrsIn } from '../sys/xattr.ts';
import { dataLoss } from '../errdefs/index.ts';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE = '.wh..wh..opq';

export type Target =
  /** An ordinary entry; '' is the layer root itself. */
  | { kind: 'path'; path: string }
  /** `.wh.NAME`: NAME (in the same directory) is deleted. */
  | { kind: 'whiteout'; path: string }
  /** `.wh..wh..opq`: the lower layers' content of `dir` is hidden. */
  | { kind: 'opaque'; dir: string }
  /** Other `.wh..wh.*` names: AUFS bookkeeping, nothing to unpack. */
  | { kind: 'ignore' };

/** A quoted name for messages: names are untrusted and may hold newlines. */
export function q(name: string): string {
  return JSON.stringify(name);
}

/** `raw` relative to the layer root without ".", ".." or empty components.
 * `what` prefixes the message when `raw` is absolute or escapes the root. */
export function cleanPath(raw: string, what: string): string {
  if (raw.includes('\0')) throw dataLoss(`${what}: name contains a NUL byte`);
  // A bare "/" is the layer root itself (umoci writes one); anything else
  // absolute is refused.
  if (raw.startsWith('/') && !/^\/+$/.test(raw)) throw dataLoss(`${what}: absolute path ${q(raw)} is not allowed in a layer`);
  const out: string[] = [];
  for (const c of raw.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw dataLoss(`${what}: path ${q(raw)} escapes the layer root`);
      out.pop();
    } else {
      out.push(c);
    }
  }
  return out.join('/');
}

export function entryLabel(name: string): string {
  return `layer entry ${q(name)}`;
}

/** Where the entry `name` lands and in what form. */
export function classify(name: string): Target {
  const label = entryLabel(name);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  // Inside AUFS's top-level metadata directories (.wh..wh.plnk, ...): skipped, as Docker does.
  if (parts.length > 1 && parts[0]!.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return { kind: 'ignore' };
  // A whiteout marker is a file: as a directory it only serves to hide a
  // ".." that cleaning would otherwise apply to it (".wh.../../x").
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i]!.startsWith(WHITEOUT_PREFIX)) throw dataLoss(`${label}: whiteout ${q(parts[i]!)} used as a directory`);
  }
  const path = cleanPath(name, label);
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'path', path };
  const dir = slash === -1 ? '' : path.slice(0, slash);
  if (base === OPAQUE) return { kind: 'opaque', dir };
  if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return { kind: 'ignore' };
  const victim = base.slice(WHITEOUT_PREFIX.length);
  if (victim === '' || victim === '.' || victim === '..') {
    throw dataLoss(`${label}: whiteout of ${q(victim)} does not name an entry in its directory`);
  }
  return { kind: 'whiteout', path: dir === '' ? victim : `${dir}/${victim}` };
}

/** The extended attributes layers, commits and a build's COPY carry: file
 * capabilities and the user.* namespace, as Docker keeps them. trusted.*
 * (overlayfs's own), overlayfs's user.overlay.* and the rest stay behind. */
export function isKeptXattr(name: string): boolean {
  return name === 'security.capability' || (name.startsWith('user.') && !name.startsWith('user.overlay.'));
}

/** A getfattr -m pattern for a superset of what isKeptXattr keeps. */
export const KEPT_XATTRS_NAMES = 'user\\..*|security\\.capability';
export const KEPT_XATTRS_PATTERN = `^(${KEPT_XATTRS_NAMES})$`;

/** The kept ones of a path's attributes, or undefined when none is. */
export function keptXattrs(attrs: Iterable<[string, Buffer]> | undefined): Record<string, Buffer> | undefined {
  if (!attrs) return undefined;
  let out: Record<string, Buffer> | undefined;
  for (const [k, v] of attrs) if (isKeptXattr(k)) (out ??= {})[k] = v;
  return out;
}

/** The kept attributes of one entry of an open directory (its last
 * component not followed), read in-process: see inProcessXattrs. */
export function keptXattrsAt(dirFd: number, name: string): Record<string, Buffer> | undefined {
  return readXattrsIn(`/proc/${process.pid}/fd/${dirFd}/${name}`, isKeptXattr);
}

/** The kept attributes of every path under `path` (a host path, or a
 * /proc/PID/fd link), by path relative to it ("" for itself): one getfattr walk. */
export async function listKeptXattrs(path: string): Promise<Map<string, Record<string, Buffer>>> {
  const out = new Map<string, Record<string, Buffer>>();
  for (const [rel, attrs] of await listXattrs(path, KEPT_XATTRS_PATTERN)) {
    const kept = keptXattrs(Object.entries(attrs));
    if (kept) out.set(rel, kept);
  }
  return out;
}

