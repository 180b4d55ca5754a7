// An HTTP proxy in front of a test registry: it counts what the registry
// served, can hold blob downloads at a byte budget (to kill a pull half-way,
// deterministically), and can replace chosen responses with hostile ones that
// the real registry would refuse to store. It can also cap the bandwidth of
// all blob responses together (bench/p2p: a registry whose uplink a fleet
// shares).
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  /** Body bytes sent to the client. */
  bytes: number;
  range?: string;
  overridden: boolean;
}

export interface Override {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RegistryProxy {
  url: string;
  host: string;
  port: number;
  /** Every finished request, oldest first. */
  requests: ProxiedRequest[];
  /** Blob body bytes sent so far (live, including unfinished responses). */
  blobBytes(): number;
  /** GETs of each blob (by digest) that the registry answered with 200 or 206. */
  blobGets(): Map<string, number>;
  /** Forgets the counts. */
  reset(): void;
  /** Serves `response` instead of the registry's for matching requests (a path, or a test on method and path). */
  override(match: string | ((method: string, path: string) => boolean), response: Override): void;
  clearOverrides(): void;
  /** Holds every blob download once `totalBytes` blob bytes have been sent
   * (in all responses together). With `only`, just the downloads of those
   * blobs are held, once they together have sent `totalBytes`. */
  stallAt(totalBytes: number, only?: string[]): void;
  /** Resolves once a download is held at the stall point. */
  stalled(): Promise<void>;
  /** Lets held downloads go on and removes the stall point. */
  release(): void;
  stop(): Promise<void>;
}

const BLOB_PATH = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/;

/** Starts a proxy on 127.0.0.1 forwarding to `target` (http://HOST:PORT). */
/** `mbit`: a cap in megabits per second over all blob responses (one token
 * bucket shared by every response); none by default. */
export async function startProxy(target: string, opts: { mbit?: number } = {}): Promise<RegistryProxy> {
  const upstream = new URL(target);
  const bytesPerMs = ((opts.mbit ?? 0) * 1e6) / 8 / 1000;
  let linkFree = 0; // when the capped link is free again (performance.now ms)
  const throttle = async (n: number): Promise<void> => {
    if (bytesPerMs <= 0) return;
    const now = performance.now();
    linkFree = Math.max(now, linkFree) + n / bytesPerMs;
    if (linkFree - now > 1) await sleep(linkFree - now);
  };
  const requests: ProxiedRequest[] = [];
  const overrides: { match: (m: string, p: string) => boolean; response: Override }[] = [];
  let blobBytes = 0;
  let stallAt: number | undefined;
  let stallOnly: Set<string> | undefined;
  /** Bytes of the downloads the stall point counts. */
  let gatedBytes = 0;
  let waiters: (() => void)[] = [];
  let onStall: (() => void)[] = [];
  let isStalled = false;
  const sockets = new Set<Socket>();

  const gate = async (want: number): Promise<number> => {
    // How many of `want` bytes may go now; waits while the budget is spent.
    for (;;) {
      if (stallAt === undefined) return want;
      const left = stallAt - gatedBytes;
      if (left > 0) return Math.min(left, want);
      isStalled = true;
      onStall.splice(0).forEach((f) => f());
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://proxy');
    const record: ProxiedRequest = { method, path: url.pathname, status: 0, bytes: 0, overridden: false };
    if (req.headers.range) record.range = req.headers.range;
    const ov = overrides.find((o) => o.match(method, url.pathname));
    if (ov) {
      record.overridden = true;
      req.resume();
      const body = ov.response.body === undefined ? Buffer.alloc(0) : Buffer.from(ov.response.body);
      record.status = ov.response.status ?? 200;
      record.bytes = method === 'HEAD' ? 0 : body.length;
      res.writeHead(record.status, { 'content-length': String(body.length), ...ov.response.headers });
      res.end(method === 'HEAD' ? undefined : body);
      requests.push(record);
      return;
    }
    const blobMatch = method === 'GET' ? BLOB_PATH.exec(url.pathname) : null;
    const isBlobGet = blobMatch !== null;
    const gated = isBlobGet && (stallOnly === undefined || stallOnly.has(blobMatch[1]!));
    const up = request({
      host: upstream.hostname,
      port: upstream.port,
      method,
      path: req.url,
      headers: req.headers, // Host stays the proxy's, so the registry's Location headers point back here
    }, (ur) => {
      record.status = ur.statusCode ?? 0;
      res.writeHead(record.status, ur.rawHeaders);
      void (async () => {
        try {
          for await (const chunk of ur as AsyncIterable<Buffer>) {
            let off = 0;
            while (off < chunk.length) {
              const n = gated ? await gate(chunk.length - off) : chunk.length - off;
              const part = chunk.subarray(off, off + n);
              off += n;
              if (isBlobGet) {
                await throttle(n);
                blobBytes += n;
              }
              if (gated) gatedBytes += n;
              record.bytes += n;
              if (!res.write(part)) await new Promise((r) => res.once('drain', r));
              if (res.destroyed) throw new Error('client went away');
            }
          }
          res.end();
        } catch {
          res.destroy();
          ur.destroy();
        } finally {
          requests.push(record);
        }
      })();
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  };

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const release = (): void => {
    stallAt = undefined;
    stallOnly = undefined;
    isStalled = false;
    waiters.splice(0).forEach((f) => f());
  };

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    blobBytes: () => blobBytes,
    blobGets: () => {
      const counts = new Map<string, number>();
      for (const r of requests) {
        const m = BLOB_PATH.exec(r.path);
        if (m && r.method === 'GET' && (r.status === 200 || r.status === 206) && !r.overridden) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
      }
      return counts;
    },
    reset: () => {
      requests.length = 0;
      blobBytes = 0;
      gatedBytes = 0;
    },
    override: (match, response) => {
      overrides.push({ match: typeof match === 'string' ? (_m, p) => p === match : match, response });
    },
    clearOverrides: () => {
      overrides.length = 0;
    },
    stallAt: (n, only) => {
      stallAt = n;
      stallOnly = only ? new Set(only) : undefined;
      gatedBytes = 0;
      isStalled = false;
      waiters.splice(0).forEach((f) => f());
    },
    stalled: () => (isStalled ? Promise.resolve() : new Promise<void>((resolve) => onStall.push(resolve))),
    release,
    stop: () => new Promise<void>((resolve) => {
      release();
      onStall = [];
      waiters = [];
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
