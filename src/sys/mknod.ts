// Device nodes and FIFOs, which Node cannot create.
//
// Whiteouts come by the thousand in some layers, and a process per node
// costs a millisecond or more each. So they are all made by one GNU tar
// (Essential in Debian) extracting a small archive of 0/0 character devices
// that we write here. Callers must pass paths whose parents are real
// directories: tar, like mknod, follows a symlinked parent.
import { invalid } from '../errdefs/index.ts';
import { run } from './exec.ts';

/** Creates the FIFO `path` (mode 0666 less the umask). */
export async function makeFifo(path: string): Promise<void> {
  await run('mknod', ['--', path, 'p']);
}

/** Creates a 0/0 character device with mode 0 (an overlay whiteout, as
 * overlayfs makes them) at each of `paths`, relative to `root`. Fails if
 * any of them exists. */
export async function mknodWhiteouts(root: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const blocks: Buffer[] = [];
  for (const p of paths) {
    if (p === '' || p.startsWith('/') || p.split('/').includes('..')) throw invalid(`bad whiteout path ${JSON.stringify(p)}`);
    const name = Buffer.from(p);
    if (name.length > 100) {
      // GNU long name: the next header's name is this entry's body.
      const body = Buffer.concat([name, Buffer.alloc(1)]);
      blocks.push(header(Buffer.from('././@LongLink'), 'L', body.length), pad(body));
    }
    blocks.push(header(name.subarray(0, 100), '3', 0));
  }
  blocks.push(Buffer.alloc(1024));
  // -m: the nodes get the current time, as with mknod; -k: never replace anything.
  await run('tar', ['-x', '-f', '-', '-C', root, '-m', '-k', '-p', '--same-owner', '--numeric-owner'], {
    input: Buffer.concat(blocks),
  });
}

function header(name: Buffer, typeflag: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  name.copy(b, 0);
  const field = (off: number, width: number, v: number) => b.write(v.toString(8).padStart(width - 1, '0') + '\0', off, 'latin1');
  field(100, 8, 0); // mode
  field(108, 8, 0); // uid
  field(116, 8, 0); // gid
  field(124, 12, size);
  field(136, 12, 0); // mtime
  b.write(typeflag, 156, 'latin1');
  b.write('ustar  \0', 257, 'latin1'); // GNU format, for the long-name entries
  field(329, 8, 0); // devmajor
  field(337, 8, 0); // devminor
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

function pad(body: Buffer): Buffer {
  const rest = body.length % 512;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(512 - rest)]);
}
