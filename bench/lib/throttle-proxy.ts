// An HTTP proxy in front of the bench registry that counts the blob bytes it
// serves and can cap its total bandwidth (one token bucket shared by every
// response), to stand for a registry whose uplink a fleet shares.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrottleProxy {
  host: string;
  /** Blob body bytes served since the last reset. */
  blobBytes(): number;
  /** Blob GETs answered since the last reset. */
  blobGets(): number;
  reset(): void;
  stop(): Promise<void>;
}

const BLOB_PATH = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/;

/** `mbit`: the cap in megabits per second over all responses; 0 for none. */
export async function startThrottleProxy(target: string, mbit: number): Promise<ThrottleProxy> {
  const upstream = new URL(`http://${target}`);
  const bytesPerMs = (mbit * 1e6) / 8 / 1000;
  let blobBytes = 0;
  let blobGets = 0;
  let next = 0; // when the link is free again (ms, performance.now)
  const sockets = new Set<Socket>();

  const take = async (n: number) => {
    if (bytesPerMs <= 0) return;
    const now = performance.now();
    const start = Math.max(now, next);
    next = start + n / bytesPerMs;
    const wait = next - now;
    if (wait > 1) await sleep(wait);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const isBlob = req.method === 'GET' && BLOB_PATH.test(new URL(req.url ?? '/', 'http://x').pathname);
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.rawHeaders);
      if (isBlob && (ur.statusCode === 200 || ur.statusCode === 206)) blobGets++;
      void (async () => {
        try {
          for await (const chunk of ur as AsyncIterable<Buffer>) {
            if (isBlob) {
              await take(chunk.length);
              blobBytes += chunk.length;
            }
            if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
          }
          res.end();
        } catch {
          res.destroy();
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
  return {
    host: `127.0.0.1:${port}`,
    blobBytes: () => blobBytes,
    blobGets: () => blobGets,
    reset: () => {
      blobBytes = 0;
      blobGets = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
