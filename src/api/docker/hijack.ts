// Streams both ways on one connection, as attach and exec start use them:
// taking the connection over (HTTP/1.1 Upgrade → "101 UPGRADED", then raw
// bytes), Docker's multiplexed framing, and the detach keys on stdin.
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { AttachSession } from '../../engine/containers/types.ts';
import { invalid } from '../../errdefs/index.ts';
import type { RequestContext } from './router.ts';
import { compareApiVersions } from './version.ts';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';
const HEAD_PAUSE_MS = 5;

/** The Content-Type of a process's output. Before API 1.42 dockerd called
 * even the multiplexed stream "raw"; clients of that age expect it. */
export function streamMediaType(tty: boolean, apiVersion: string): string {
  return !tty && compareApiVersions(apiVersion, '1.42') >= 0 ? MULTIPLEXED_STREAM : RAW_STREAM;
}

/** One frame of the multiplexed stream: the stream (0 stdin, 1 stdout,
 * 2 stderr), three zero bytes, the payload length as a big-endian uint32,
 * then the payload. */
export function muxFrame(stream: 0 | 1 | 2, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(8 + data.length);
  frame[0] = stream;
  frame[1] = frame[2] = frame[3] = 0;
  frame.writeUInt32BE(data.length, 4);
  data.copy(frame, 8);
  return frame;
}

// "ctrl-@" is 0, "ctrl-a" 1, … "ctrl-_" 31, as Docker's term.ToBytes names them.
const CTRL_KEYS = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/** The byte sequence of a detach-keys spec such as "ctrl-p,ctrl-q" or
 * "ctrl-a,x"; an empty spec is the default. */
export function parseDetachKeys(spec: string | undefined): Buffer {
  const text = spec === undefined || spec === '' ? DEFAULT_DETACH_KEYS : spec;
  const codes: number[] = [];
  for (const key of text.split(',')) {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    const idx = ctrl ? CTRL_KEYS.indexOf(ctrl[1]!.toLowerCase()) : -1;
    if (idx >= 0) codes.push(idx);
    else if (key.length === 1 && key.charCodeAt(0) < 0x80) codes.push(key.charCodeAt(0));
    else throw invalid(`Invalid detach keys (${text}) provided: unknown key ${JSON.stringify(key)}`);
  }
  return Buffer.from(codes);
}

/** Watches stdin for the detach keys. Bytes that may begin the sequence are
 * held back until it is clear whether they do; on a mismatch they pass on. */
export class DetachWatch {
  private matched = 0;
  constructor(private readonly keys: Buffer) {}

  /** The bytes to pass to the process, and whether the keys were typed
   * (bytes after them are dropped, as the session ends). */
  feed(chunk: Buffer): { pass: Buffer; detached: boolean } {
    if (this.matched === 0 && !chunk.includes(this.keys[0]!)) return { pass: chunk, detached: false };
    const out = Buffer.allocUnsafe(chunk.length + this.matched);
    let n = 0;
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        if (++this.matched === this.keys.length) return { pass: out.subarray(0, n), detached: true };
        continue;
      }
      // Not the sequence after all: release what was held, then see
      // whether this byte starts it afresh.
      n += this.keys.copy(out, n, 0, this.matched);
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out[n++] = b;
    }
    return { pass: out.subarray(0, n), detached: false };
  }

  /** At the end of stdin: what was held back. */
  flush(): Buffer {
    const held = this.keys.subarray(0, this.matched);
    this.matched = 0;
    return Buffer.from(held);
  }
}

/** A connection taken over for a stream both ways. */
export interface HijackedConn {
  /** The client's bytes (the process's stdin). */
  readonly input: Readable;
  /** Resolves when the connection can take more (or has closed). */
  write(chunk: Buffer): Promise<void>;
  /** Ends our side; the client may keep sending until it closes. */
  end(): void;
  destroy(): void;
}

/** Answers `101 UPGRADED` when the client asked to upgrade, else `200` with
 * the stream as the response body and the request body as input (older
 * clients). The 200 body is neither chunked nor sized but ends with the
 * connection, as dockerd sends it: some clients read the socket under it.
 * Errors must be thrown before this: after it the status is sent. */
