// Building tar archives entry by entry with tar-stream, exactly as written:
// names are not cleaned, so tests can make archives that no tool would.
import { gunzipSync, gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';

export interface TarEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  content?: string | Buffer;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  mtime?: Date;
}

/** An uncompressed tar of the entries, in order. */
export function tarBuffer(entries: TarEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    const header: tarStream.Headers = {
      name: e.name,
      type: e.type,
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_700_000_000_000),
      size: e.type === 'file' ? content?.length ?? 0 : 0,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor } : {}),
      ...(e.devminor !== undefined ? { devminor: e.devminor } : {}),
    };
    pack.entry(header, e.type === 'file' ? content ?? Buffer.alloc(0) : undefined);
  }
  pack.finalize();
  return done;
}

/** A gzipped tar of the entries (a layer blob). */
export async function tarGz(entries: TarEntry[]): Promise<Buffer> {
  return gzipSync(await tarBuffer(entries));
}

export interface ListedEntry {
  name: string;
  type: string;
  size: number;
  linkname?: string;
  mode: number;
}

/** The entries of a tar or tar.gz, in order. */
export async function listTar(data: Buffer): Promise<ListedEntry[]> {
  const plain = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  const extract = tarStream.extract();
  const out: ListedEntry[] = [];
  const done = new Promise<ListedEntry[]>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      out.push({ name: h.name, type: h.type ?? 'file', size: h.size ?? 0, mode: h.mode ?? 0, ...(h.linkname ? { linkname: h.linkname } : {}) });
      stream.on('end', next);
      stream.resume();
    });
    extract.on('finish', () => resolve(out));
    extract.on('error', reject);
  });
  extract.end(plain);
  return done;
}
