// joey cp: files between a container and here, as tar streams through the
// archive endpoints, with docker's path rules (a trailing "/" or "/." means
// a directory; the copy is renamed to the destination's name otherwise).
import { createReadStream, promises as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Headers } from 'tar-stream';
import { ApiError } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { containerPath } from './container-each.ts';
import { humanSizeWithPrecision } from './units.ts';

export interface CpOptions {
  followLink?: boolean;
  archive?: boolean;
  quiet?: boolean;
}

/** The daemon's X-Docker-Container-Path-Stat (mode in Go's os.FileMode bits). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_IRREGULAR = 2 ** 19;

// ---------------------------------------------------------------- paths (go-archive's rules)

/** Go's filepath.Clean. */
function clean(p: string): string {
  const n = path.posix.normalize(p === '' ? '.' : p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const specifiesCurrentDir = (p: string) => path.posix.basename(p) === '.' || p === '.';
const hasTrailingSeparator = (p: string) => p.endsWith('/');
const assertsDirectory = (p: string) => hasTrailingSeparator(p) || specifiesCurrentDir(p);

export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(out)) out += '/';
    out += '.';
  }
  if (!hasTrailingSeparator(out) && hasTrailingSeparator(original)) out += '/';
  return out;
}

export function splitPathDirEntry(p: string): [dir: string, base: string] {
  let cleaned = clean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [path.posix.dirname(cleaned), path.posix.basename(cleaned)];
}

/** RebaseArchiveEntries: the first occurrence of oldBase in a name becomes newBase. */
function rebase(name: string, oldBase: string, newBase: string): string {
  const from = oldBase === '/' ? '' : oldBase;
  const i = name.indexOf(from);
  return i < 0 ? name : name.slice(0, i) + newBase + name.slice(i + from.length);
}

/** docker's splitCpArg: "ctr:path", or a local path. */
export function splitCpArg(arg: string): [container: string, path: string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.slice(0, i).startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** PrepareArchiveCopy: the directory to extract into and how to rename. */
function prepareCopy(src: CopyInfo, dst: CopyInfo): { dir: string; from?: string; to?: string } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dir: dst.path };
  if (dst.exists && src.isDir) throw new StatusError('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new StatusError('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dir: dstDir, from: srcBase, to: dstBase };
}

function errnoText(err: unknown, op: string, p: string): StatusError {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links' };
  return new StatusError(`${op} ${p}: ${(e.code && reasons[e.code]) ?? e.message}`);
}

// ---------------------------------------------------------------- the daemon's side

function decodeStat(header: string | string[] | undefined): PathStat | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  try {
    return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as PathStat;
  } catch {
    return undefined;
  }
}

async function statPath(cli: Cli, container: string, p: string): Promise<PathStat> {
  const res = await cli.client.head(containerPath(container, '/archive'), { query: { path: p } });
  if (res.status >= 400) throw new ApiError(res.status, `Could not find the file ${p} in container ${container}`);
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  if (!stat) throw new StatusError('unable to decode container path stat header');
  return stat;
}

// ---------------------------------------------------------------- progress

class Progress {
  total = 0;
  private timer?: NodeJS.Timeout;
  private readonly tty: boolean;

  constructor(
    private readonly cli: Cli,
    private readonly header: string,
  ) {
    this.tty = !!cli.io.stderr.isTTY;
  }

  count<T extends AsyncIterable<Buffer>>(src: T): AsyncIterable<Buffer> {
    const self = this;
    return (async function* () {
      for await (const c of src) {
        self.total += c.length;
        yield c;
      }
    })();
  }

  start(): void {
    if (!this.tty) return;
    const err = (s: string) => this.cli.err(s);
    err('\x1b7Preparing to copy...');
    err('\x1b[?25l\x1b8\x1b[2K' + this.header + size(0));
    let last = 0;
    this.timer = setInterval(() => {
      if (this.total === last) return;
      err(`\x1b[${this.header.length + 1}G\x1b[0K${size(this.total)}`);
      last = this.total;
    }, 75);
  }

  finish(dest: string): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.cli.err('\x1b[?25h\x1b8\x1b[2K');
    this.cli.err(`Successfully copied ${size(this.total)} to ${dest}\n`);
  }
}

const size = (n: number) => humanSizeWithPrecision(n, 3);

// ---------------------------------------------------------------- from the container