export function hijack(ctx: RequestContext, contentType: string): HijackedConn {
  const { req, res, upgrade } = ctx;
  if (upgrade) {
    res.writeHead(101, 'UPGRADED', { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' });
    res.flushHeaders();
    // docker-py reads the 101 through a buffered reader and then the socket
    // under it: bytes that arrive together with the head are lost to it.
    // A moment's pause lets the head arrive alone.
    let ready: Promise<void> | undefined = new Promise((r) => setTimeout(r, HEAD_PAUSE_MS));
    const write = async (c: Buffer): Promise<void> => {
      if (ready) await ready;
      ready = undefined;
      return writeTo(upgrade, c);
    };
    return { input: upgrade, write, end: () => upgrade.end(), destroy: () => upgrade.destroy() };
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', contentType);
  res.useChunkedEncodingByDefault = false;
  res.flushHeaders();
  return { input: req, write: (c) => writeTo(res, c), end: () => res.end(), destroy: () => res.destroy() };
}

function writeTo(w: Writable | ServerResponse, chunk: Buffer): Promise<void> {
  if (w.destroyed || w.writableEnded || w.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

/** Joins a session to the connection: output out (framed unless tty),
 * stdin in when asked, until the output ends, the client detaches or goes
 * away, or the daemon shuts down. The process is never touched. */
export async function streamSession(ctx: RequestContext, session: AttachSession, opts: { stdin: boolean; detachKeys: Buffer }): Promise<void> {
  const conn = hijack(ctx, streamMediaType(session.tty, ctx.apiVersion));
  const stop = (): void => session.close();
  ctx.signal.addEventListener('abort', stop, { once: true });
  if (ctx.signal.aborted) stop();
  pumpStdin(conn.input, session, opts.stdin, session.tty ? opts.detachKeys : undefined);
  try {
    for await (const { stream, data } of session.output) {
      await conn.write(session.tty ? data : muxFrame(stream, data));
    }
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    session.close();
    if (ctx.signal.aborted) conn.destroy();
    else conn.end();
  }
}

/** Detach keys are watched only with a tty, as dockerd does: a binary stdin
 * must reach the process unchanged. */
function pumpStdin(input: Readable, session: AttachSession, wanted: boolean, detachKeys: Buffer | undefined): void {
  const write = wanted && session.writeStdin ? session.writeStdin.bind(session) : undefined;
  if (!write) {
    input.resume(); // read and drop, so that the client is never blocked
    return;
  }
  const watch = detachKeys && detachKeys.length > 0 ? new DetachWatch(detachKeys) : undefined;
  const onData = (chunk: Buffer): void => {
    if (!watch) return write(chunk);
    const { pass, detached } = watch.feed(chunk);
    if (pass.length > 0) write(pass);
    if (detached) {
      input.off('data', onData);
      input.off('end', onEnd);
      input.resume();
      session.close();
    }
  };
  // The client half-closed: it has no more input.
  const onEnd = (): void => {
    const held = watch?.flush();
    if (held && held.length > 0) write(held);
    session.closeStdin?.();
  };
  input.on('data', onData);
  input.on('end', onEnd);
  input.resume();
}

const MAX_UPGRADE_BODY = 1024 * 1024;

/** For node:http's 'upgrade' event, which hands over the socket with the
 * request already ended: a request whose body (by Content-Length) is read
 * from `head` and the socket. Bytes after the body are put back on the
 * socket, as the start of the client's stream. */
export async function readUpgradeRequest(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<IncomingMessage> {
  if (req.headers['transfer-encoding'] !== undefined) {
    throw invalid('a request that asks to upgrade the connection must send its body with Content-Length, not chunked');
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > MAX_UPGRADE_BODY) throw invalid(`request body larger than ${MAX_UPGRADE_BODY} bytes`);
  let buf = head;
  while (buf.length < length) {
    const chunk = await nextChunk(socket);
    if (chunk === null) throw invalid('connection closed before the request body was complete');
    buf = Buffer.concat([buf, chunk]);
  }
  if (buf.length > length) socket.unshift(buf.subarray(length));
  const body = new IncomingMessage(socket as Socket);
  body.httpVersion = req.httpVersion;
  body.httpVersionMajor = req.httpVersionMajor;
  body.httpVersionMinor = req.httpVersionMinor;
  body.method = req.method;
  body.url = req.url;
  body.headers = req.headers;
  body.rawHeaders = req.rawHeaders;
  body.complete = true;
  if (length > 0) body.push(buf.subarray(0, length));
  body.push(null);
  return body;
}

function nextChunk(s: Duplex): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const finish = (v: Buffer | null, err?: Error): void => {
      s.off('readable', onReadable);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', finishErr);
      if (err) reject(err);
      else resolve(v);
    };
    const onReadable = (): void => {
      const c = s.read() as Buffer | null;
      if (c !== null) finish(c);
    };
    const onEnd = (): void => finish(null);
    const finishErr = (err: Error): void => finish(null, err);
    s.on('readable', onReadable);
    s.on('end', onEnd);
    s.on('close', onEnd);
    s.on('error', finishErr);
  });
}
