// Tar headers for the archives joey writes (export, cp, commit): ustar, with
// a PAX extended header in front when a field does not fit.

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

const TYPEFLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractions are kept only in a PAX header). */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, as SCHILY.xattr.NAME PAX records (values are bytes). */
  xattrs?: Record<string, Buffer>;
}

export const BLOCK = 512;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** The blocks that end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** Zero bytes that pad `size` bytes of data to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

function octal(b: Buffer, off: number, width: number, v: number): void {
  b.write(Math.floor(v).toString(8).padStart(width - 1, '0') + '\0', off, width, 'latin1');
}

/** One PAX record, "LEN KEY=VALUE\n", its length counting itself. */
function record(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustar(h: TarHeader, name: Buffer, prefix: Buffer, typeflag: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  name.copy(b, 0);
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, Math.min(h.uid, MAX_OCTAL_7));
  octal(b, 116, 8, Math.min(h.gid, MAX_OCTAL_7));
  octal(b, 124, 12, Math.min(h.size, MAX_OCTAL_11));
  octal(b, 136, 12, Math.min(Math.max(h.mtime, 0), MAX_OCTAL_11));
  b.write(typeflag, 156, 'latin1');
  if (h.linkname !== undefined) Buffer.from(h.linkname).subarray(0, 100).copy(b, 157);
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  octal(b, 329, 8, Math.min(h.devmajor ?? 0, MAX_OCTAL_7));
  octal(b, 337, 8, Math.min(h.devminor ?? 0, MAX_OCTAL_7));
  prefix.copy(b, 345);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

/** Splits a long name at a "/" into ustar's prefix (≤155 bytes) and name (≤100). */
function splitName(name: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (name.length <= 100) return { prefix: Buffer.alloc(0), name };
  for (let i = Math.min(name.length - 1, 155); i > 0; i--) {
    if (name[i] === 0x2f && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
  }
  return undefined;
}

/** The header blocks of one entry (a PAX header first when needed). */
export function encodeHeader(h: TarHeader): Buffer {
  const nameBytes = Buffer.from(h.name);
  const split = splitName(nameBytes);
  const pax: Buffer[] = [];
  if (!split) pax.push(record('path', h.name));
  if (h.linkname !== undefined && Buffer.byteLength(h.linkname) > 100) pax.push(record('linkpath', h.linkname));
  if (h.size > MAX_OCTAL_11) pax.push(record('size', String(h.size)));
  if (h.uid > MAX_OCTAL_7) pax.push(record('uid', String(h.uid)));
  if (h.gid > MAX_OCTAL_7) pax.push(record('gid', String(h.gid)));
  for (const [k, v] of Object.entries(h.xattrs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) pax.push(record(`SCHILY.xattr.${k}`, v));
  const main = ustar(h, split ? split.name : nameBytes.subarray(0, 100), split ? split.prefix : Buffer.alloc(0), TYPEFLAG[h.type]);
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax);
  const paxName = Buffer.from('PaxHeaders/' + (h.name.split('/').filter(Boolean).pop() ?? 'x')).subarray(0, 100);
  const paxHeader = ustar({ ...h, size: body.length, linkname: undefined }, paxName, Buffer.alloc(0), 'x');
  return Buffer.concat([paxHeader, body, padding(body.length), main]);
}