export async function runCp(cli: Cli, source: string, destination: string, opts: CpOptions): Promise<void> {
  if (source === '') throw new StatusError('source can not be empty');
  if (destination === '') throw new StatusError('destination can not be empty');
  const quiet = opts.quiet ?? !cli.stdoutIsTerminal;
  const [srcContainer, srcPath] = splitCpArg(source);
  const [dstContainer, dstPath] = splitCpArg(destination);
  if (srcContainer && dstContainer) throw new StatusError('copying between containers is not supported');
  if (srcContainer) return copyFromContainer(cli, srcContainer, srcPath, dstPath, { ...opts, quiet });
  if (dstContainer) return copyToContainer(cli, dstContainer, srcPath, dstPath, { ...opts, quiet });
  throw new StatusError('must specify at least one container source');
}

const resolveLocal = (cli: Cli, p: string) => preserveTrailingDotOrSeparator(path.resolve(cli.cwd, p), p);

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** ValidateOutputPath: the parent must exist; an existing path must be a file or directory. */
async function validateOutputPath(p: string): Promise<void> {
  const dir = path.dirname(clean(p));
  if (dir !== '' && dir !== '.') {
    try {
      await fs.stat(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StatusError(`invalid output path: directory ${JSON.stringify(dir)} does not exist`);
    }
  }
  try {
    const st = await fs.stat(p);
    if (!st.isDirectory() && !st.isFile()) {
      const what = st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : 'got an irregular file';
      throw new StatusError(`invalid output path: ${JSON.stringify(p)} must be a directory or a regular file: ${what}`);
    }
  } catch (err) {
    if (err instanceof StatusError) throw err;
  }
}

async function copyFromContainer(cli: Cli, container: string, srcPathIn: string, dstIn: string, opts: CpOptions): Promise<void> {
  const dst = dstIn === '-' ? '-' : resolveLocal(cli, dstIn);
  await validateOutputPath(dst);
  let srcPath = srcPathIn;
  let rebaseName = '';
  if (opts.followLink) {
    try {
      const st = await statPath(cli, container, srcPath);
      if (st.mode & MODE_SYMLINK) {
        let target = st.linkTarget;
        if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(srcPath)[0], target);
        // GetRebaseName
        if (specifiesCurrentDir(srcPath) && !specifiesCurrentDir(target)) target += '/.';
        if (hasTrailingSeparator(srcPath) && !hasTrailingSeparator(target)) target += '/';
        if (path.posix.basename(srcPath) !== path.posix.basename(target)) rebaseName = path.posix.basename(srcPath);
        srcPath = target;
      }
    } catch {
      // docker goes on with the path as given
    }
  }
  const res = await cli.client.stream('GET', containerPath(container, '/archive'), { query: { path: srcPath } });
  if (dst === '-') {
    await cli.pipeToStdout(res);
    return;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const srcInfo: CopyInfo = { path: srcPath, exists: true, isDir: !!stat && (stat.mode & MODE_DIR) !== 0, rebaseName };
  const progress = opts.quiet ? undefined : new Progress(cli, 'Copying from container - ');
  let content: AsyncIterable<Buffer> = res;
  if (progress) content = progress.count(res);
  // an entry named for a symlink's target goes back under the link's name
  const [, srcBase] = splitPathDirEntry(srcInfo.path);
  const entryRename = rebaseName ? (n: string) => rebase(n, srcBase, rebaseName) : (n: string) => n;
  progress?.start();
  try {
    const dstInfo = await destinationInfo(dst);
    const plan = prepareCopy(srcInfo, dstInfo);
    const rename = plan.from !== undefined ? (n: string) => rebase(entryRename(n), plan.from!, plan.to!) : entryRename;
    await untar(content, plan.dir, rename);
  } finally {
    progress?.finish(dst);
  }
}

/** CopyInfoDestinationPath: follows symlinks; a missing path needs an existing parent directory. */
async function destinationInfo(p: string): Promise<CopyInfo> {
  let cur = p;
  let st = await lstatOrUndefined(cur);
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new StatusError(`too many symlinks in ${p}`);
    let target = await fs.readlink(cur);
    if (!path.isAbsolute(target)) target = path.join(splitPathDirEntry(cur)[0], target);
    cur = target;
    st = await lstatOrUndefined(cur);
  }
  if (!st) {
    const [parent] = splitPathDirEntry(cur);
    let ps: Stats;
    try {
      ps = await fs.stat(parent);
    } catch (err) {
      throw errnoText(err, 'stat', parent);
    }
    if (!ps.isDirectory()) throw new StatusError('not a directory');
    return { path: cur, exists: false, isDir: false, rebaseName: '' };
  }
  return { path: cur, exists: true, isDir: st.isDirectory(), rebaseName: '' };
}

