// The p2p HTTP endpoints: the blob server (committed blobs of the content
// store, read from disk with Range) and the tracker (who holds what). Both
// ask for the shared secret before anything else.
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ContentStore } from '../content/types.ts';
import { DIGEST_RE } from '../images/oci.ts';
import { messageOf, unavailable } from '../errdefs/index.ts';
import { log } from '../util/log.ts';
import { formatHostPort, type HostPort } from './config.ts';
import { checkSecret } from './secret.ts';
import type { P2PStats } from './stats.ts';
import { PeerTable, type Announce } from './tracker.ts';

export const BLOB_PREFIX = '/p2p/v1/blobs/';
export const PEERS_PATH = '/p2p/v1/peers';
export const ANNOUNCE_PATH = '/p2p/v1/announce';
const MAX_ANNOUNCE_BYTES = 16 << 20;

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

export function blobHandler(content: ContentStore, stats: P2PStats): Handler {
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
    // Only the blobs directory: an ingest (a partial download) has no path here.
    const info = await content.info(digest);
    if (!info) {
      reply(res, 404, { message: `blob ${digest} not found` });
      return true;
    }
    const size = info.size;
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return true;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': size === 0 ? 0 : end - start + 1,
      'accept-ranges': 'bytes',
      'docker-content-digest': digest,
    };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    if (req.method === 'HEAD' || size === 0) {
      res.writeHead(range ? 206 : 200, headers);
      res.end();
      return true;
    }
    const file = createReadStream(content.path(digest), { start, end });
    file.once('open', () => {
      res.writeHead(range ? 206 : 200, headers);
      file.pipe(res);
    });
    file.once('end', () => (stats.servedBytes += end - start + 1));
    file.on('error', (err) => {
      // Removed between the stat and the open (GC): the peer tries another.
      if (!res.headersSent) reply(res, 404, { message: `blob ${digest} not found` });
      else res.destroy(err);
    });
    res.on('close', () => file.destroy());
    stats.servedBlobs++;
    return true;
  };
}

export function trackerHandler(table: PeerTable): Handler {
  return async (req, res, url) => {
    if (url.pathname === PEERS_PATH) {
      if (req.method !== 'GET') return reply(res, 405, { message: 'method not allowed' }), true;
      const digest = url.searchParams.get('digest') ?? '';
      if (!DIGEST_RE.test(digest)) return reply(res, 400, { message: `invalid digest ${JSON.stringify(digest)}` }), true;
      const self = url.searchParams.get('self') ?? undefined;
      reply(res, 200, { peers: table.peers(digest, self) });
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
  if (typeof a.peer !== 'string') return '"peer" must be a URL';
  try {
    const u = new URL(a.peer);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return '"peer" must be an http(s) URL';
  } catch {
    return '"peer" must be a URL';
  }
  for (const k of ['digests', 'withdraw']) {
    const v = a[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || !v.every((d) => typeof d === 'string' && DIGEST_RE.test(d))) return `"${k}" must be a list of sha256 digests`;
  }
  if (a.replace !== undefined && typeof a.replace !== 'boolean') return '"replace" must be true or false';
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
