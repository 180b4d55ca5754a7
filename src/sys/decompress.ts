// Decompressors that Node's zlib lacks (zstd before Node 22.15, xz, bzip2),
// run as a child process between two pipes: bytes in on stdin, plain bytes
// out of stdout, so a layer still streams and never sits whole in memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { dataLoss, unavailable } from '../errdefs/index.ts';
import { resolveBinary } from './exec.ts';

export type ExternalCompression = 'zstd' | 'xz' | 'bzip2';

const COMMANDS: Record<ExternalCompression, { file: string; args: string[]; pkg: string }> = {
  // -q: no progress on stderr, so stderr holds only the reason of a failure.
  zstd: { file: 'zstd', args: ['-d', '-c', '-q'], pkg: 'zstd' },
  xz: { file: 'xz', args: ['-d', '-c', '-q'], pkg: 'xz-utils' },
  bzip2: { file: 'bzip2', args: ['-d', '-c', '-q'], pkg: 'bzip2' },
};

/**
 * A Duplex that decompresses through `zstd`/`xz`/`bzip2 -dc`. It ends when
 * the program exits 0; a non-zero exit (corrupt or truncated input) fails
 * the stream with the program's own words. Destroying the stream kills the
 * child (it is ours: we spawned it and hold its pid).
 */
export function externalDecompressor(kind: ExternalCompression): Duplex {
  const cmd = COMMANDS[kind];
  let child: ChildProcess;
  try {
    child = spawn(resolveBinary(cmd.file), cmd.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    throw unavailable(`${kind}: cannot run ${cmd.file} (Debian package ${cmd.pkg})`, err);
  }
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let outEnded = false;
  let spawnError: Error | undefined;

  const duplex = new Duplex({
    // One chunk in flight per side; the pipes themselves buffer.
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (spawnError) return cb(spawnError);
      if (stdin.write(chunk)) cb();
      else stdin.once('drain', () => cb());
    },
    final(cb) {
      stdin.end(cb);
    },
    read() {
      stdout.resume();
    },
    destroy(err, cb) {
      if (!exited && child.pid !== undefined) child.kill('SIGKILL');
      stdin.destroy();
      stdout.destroy();
      cb(err);
    },
  });

  const finish = (): void => {
    if (!exited || !outEnded || duplex.destroyed) return;
    if (exited.code === 0) {
      duplex.push(null);
      return;
    }
    const why = stderr.trim().split('\n').pop() || (exited.signal ? `killed by ${exited.signal}` : `exit code ${exited.code}`);
    duplex.destroy(dataLoss(`corrupt ${kind} stream: ${why}`));
  };

  stdout.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) stdout.pause();
  });
  stdout.on('end', () => {
    outEnded = true;
    finish();
  });
  child.on('error', (err) => {
    spawnError = unavailable(`${kind}: cannot run ${cmd.file} (Debian package ${cmd.pkg}): ${err.message}`, err);
    duplex.destroy(spawnError);
  });
  child.on('close', (code, signal) => {
    exited = { code, signal };
    outEnded = true;
    finish();
  });
  // A child that exits early (bad input) closes its stdin: later writes get
  // EPIPE, which says less than its exit status, reported at 'close'.
  stdin.on('error', () => {});
  return duplex;
}