/** Untar with NoLchown and NoOverwriteDirNonDir, as docker's CopyTo. */
export async function untar(content: AsyncIterable<Buffer>, dest: string, rename: (name: string) => string = (n) => n): Promise<void> {
  const extract = tar.extract();
  const feeding = (async () => {
    for await (const c of content) if (!extract.write(c)) await once(extract, 'drain');
    extract.end();
  })();
  feeding.catch((err: unknown) => extract.destroy(err as Error));
  const dirTimes: Array<[string, Date]> = [];
  const root = path.resolve(dest);
  for await (const entry of extract) {
    const h = entry.header;
    const name = clean(rename(h.name));
    const target = path.join(root, name);
    if (target !== root && !target.startsWith(root + path.sep)) throw new StatusError(`invalid path: ${JSON.stringify(h.name)} is outside of the destination`);
    if (h.type === 'pax-header' || h.type === 'pax-global-header') {
      entry.resume();
      continue;
    }
    const parent = path.dirname(target);
    if (!(await lstatOrUndefined(parent))) await fs.mkdir(parent, { recursive: true, mode: 0o755 });
    const existing = target === root ? undefined : await lstatOrUndefined(target);
    const isDir = h.type === 'directory';
    if (existing) {
      if (existing.isDirectory() && !isDir) throw new StatusError(`cannot overwrite directory ${JSON.stringify(target)} with non-directory ${JSON.stringify(name)}`);
      if (!existing.isDirectory() && isDir) throw new StatusError(`cannot overwrite non-directory ${JSON.stringify(target)} with directory ${JSON.stringify(name)}`);
      if (!(existing.isDirectory() && isDir)) await fs.rm(target, { recursive: true, force: true });
    }
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory':
        if (target !== root && !existing) await fs.mkdir(target, { mode });
        entry.resume();
        break;
      case 'symlink':
        await fs.symlink(h.linkname ?? '', target);
        entry.resume();
        break;
      case 'link': {
        const linkTarget = path.join(root, clean(rename(h.linkname ?? '')));
        if (!linkTarget.startsWith(root + path.sep)) throw new StatusError(`invalid hardlink ${JSON.stringify(h.linkname)} -> ${JSON.stringify(h.name)}`);
        await fs.link(linkTarget, target);
        entry.resume();
        break;
      }
      case 'file':
      case 'contiguous-file':
      case undefined:
      case null: {
        const fh = await fs.open(target, 'w', mode);
        try {
          for await (const c of entry) await fh.write(c as Buffer);
        } finally {
          await fh.close();
        }
        break;
      }
      default:
        // devices and fifos need privileges joey's client does not assume
        entry.resume();
        continue;
    }
    if (h.type !== 'symlink') {
      if (target !== root || existing === undefined) await fs.chmod(target, mode);
      const mtime = h.mtime ?? new Date();
      if (isDir) dirTimes.push([target, mtime]);
      else await fs.utimes(target, mtime, mtime);
    }
  }
  await feeding;
  for (const [p, t] of dirTimes.reverse()) await fs.utimes(p, t, t).catch(() => {});
}

// ---------------------------------------------------------------- to the container

/** TarResource: the source (a file, or a directory and everything below),
 * named relative to its parent, renamed as PrepareArchiveCopy says. */
