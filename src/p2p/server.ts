// The p2p HTTP endpoints: the blob server (committed blobs of the content
// store, read from disk with Range, and the layers a pull is downloading, as
// far as they are on disk) and the tracker (who holds what). Both ask for the
// shared secret before anything else.
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readGrowing } from '../content/growing.ts';
import type { ContentStore, LiveIngest } from '../content/types.ts';
import { DIGEST_RE } from '../images/oci.ts';
import { messageOf, unavailable } from '../errdefs/index.ts';
import { log } from '../util/log.ts';
import { formatHostPort, type HostPort } from './config.ts';
import type { PartialBlobs } from './partial.ts';
import { checkSecret } from './secret.ts';
import type { P2PStats } from './stats.ts';
import { PeerTable, type Announce } from './tracker.ts';

export const BLOB_PREFIX = '/p2p/v1/blobs/';
export const PEERS_PATH = '/p2p/v1/peers';
export const ANNOUNCE_PATH = '/p2p/v1/announce';
export const JOIN_PATH = '/p2p/v1/join';
const MAX_ANNOUNCE_BYTES = 16 << 20;
/** How long a reader of a partial blob waits for its next bytes before the
 * answer is cut (the reader then goes elsewhere). Above the client's idle
 * timeout, so that normally the reader gives up first. */
export const PARTIAL_WAIT_MS = 15_000;

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

function reply(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** One "bytes=START-[END]" range against a blob of `size` bytes: the range,
 * 'unsatisfiable', or undefined when the header is absent or not one we
 * serve (then the whole blob goes out, as HTTP allows). */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export interface BlobServerOptions {
  /** Blobs being downloaded, served as far as they are written. */
  partials?: PartialBlobs;
  /** See PARTIAL_WAIT_MS. */
  partialWaitMs?: number;
}

export function blobHandler(content: ContentStore, stats: P2PStats, opts: BlobServerOptions = {}): Handler {
  return async (req, res, url) => {
    if (!url.pathname.startsWith(BLOB_PREFIX)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      reply(res, 405, { message: 'method not allowed' });
      return true;
    }
    const digest = decodeURIComponent(url.pathname.slice(BLOB_PREFIX.length));
    if (!DIGEST_RE.test(digest)) {
      reply(res, 400, { message: `invalid digest ${JSON.stringify(digest)}: want sha256: and 64 lowercase hex digits` });
      return true;
    }
    if (await sendCommitted(content, stats, digest, req, res)) return true;
    // A download under way, if a pull shares it; an ingest is otherwise never served.
    const sharing = opts.partials?.get(digest);
    let file: FileHandle | undefined;
    if (sharing) file = await sharing.live.openRead().catch(() => undefined);
    if (!sharing || !file) {
      // Committed between the two looks: the blob is whole now.
      if (!(await sendCommitted(content, stats, digest, req, res))) reply(res, 404, { message: `blob ${digest} not found` });
      return true;
    }
    try {
      const range = parseRange(req.headers.range, sharing.size);
      if (!rangeHeaders(res, req, digest, sharing.size, range)) return true;
      const { start, end } = range ?? { start: 0, end: sharing.size - 1 };
      stats.servedBlobs++;
      await sendGrowing(file, sharing.live, res, start, end, opts.partialWaitMs ?? PARTIAL_WAIT_MS, (n) => (stats.servedBytes += n));
    } catch (err) {
      log.debug('p2p: a partial blob was cut off', { digest, err: messageOf(err) });
      res.destroy();
    } finally {
      await file.close().catch(() => undefined);
    }
    return true;
  };
}

/** Answers from the blobs directory; false when the blob is not there. */
async function sendCommitted(content: ContentStore, stats: P2PStats, digest: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const info = await content.info(digest);
  if (!info) return false;
  const size = info.size;
  const range = parseRange(req.headers.range, size);
  if (!rangeHeaders(res, req, digest, size, range)) return true;
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const file = createReadStream(content.path(digest), { start, end });
  file.once('open', () => {
    res.writeHead(range ? 206 : 200);
    file.pipe(res);
  });
  file.once('end', () => (stats.servedBytes += end - start + 1));
  file.on('error', (err) => {
    // Removed between the stat and the open (GC): the peer tries another.
    if (!res.headersSent) {
      for (const h of ['content-range', 'content-length', 'accept-ranges', 'docker-content-digest']) res.removeHeader(h);
      reply(res, 404, { message: `blob ${digest} not found` });
    } else res.destroy(err);
  });
  res.on('close', () => file.destroy());
  stats.servedBlobs++;
  return true;
}

/** Sets the headers of a blob answer; answers 416, HEAD and empty blobs at
 * once (false: nothing more to send). */
function rangeHeaders(res: ServerResponse, req: IncomingMessage, digest: string, size: number, range: ByteRange | 'unsatisfiable' | undefined): range is ByteRange | undefined {
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': `bytes */${size}` });
    res.end();
    return false;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  res.setHeader('content-type', 'application/octet-stream');
  res.setHeader('content-length', size === 0 ? 0 : end - start + 1);
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('docker-content-digest', digest);
  if (range) res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
  if (req.method === 'HEAD' || size === 0) {
    res.writeHead(range ? 206 : 200);
    res.end();
    return false;
  }
  return true;
}

/** Sends bytes `start`..`end` of a blob that is still being written: what
 * is on disk at once, the rest as the writer adds it. Never reads past what
 * the writer has written. Throws (and the caller cuts the answer) when the
 * writer ends without the bytes, or adds nothing for `waitMs`. */
async function sendGrowing(file: FileHandle, live: LiveIngest, res: ServerResponse, start: number, end: number, waitMs: number, sent: (n: number) => void): Promise<void> {
  res.writeHead(res.hasHeader('content-range') ? 206 : 200);
  // The reader learns at once that the bytes will come, even before there are any.
  res.flushHeaders();
  const gone = () => new Error('the reader went away');
  const caughtUp = async (): Promise<boolean> => {
    if (res.destroyed) throw gone();
    if (live.outcome) throw new Error(`the download ended (${live.outcome}) at byte ${live.written}`);
    const woke = await event(res, 'close', waitMs, live.changed());
    if (woke !== 'written') throw woke === 'close' ? gone() : new Error(`no new bytes for ${waitMs} ms`);
    return true;
  };
  for await (const chunk of readGrowing(live, file, start, end + 1, caughtUp)) {
    if (res.destroyed) throw gone();
    sent(chunk.length);
    if (!res.write(chunk) && (await event(res, 'drain', waitMs)) !== 'drain') throw new Error(`the reader took nothing for ${waitMs} ms`);
  }
  res.end();
}

/** Resolves with `name`, 'close' (the answer closed), 'written' (when
 * `written` resolves) or 'timeout' (after `ms`), whichever comes first, and
 * leaves no listener or timer behind: a reader that keeps up with the writer
 * waits once per write. */
function event(res: ServerResponse, name: string, ms: number, written?: Promise<void>): Promise<string> {
  return new Promise((resolve) => {
    let over = false;
    const on = (what: string) => () => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      res.off(name, onName);
      res.off('close', onClose);
      resolve(what);
    };
    const onName = on(name);
    const onClose = on('close');
    const timer = setTimeout(on('timeout'), ms);
    res.once(name, onName);
    res.once('close', onClose);
    void written?.then(on('written'));
  });
}

