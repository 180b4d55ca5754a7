// conmon's stdio channels: the SOCK_SEQPACKET attach socket (output and stdin)
// and the ctl FIFO (resize, log reopen). Wire formats: docs/notes/conmon-runc.md §2.
import { closeSync, constants, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { SeqpacketSocket } from 'node-unix-socket';
import { internal, notFound, unavailable } from '../errdefs/index.ts';

export interface AttachPacket {
  /** 1 = stdout, 2 = stderr (Docker's stream numbers). */
  stream: 1 | 2;
  data: Buffer;
}

/** conmon reads at most this much stdin per packet and drops the rest. */
export const STDIN_PACKET_MAX = 32 * 1024;
/** 1 stream byte + conmon's 8192-byte read buffer; a smaller buffer truncates silently. */
const RECV_BUFFER = 64 * 1024;
/** sockaddr_un.sun_path holds 108 bytes with the NUL. */
const SUN_PATH_MAX = 107;

export interface AttachOptions {
  /** Bytes of output kept for a slow `packets()` reader before older packets are
   * dropped: conmon must never block on us (it would stop logging). */
  maxQueuedBytes?: number;
}

/** One client connection to conmon's attach socket. Output is read as fast as
 * it arrives, always, whatever the consumer does. */
export class AttachConnection {
  private readonly sock: SeqpacketSocket;
  private readonly queue: AttachPacket[] = [];
  private queuedBytes = 0;
  private readonly maxQueued: number;
  private ended = false;
  private error: Error | undefined;
  private waiter: (() => void) | undefined;
  private listeners: Array<(p: AttachPacket) => void> = [];
  /** Output packets dropped because the reader fell behind. */
  dropped = 0;
  readonly closed: Promise<void>;

  private constructor(sock: SeqpacketSocket, opts: AttachOptions) {
    this.sock = sock;
    this.maxQueued = opts.maxQueuedBytes ?? 16 * 1024 * 1024;
    sock.setInternalReadBufferSize(RECV_BUFFER);
    sock.on('data', (buf: Buffer) => this.onPacket(buf));
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.ended = true;
        this.wake();
        resolve();
      };
      // conmon closes every client when the container exits; nothing more can be written.
      sock.on('end', () => {
        done();
        sock.destroy();
      });
      sock.on('close', done);
      sock.on('error', (e: Error) => {
        this.error = e;
        done();
      });
    });
  }

  /** Connects to an attach socket (`<bundle>/attach`); works for paths longer than sun_path. */
  static connect(path: string, opts: AttachOptions = {}): Promise<AttachConnection> {
    return new Promise((resolve, reject) => {
      let dirFd: number | undefined;
      let target = path;
      try {
        if (Buffer.byteLength(path) > SUN_PATH_MAX) {
          // Reach the socket through our fd of its directory, as conmon itself binds it.
          dirFd = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
          target = `/proc/self/fd/${dirFd}/${basename(path)}`;
        }
        const sock = new SeqpacketSocket();
        const fail = (e: Error) => {
          if (dirFd !== undefined) closeSync(dirFd);
          reject(connectError(path, e));
        };
        sock.once('error', fail);
        sock.connect(target, () => {
          sock.off('error', fail);
          if (dirFd !== undefined) closeSync(dirFd);
          resolve(new AttachConnection(sock, opts));
        });
      } catch (e) {
        if (dirFd !== undefined) closeSync(dirFd);
        reject(connectError(path, e));
      }
    });
  }

  private onPacket(buf: Buffer): void {
    if (buf.length === 0) return;
    const kind = buf[0];
    // 2 = stdout, 3 = stderr; anything else is not output.
    if (kind !== 2 && kind !== 3) return;
    const packet: AttachPacket = { stream: kind === 2 ? 1 : 2, data: buf.subarray(1) };
    if (this.listeners.length > 0) {
      for (const l of this.listeners) l(packet);
      return;
    }
    if (this.queuedBytes + packet.data.length > this.maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push(packet);
    this.queuedBytes += packet.data.length;
    this.wake();
  }

  /** Calls `fn` for every output packet, synchronously as it arrives (packets
   * queued so far first). Use this or packets(), not both. */
  onData(fn: (p: AttachPacket) => void): void {
    this.listeners.push(fn);
    for (const p of this.queue.splice(0)) fn(p);
    this.queuedBytes = 0;
  }

  /** Output packets (queued from the moment of connecting) until conmon closes
   * the socket, which it does when the container exits, or close(). */
  async *packets(): AsyncGenerator<AttachPacket> {
    for (;;) {
      const p = this.queue.shift();
      if (p) {
        this.queuedBytes -= p.data.length;
        yield p;
        continue;
      }
      if (this.ended) break;
      await new Promise<void>((r) => (this.waiter = r));
    }
    if (this.error) throw internal(`attach socket: ${this.error.message}`, this.error);
  }

  /** Sends stdin in packets conmon reads whole. */
  async write(data: Buffer | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; off += STDIN_PACKET_MAX) {
      const len = Math.min(STDIN_PACKET_MAX, buf.length - off);
      await new Promise<void>((resolve, reject) => {
        try {
          this.sock.write(buf, off, len, () => resolve());
        } catch (e) {
          reject(internal(`attach socket write: ${(e as Error).message}`, e));
        }
      });
    }
  }

  /** Half-close: conmon then closes the container's stdin (unless
   * --leave-stdin-open); output keeps flowing. */
  closeStdin(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.sock.end(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  close(): void {
    this.ended = true;
    this.sock.destroy();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

function connectError(path: string, e: unknown): Error {
  const msg = (e as Error).message ?? String(e);
  if (/ENOENT|No such file/i.test(msg)) return notFound(`attach socket ${path} does not exist`, e);
  if (/ECONNREFUSED|Connection refused/i.test(msg)) return unavailable(`attach socket ${path}: conmon is not listening`, e);
  return internal(`connect ${path}: ${msg}`, e);
}

// --- ctl FIFO -------------------------------------------------------------

const lastWrite = new Map<string, Promise<void>>();
/** conmon 2.1.6 mangles several messages read at once: space writes to one FIFO. */
const CTL_GAP_MS = 15;

/** Writes one `TYPE A B\n` message to a ctl (or winsz) FIFO. Non-blocking open:
 * without conmon reading it, this fails (ENXIO) instead of hanging forever. */
export async function writeCtl(path: string, message: string): Promise<void> {
  const prev = lastWrite.get(path) ?? Promise.resolve();
  const mine = prev.then(() => writeOnce(path, message));
  // The next writer waits for this one plus a gap; errors don't break the chain.
  const gate = mine.then(
    () => new Promise<void>((r) => setTimeout(r, CTL_GAP_MS)),
    () => {},
  );
  lastWrite.set(path, gate);
  void gate.then(() => {
    if (lastWrite.get(path) === gate) lastWrite.delete(path);
  });
  return mine;
}

async function writeOnce(path: string, message: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') throw unavailable(`${path}: conmon is not running`, e);
    if (code === 'ENOENT') throw notFound(`${path} does not exist`, e);
    throw internal(`open ${path}: ${(e as Error).message}`, e);
  }
  try {
    await fh.write(message);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') throw unavailable(`${path}: conmon is not running`, e);
    throw internal(`write ${path}: ${(e as Error).message}`, e);
  } finally {
    await fh.close();
  }
}

/** Sets the terminal size of a tty container or exec (ctl FIFO type 1). */
export function resizeTerminal(ctlPath: string, height: number, width: number): Promise<void> {
  return writeCtl(ctlPath, `1 ${Math.trunc(height)} ${Math.trunc(width)}\n`);
}

/** Asks conmon to reopen its log file after a rotation (ctl FIFO type 2). */
export function reopenLog(ctlPath: string): Promise<void> {
  return writeCtl(ctlPath, '2 0 0\n');
}
