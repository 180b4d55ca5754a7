// A minimal ustar writer: headers for directories, regular files and
// symlinks, padding, and the end-of-archive marker. Enough to build image
// layers; names longer than 100 bytes are split into prefix/name.

export const BLOCK = 512;

export interface TarHeader {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size?: number;
  linkname?: string;
  mtime?: number;
  uid?: number;
  gid?: number;
}

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar field too long (${bytes.length} > ${length}): ${value}`);
  bytes.copy(buf, offset);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits, then NUL
  const s = Math.floor(value).toString(8).padStart(length - 1, '0');
  if (s.length > length - 1) throw new Error(`tar numeric field overflow: ${value}`);
  writeString(buf, offset, length, s);
}

function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  const cut = name.lastIndexOf('/', 155);
  if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar name too long: ${name}`);
  return { prefix: name.slice(0, cut), name: name.slice(cut + 1) };
}

/** One 512-byte ustar header block. */
export function tarHeader(h: TarHeader): Buffer {
  const buf = Buffer.alloc(BLOCK);
  const entryName = h.type === 'dir' && !h.name.endsWith('/') ? h.name + '/' : h.name;
  const { prefix, name } = splitName(entryName);
  writeString(buf, 0, 100, name);
  writeOctal(buf, 100, 8, h.mode);
  writeOctal(buf, 108, 8, h.uid ?? 0);
  writeOctal(buf, 116, 8, h.gid ?? 0);
  writeOctal(buf, 124, 12, h.type === 'file' ? (h.size ?? 0) : 0);
  writeOctal(buf, 136, 12, h.mtime ?? 1_700_000_000);
  buf.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  buf.write(h.type === 'file' ? '0' : h.type === 'dir' ? '5' : '2', 156, 'latin1');
  if (h.linkname !== undefined) writeString(buf, 157, 100, h.linkname);
  writeString(buf, 257, 6, 'ustar\0');
  writeString(buf, 263, 2, '00');
  writeString(buf, 265, 32, 'root');
  writeString(buf, 297, 32, 'root');
  writeString(buf, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i] ?? 0;
  writeString(buf, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return buf;
}

/** Zero bytes that pad a file body of size bytes to a whole block. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}
