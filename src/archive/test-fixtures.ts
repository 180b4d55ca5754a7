// Helpers for the archive tests: layer tarballs built with tar-stream's pack
// (so hostile headers are ours to choose) and sandboxes with a sentinel.
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { Headers } from 'tar-stream';

export interface TestEntry extends Partial<Headers> {
  name: string;
  data?: Buffer | string;
}

/** Bytes spliced into the archive as they are (hand-made headers). */
export interface RawBlocks {
  raw: Buffer;
}

/** A tar of `entries`, each packed by tar-stream except raw blocks. */
export async function makeTar(entries: Array<TestEntry | RawBlocks>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if ('raw' in e) parts.push(e.raw);
    else parts.push((await packOne(e)).subarray(0, -1024)); // without its end-of-archive
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

async function packOne({ data, ...header }: TestEntry): Promise<Buffer> {
  const p = pack();
  const parts: Buffer[] = [];
  p.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  const h: Headers = { mtime: new Date(1_000_000_000_000), ...header };
  await new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (data !== undefined) p.entry(h, typeof data === 'string' ? Buffer.from(data) : data, cb);
    else p.entry(h, cb);
  });
  p.finalize();
  await done;
  return Buffer.concat(parts);
}

export interface RawHeader {
  name: string;
  /** One character: '0', 'x', 'L', ... */
  typeflag: string;
  size?: number;
  mode?: number;
  linkname?: string;
  /** 'ustar' (POSIX, the default) or 'gnu'. */
  format?: 'ustar' | 'gnu';
  /** Overrides for numeric fields written as base-256. */
  base256?: { size?: number; uid?: number };
}

/** One hand-made header block followed by `body` padded to a block. */
export function rawEntry(h: RawHeader, body: Buffer = Buffer.alloc(0)): RawBlocks {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  b.write(octal(h.mode ?? 0o644, 7), 100, 'latin1');
  b.write(octal(0, 7), 108, 'latin1');
  b.write(octal(0, 7), 116, 'latin1');
  b.write(octal(h.size ?? body.length, 11), 124, 'latin1');
  b.write(octal(1_000_000_000, 11), 136, 'latin1');
  b.write(h.typeflag, 156, 'latin1');
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  if (h.format === 'gnu') b.write('ustar  \0', 257, 'latin1');
  else b.write('ustar\x0000', 257, 'latin1');
  if (h.base256?.size !== undefined) base256(b, 124, 12, h.base256.size);
  if (h.base256?.uid !== undefined) base256(b, 108, 8, h.base256.uid);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(octal(sum, 6) + '\0 ', 148, 'latin1');
  const pad = (512 - (body.length % 512)) % 512;
  return { raw: Buffer.concat([b, body, Buffer.alloc(pad)]) };
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width, '0');
}

function base256(b: Buffer, off: number, len: number, v: number): void {
  b.fill(0, off, off + len);
  for (let i = off + len - 1; i > off; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  b[off] = 0x80;
}

/** A pax extended header ('x') for the next entry; values may be binary. */
export function paxEntry(records: Array<[string, Buffer | string]>): RawBlocks {
  const body = paxBody(records);
  return rawEntry({ name: 'PaxHeader', typeflag: 'x' }, body);
}

export function gzip(b: Buffer): Buffer {
  return gzipSync(b);
}

export function sha256(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

/** A pax header body from records whose values may be binary. */
export function paxBody(records: Array<[string, Buffer | string]>): Buffer {
  const out: Buffer[] = [];
  for (const [k, v] of records) {
    const value = typeof v === 'string' ? Buffer.from(v) : v;
    const rest = Buffer.concat([Buffer.from(` ${k}=`), value, Buffer.from('\n')]);
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
    out.push(Buffer.from(String(len)), rest);
  }
  return Buffer.concat(out);
}

export interface Sandbox {
  /** Holds `layer` and the sentinel directory `outside`. */
  root: string;
  /** The empty target directory. */
  layer: string;
  outside: string;
  /** Everything under root except layer/, with metadata, to compare before and after. */
  snapshot(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

export async function sandbox(): Promise<Sandbox> {
  const root = await fsp.mkdtemp(join(tmpdir(), 'joey-archive-'));
  const layer = join(root, 'layer');
  const outside = join(root, 'outside');
  await fsp.mkdir(layer);
  await fsp.mkdir(outside);
  await fsp.writeFile(join(outside, 'sentinel'), 'keep me');
  const snapshot = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const name of await fsp.readdir(dir)) {
        const r = rel ? `${rel}/${name}` : name;
        if (r === 'layer') continue;
        const st = await fsp.lstat(join(dir, name));
        out[r] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${st.nlink}`;
        if (st.isDirectory()) await walk(join(dir, name), r);
      }
    };
    const st = await fsp.lstat(root);
    out['.'] = `${st.mode.toString(8)} ${st.mtimeMs}`;
    await walk(root, '');
    const pw = await fsp.lstat('/etc/passwd');
    out['/etc/passwd'] = `${pw.mode.toString(8)} ${pw.uid}:${pw.gid} ${pw.size} ${pw.mtimeMs} ${pw.nlink}`;
    return out;
  };
  return { root, layer, outside, snapshot, cleanup: () => fsp.rm(root, { recursive: true, force: true }) };
}