export function tarSource(srcPath: string, rename: (name: string) => string): Readable {
  const pack = tar.pack();
  const [dir, base] = splitPathDirEntry(srcPath);
  const seenInodes = new Map<number, string>();
  const add = async (abs: string, rel: string): Promise<void> => {
    const st = await fs.lstat(abs);
    const name = rename(rel);
    const header: Headers = {
      name: st.isDirectory() ? name.replace(/\/?$/, '/') : name,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000),
      size: 0,
    };
    if (st.isDirectory()) {
      header.type = 'directory';
      await entry(header);
      for (const child of (await fs.readdir(abs)).sort()) await add(path.join(abs, child), rel === '.' ? `./${child}` : `${rel}/${child}`);
    } else if (st.isSymbolicLink()) {
      header.type = 'symlink';
      header.linkname = await fs.readlink(abs);
      await entry(header);
    } else if (st.isFile()) {
      const first = st.nlink > 1 ? seenInodes.get(st.ino) : undefined;
      if (first !== undefined) {
        header.type = 'link';
        header.linkname = first;
        await entry(header);
        return;
      }
      if (st.nlink > 1) seenInodes.set(st.ino, name);
      header.type = 'file';
      header.size = st.size;
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        createReadStream(abs).on('error', reject).pipe(w);
      });
    } else if (st.isFIFO()) {
      header.type = 'fifo';
      await entry(header);
    }
  };
  const entry = (h: Headers) => new Promise<void>((resolve, reject) => pack.entry(h, (err) => (err ? reject(err) : resolve())));
  void (async () => {
    try {
      await add(path.join(dir, base), base);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack;
}

async function copyToContainer(cli: Cli, container: string, srcIn: string, dstPath: string, opts: CpOptions): Promise<void> {
  const src = srcIn === '-' ? '-' : resolveLocal(cli, srcIn);
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let stat: PathStat | undefined;
  try {
    stat = await statPath(cli, container, dstPath);
    if (stat.mode & MODE_SYMLINK) {
      let target = stat.linkTarget;
      if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(dstPath)[0], target);
      dstInfo.path = target;
      stat = await statPath(cli, container, target);
    }
  } catch {
    stat = undefined;
  }
  if (stat && (stat.mode & (MODE_DEVICE | MODE_IRREGULAR)) !== 0) {
    const what = stat.mode & MODE_DEVICE ? 'got a device' : 'got an irregular file';
    throw new StatusError(`destination "${container}:${dstPath}" must be a directory or a regular file: ${what}`);
  }
  if (stat) {
    dstInfo.exists = true;
    dstInfo.isDir = (stat.mode & MODE_DIR) !== 0;
  }

  let body: Readable;
  let resolvedDst: string;
  let progress: Progress | undefined;
  if (src === '-') {
    if (!dstInfo.isDir) throw new StatusError(`destination "${container}:${dstPath}" must be a directory`);
    body = cli.io.stdin as unknown as Readable;
    resolvedDst = dstInfo.path;
  } else {
    const srcInfo = await sourceInfo(src, !!opts.followLink);
    const plan = prepareCopy(srcInfo, dstInfo);
    resolvedDst = plan.dir;
    const [, srcBase] = splitPathDirEntry(srcInfo.path);
    const renames: Array<(n: string) => string> = [];
    if (srcInfo.rebaseName) renames.push((n) => rebase(n, srcBase, srcInfo.rebaseName));
    if (plan.from !== undefined) renames.push((n) => rebase(n, plan.from!, plan.to!));
    const packed = tarSource(srcInfo.path, (n) => renames.reduce((acc, f) => f(acc), n));
    if (!opts.quiet) {
      progress = new Progress(cli, 'Copying to container - ');
      body = Readable.from(progress.count(packed));
    } else body = packed.pipe(new PassThrough());
  }
  progress?.start();
  try {
    const res = await cli.client.stream('PUT', containerPath(container, '/archive'), {
      query: { path: resolvedDst, noOverwriteDirNonDir: 'true', copyUIDGID: opts.archive ? 'true' : undefined },
      headers: { 'Content-Type': 'application/x-tar' },
      body,
    });
    res.resume();
  } finally {
    progress?.finish(`${container}:${dstInfo.path}`);
  }
}

/** CopyInfoSourcePath: resolves symlinks in the parent (or all, with -L). */
async function sourceInfo(p: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    try {
      resolved = await fs.realpath(p);
    } catch (err) {
      throw errnoText(err, 'lstat', p);
    }
    if (specifiesCurrentDir(p) && !specifiesCurrentDir(resolved)) resolved += '/.';
    if (hasTrailingSeparator(p) && !hasTrailingSeparator(resolved)) resolved += '/';
    if (path.posix.basename(p) !== path.posix.basename(resolved)) rebaseName = path.posix.basename(p);
  } else {
    const slash = p.lastIndexOf('/');
    const dirPart = p.slice(0, slash + 1);
    const basePart = p.slice(slash + 1);
    let resolvedDir: string;
    try {
      resolvedDir = await fs.realpath(dirPart || '.');
    } catch (err) {
      throw errnoText(err, 'lstat', clean(dirPart));
    }
    resolved = (resolvedDir === '/' ? '' : resolvedDir) + '/' + basePart;
    if (hasTrailingSeparator(p) && path.posix.basename(p) !== path.posix.basename(resolved)) rebaseName = path.posix.basename(p);
  }
  let st: Stats;
  try {
    st = await fs.lstat(resolved);
  } catch (err) {
    throw errnoText(err, 'lstat', resolved);
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}