export function trackerHandler(table: PeerTable): Handler {
  return async (req, res, url) => {
    if (url.pathname === PEERS_PATH) {
      if (req.method !== 'GET') return reply(res, 405, { message: 'method not allowed' }), true;
      const digest = url.searchParams.get('digest') ?? '';
      if (!DIGEST_RE.test(digest)) return reply(res, 400, { message: `invalid digest ${JSON.stringify(digest)}` }), true;
      const self = url.searchParams.get('self') ?? undefined;
      reply(res, 200, table.holders(digest, self));
      return true;
    }
    if (url.pathname === JOIN_PATH) {
      if (req.method !== 'POST') return reply(res, 405, { message: 'method not allowed' }), true;
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, 64 << 10)).toString('utf8'));
      } catch (err) {
        return reply(res, 400, { message: `bad join: ${messageOf(err)}` }), true;
      }
      const b = body as { peer?: unknown; digest?: unknown } | null;
      const problem = checkPeer(b?.peer) ?? (typeof b?.digest === 'string' && DIGEST_RE.test(b.digest) ? undefined : '"digest" must be a sha256 digest');
      if (problem) return reply(res, 400, { message: `bad join: ${problem}` }), true;
      reply(res, 200, table.join(b!.peer as string, b!.digest as string));
      return true;
    }
    if (url.pathname === ANNOUNCE_PATH) {
      if (req.method !== 'POST') return reply(res, 405, { message: 'method not allowed' }), true;
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, MAX_ANNOUNCE_BYTES)).toString('utf8'));
      } catch (err) {
        return reply(res, 400, { message: `bad announce: ${messageOf(err)}` }), true;
      }
      const problem = checkAnnounce(body);
      if (problem) return reply(res, 400, { message: `bad announce: ${problem}` }), true;
      table.announce(body as Announce);
      res.writeHead(204);
      res.end();
      return true;
    }
    return false;
  };
}

function checkAnnounce(b: unknown): string | undefined {
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return 'expected a JSON object';
  const a = b as Record<string, unknown>;
  const bad = checkPeer(a.peer);
  if (bad) return bad;
  for (const k of ['digests', 'partial', 'withdraw']) {
    const v = a[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || !v.every((d) => typeof d === 'string' && DIGEST_RE.test(d))) return `"${k}" must be a list of sha256 digests`;
  }
  if (a.replace !== undefined && typeof a.replace !== 'boolean') return '"replace" must be true or false';
  return undefined;
}

function checkPeer(peer: unknown): string | undefined {
  if (typeof peer !== 'string') return '"peer" must be a URL';
  try {
    const u = new URL(peer);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return '"peer" must be an http(s) URL';
  } catch {
    return '"peer" must be a URL';
  }
  return undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new Error(`body larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export interface P2PServer {
  readonly addr: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `handlers` on `at`, each request first checked for the secret. */
export async function serve(at: HostPort, secret: string, handlers: Handler[], what: string): Promise<P2PServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://p2p');
    if (!checkSecret(req.headers.authorization, secret)) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer realm="joey-p2p"');
      reply(res, 401, { message: 'unauthorized: the p2p secret is missing or wrong' });
      return;
    }
    void (async () => {
      for (const h of handlers) if (await h(req, res, url)) return;
      reply(res, 404, { message: `no such endpoint ${url.pathname}` });
    })().catch((err) => {
      log.warn('p2p request failed', { what, path: url.pathname, err: messageOf(err) });
      if (!res.headersSent) reply(res, 500, { message: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(unavailable(`cannot listen on ${formatHostPort(at)} for the p2p ${what}: ${messageOf(err)}`, err)));
    server.listen(at.port, at.host, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : at.port;
  return {
    addr: formatHostPort({ host: at.host, port }),
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
