// A push-fed tar tokenizer for hostile input. It is ours rather than
// tar-stream's extract because layers need what that one cannot give: pax
// values as raw bytes (a security.capability xattr is binary and does not
// survive a UTF-8 round trip), a stop at the end-of-archive marker as Go's
// archive/tar has (what follows it is padding, hashed but not parsed), global
// pax headers ignored as Docker ignores them, and data handed out as slices
// of the decompressor's buffers with no stream object per entry.
import { dataLoss, notImplemented } from '../errdefs/index.ts';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'unsupported';

export interface TarEntry {
  name: string;
  linkname: string;
  type: EntryType;
  /** The raw typeflag character, for messages about unsupported entries. */
  typeflag: string;
  /** Permission bits only (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header (0 for header-only types). */
  size: number;
  /** Seconds since the epoch, fractional when a pax record gave it. */
  mtime: number;
  atime: number | undefined;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* pax records, values as raw bytes. */
  xattrs: Map<string, Buffer> | undefined;
  /** Byte offset of the entry's header in the uncompressed stream. */
  offset: number;
}

export type TarToken =
  /** `data` is the whole content when the entry is small or header-only;
   * otherwise `data` chunks and an `entry-end` follow. */
  | { kind: 'entry'; entry: TarEntry; data: Buffer | undefined }
  | { kind: 'data'; data: Buffer }
  | { kind: 'entry-end' }
  | { kind: 'end' };

const BLOCK = 512;
const EMPTY = Buffer.alloc(0);
/** Extended headers (pax, GNU long names) are held in memory: cap them. */
const MAX_META = 4 << 20;

type State = 'header' | 'meta' | 'small' | 'data' | 'skip' | 'end';

interface Pending {
  pax: Map<string, Buffer> | undefined;
  longName: string | undefined;
  longLink: string | undefined;
}

export class TarReader {
  private bufs: Buffer[] = [];
  private head = 0; // offset into bufs[0]
  private avail = 0;
  private pos = 0; // stream offset of the next unread byte
  private state: State = 'header';
  private remaining = 0; // bytes of data (or meta body) left in the current entry
  private pad = 0; // padding after the current data
  private metaType = 0;
  private metaOffset = 0;
  private current: TarEntry | undefined;
  private zeroSeen = false;
  private pending: Pending = { pax: undefined, longName: undefined, longLink: undefined };

  /** Entries of a regular file up to this size come whole in one token. */
  constructor(private readonly smallFile = 1 << 20) {}

  get ended(): boolean {
    return this.state === 'end';
  }

  push(chunk: Buffer): void {
    if (this.state === 'end' || chunk.length === 0) return;
    this.bufs.push(chunk);
    this.avail += chunk.length;
  }

  /** The next token, or undefined when more input is needed (or after the end). */
  next(): TarToken | undefined {
    for (;;) {
      switch (this.state) {
        case 'end':
          return undefined;
        case 'skip': {
          this.pad -= this.skip(this.pad);
          if (this.pad > 0) return undefined;
          this.state = 'header';
          continue;
        }
        case 'header': {
          if (this.avail < BLOCK) return undefined;
          const offset = this.pos;
          const block = this.take(BLOCK);
          if (isZero(block)) {
            if (this.zeroSeen) {
              this.state = 'end';
              this.bufs = [];
              this.avail = 0;
              return { kind: 'end' };
            }
            this.zeroSeen = true;
            continue;
          }
          if (this.zeroSeen) throw dataLoss(`corrupt layer: data after a zero block at offset ${offset}`);
          const tok = this.header(block, offset);
          if (tok) return tok;
          continue;
        }
        case 'meta': {
          if (this.avail < this.remaining) return undefined;
          const body = this.take(this.remaining);
          this.meta(body);
          this.state = 'skip';
          continue;
        }
        case 'small': {
          const entry = this.current!;
          if (this.avail < entry.size) return undefined;
          const data = this.take(entry.size);
          this.state = 'skip';
          this.current = undefined;
          return { kind: 'entry', entry, data };
        }
        case 'data': {
          if (this.remaining === 0) {
            this.state = 'skip';
            this.current = undefined;
            return { kind: 'entry-end' };
          }
          if (this.avail === 0) return undefined;
          const data = this.takeSome(this.remaining);
          this.remaining -= data.length;
          return { kind: 'data', data };
        }
      }
    }
  }

  /** Call when the input has ended: throws if it ended inside an entry. */
  finish(): void {
    const clean = this.state === 'end' || (this.state === 'header' && this.avail === 0);
    if (clean) return;
    const where = this.current ? ` in entry ${JSON.stringify(this.current.name)}` : '';
    throw dataLoss(`layer is truncated${where} (at offset ${this.pos + this.avail})`);
  }

  private header(b: Buffer, offset: number): TarToken | undefined {
    const corrupt = (why: string, name?: string) =>
      dataLoss(`corrupt tar header${name === undefined ? '' : ` for ${JSON.stringify(name)}`} at offset ${offset}: ${why}`);
    const stored = octal(b, 148, 8);
    const [unsigned, signed] = checksums(b);
    if (stored === undefined || (stored !== unsigned && stored !== signed)) throw corrupt('checksum mismatch');

    // "ustar\0" (POSIX) or "ustar " (GNU); anything else is a V7 header.
    const isUstar = b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72;
    const ustar = isUstar && b[262] === 0;
    const gnu = isUstar && b[262] === 0x20;
    let name = cstr(b, 0, 100);
    if (ustar && b[345] !== 0) {
      // star archives end the header with "tar\0" and keep a shorter prefix.
      const star = b.toString('latin1', 508, 512) === 'tar\0';
      name = cstr(b, 345, star ? 131 : 155) + '/' + name;
    }
    const num = (off: number, len: number, field: string): number => {
      const v = numeric(b, off, len);
      if (v === undefined) throw corrupt(`invalid ${field}`, name);
      return v;
    };
    const flag = b[156]!;
    let size = num(124, 12, 'size');
    if (size < 0) throw corrupt('negative size', name);

    switch (flag) {
      case 0x78: // 'x' pax header for the next entry
      case 0x4c: // 'L' GNU long name
      case 0x4b: // 'K' GNU long link name
        if (size > MAX_META) throw corrupt(`extended header of ${size} bytes is too large`, name);
        this.metaType = flag;
        this.metaOffset = offset;
        this.remaining = size;
        this.pad = padding(size);
        this.state = 'meta';
        return undefined;
      case 0x67: // 'g' global pax header: ignored, as Docker does
        this.pad = size + padding(size);
        this.state = 'skip';
        return undefined;
    }

    const p = this.pending;
    this.pending = { pax: undefined, longName: undefined, longLink: undefined };
    const pax = p.pax;
    const paxStr = (k: string) => {
      const v = pax?.get(k);
      return v && v.length > 0 ? v.toString('utf8') : undefined;
    };
    name = paxStr('path') ?? p.longName ?? name;
    const linkname = paxStr('linkpath') ?? p.longLink ?? cstr(b, 157, 100);

    const paxInt = (k: string, max: number): number | undefined => {
      const s = paxStr(k);
      if (s === undefined) return undefined;
      if (!/^\d{1,16}$/.test(s) || Number(s) > max) throw corrupt(`invalid pax ${k} ${JSON.stringify(s)}`, name);
      return Number(s);
    };
    const paxTime = (k: string): number | undefined => {
      const s = paxStr(k);
      if (s === undefined) return undefined;
      if (!/^-?\d{1,15}(\.\d*)?$/.test(s)) throw corrupt(`invalid pax ${k} ${JSON.stringify(s)}`, name);
      return Number(s);
    };
    size = paxInt('size', Number.MAX_SAFE_INTEGER) ?? size;
    const uid = paxInt('uid', 0xffffffff) ?? num(108, 8, 'uid');
    const gid = paxInt('gid', 0xffffffff) ?? num(116, 8, 'gid');
    if (uid < 0 || uid > 0xffffffff || gid < 0 || gid > 0xffffffff) throw corrupt('uid/gid out of range', name);
    const mtime = paxTime('mtime') ?? num(136, 12, 'mtime');
    const atime = paxTime('atime');
    const mode = num(100, 8, 'mode') & 0o7777;
    const devmajor = ustar || gnu ? num(329, 8, 'devmajor') : 0;
    const devminor = ustar || gnu ? num(337, 8, 'devminor') : 0;

    let xattrs: Map<string, Buffer> | undefined;
    let sparse = flag === 0x53; // 'S' GNU sparse
    if (pax) {
      for (const [k, v] of pax) {
        if (k.startsWith('SCHILY.xattr.')) (xattrs ??= new Map()).set(k.slice(13), v);
        else if (k.startsWith('GNU.sparse.')) sparse = true;
      }
    }

    let type: EntryType;
    switch (flag) {
      case 0x30: // '0'
      case 0x37: // '7' contiguous file: a regular file everywhere that matters
        type = 'file';
        break;
      case 0: // old tars mark directories with a trailing slash only
        type = name.endsWith('/') ? 'directory' : 'file';
        break;
      case 0x31: type = 'link'; break;
      case 0x32: type = 'symlink'; break;
      case 0x33: type = 'char'; break;
      case 0x34: type = 'block'; break;
      case 0x35: type = 'directory'; break;
      case 0x36: type = 'fifo'; break;
      default: type = 'unsupported';
    }
    if (sparse) throw notImplemented(`layer entry ${JSON.stringify(name)}: sparse files are not supported`);
    // Header-only types carry no data whatever their size field says (as in Go).
    if (type !== 'file' && type !== 'unsupported') size = 0;

    const entry: TarEntry = {
      name, linkname, type, typeflag: String.fromCharCode(flag), mode, uid, gid, size, mtime, atime,
      devmajor, devminor, xattrs, offset,
    };
    this.pad = padding(size);
    if (size === 0) {
      this.state = 'skip';
      return { kind: 'entry', entry, data: EMPTY };
    }
    this.current = entry;
    if (type === 'file' && size <= this.smallFile) {
      this.state = 'small';
      return this.next();
    }
    this.remaining = size;
    this.state = 'data';
    return { kind: 'entry', entry, data: undefined };
  }

  private meta(body: Buffer): void {
    const where = `at offset ${this.metaOffset}`;
    switch (this.metaType) {
      case 0x78:
        this.pending.pax = parsePax(body, where);
        break;
      case 0x4c:
        this.pending.longName = cstr(body, 0, body.length);
        break;
      case 0x4b:
        this.pending.longLink = cstr(body, 0, body.length);
        break;
    }
  }

  /** `n` bytes (n <= avail): a slice when they sit in one buffer, else a copy. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.bufs[0]!;
    if (first.length - this.head >= n) return this.takeSome(n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const part = this.takeSome(n - filled);
      part.copy(out, filled);
      filled += part.length;
    }
    return out;
  }

  /** Up to `n` bytes from the first buffer (avail > 0). */
  private takeSome(n: number): Buffer {
    const first = this.bufs[0]!;
    const len = Math.min(n, first.length - this.head);
    const out = first.subarray(this.head, this.head + len);
    this.advance(len);
    return out;
  }

  private skip(n: number): number {
    let skipped = 0;
    while (skipped < n && this.avail > 0) {
      const first = this.bufs[0]!;
      const len = Math.min(n - skipped, first.length - this.head);
      this.advance(len);
      skipped += len;
    }
    return skipped;
  }

  private advance(len: number): void {
    this.head += len;
    this.avail -= len;
    this.pos += len;
    if (this.head === this.bufs[0]!.length) {
      this.bufs.shift();
      this.head = 0;
    }
  }
}

function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** Sums with the checksum field counted as spaces; some old tars summed signed bytes. */
export function checksums(b: Buffer): [number, number] {
  let u = 0;
  let s = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    u += c;
    s += c > 127 ? c - 256 : c;
  }
  return [u, s];
}

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

/** An octal field, trimmed of spaces and NULs as Go does; undefined when invalid. */
function octal(b: Buffer, off: number, len: number): number | undefined {
  let start = off;
  let end = off + len;
  while (start < end && (b[start] === 0x20 || b[start] === 0)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]! - 0x30;
    if (c < 0 || c > 7) return undefined;
    v = v * 8 + c;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : undefined;
}

/** A numeric field: octal, or GNU base-256 (two's complement) when the high bit is set. */
function numeric(b: Buffer, off: number, len: number): number | undefined {
  const first = b[off]!;
  if ((first & 0x80) === 0) return octal(b, off, len);
  const inv = first & 0x40 ? 0xff : 0;
  let v = 0;
  for (let i = 0; i < len; i++) {
    let c = b[off + i]! ^ inv;
    if (i === 0) c &= 0x7f;
    if (v > (Number.MAX_SAFE_INTEGER - c) / 256) return undefined;
    v = v * 256 + c;
  }
  return inv ? -v - 1 : v;
}

/** Pax records "LEN KEY=VALUE\n"; values stay bytes. */
export function parsePax(buf: Buffer, where: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < buf.length) {
    if (buf[i] === 0) break; // NUL padding after the last record
    const sp = buf.indexOf(0x20, i);
    const lenStr = sp === -1 ? '' : buf.toString('latin1', i, sp);
    const len = /^\d{1,8}$/.test(lenStr) ? Number(lenStr) : 0;
    const end = i + len;
    if (len <= lenStr.length + 1 || end > buf.length || buf[end - 1] !== 0x0a) {
      throw dataLoss(`corrupt pax header ${where}: malformed record`);
    }
    const rec = buf.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 1) throw dataLoss(`corrupt pax header ${where}: malformed record`);
    // Copy the value: xattrs outlive the chunk this slice points into.
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    i = end;
  }
  return out;
}
